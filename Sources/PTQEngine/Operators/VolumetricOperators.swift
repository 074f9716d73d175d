/// Conv, ConvTranspose, MaxPool and AveragePool over three spatial axes (N×C×D×H×W: video and
/// volumetric CNNs), built from the 2-D operators along the depth axis so the fast 2-D kernels do
/// the work:
///
/// - Conv: y[n,:,d] = Σ_k conv2d(x[n,:,d·s − p + k·δ], w[:,:,k]) + b over the taps k whose input
///   depth exists (the rest read zero padding), one batched 2-D Conv per depth tap.
/// - ConvTranspose: input depth i adds convTranspose2d(x[n,:,i], w[:,:,k]) into output depth
///   i·s − p + k·δ when that exists; output size and pads per axis as ONNX defines them.
/// - MaxPool: the 2-D pool of every depth plane, then the largest over the depth window's planes
///   that exist (padding never wins a maximum).
/// - AveragePool: the 2-D average of every depth plane, then over the depth window: the height ×
///   width count is the same for each plane, so the 3-D mean is the sum of the plane means divided
///   by the depth count (planes that exist, or with count_include_pad the window clipped to the
///   padded extent, as ONNX Runtime counts).
enum VolumetricOperators {
    /// The 2-D node for one depth plane: the attributes of the height and width axes, pads explicit.
    static func planeNode(_ node: Node, strides: [Int], dilations: [Int], pads: [Int], extra: [String: Attribute] = [:]) -> Node {
        var attributes: [String: Attribute] = [
            "strides": .ints(Array(strides.suffix(2))), "dilations": .ints(Array(dilations.suffix(2))),
            "pads": .ints([pads[1], pads[2], pads[4], pads[5]]),
        ]
        attributes.merge(extra) { _, new in new }
        return Node(name: node.name, opType: node.opType, inputs: node.inputs, outputs: node.outputs, attributes: attributes)
    }

    static func conv(_ node: Node, _ inputs: [Tensor?], activation: FusedActivation) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node), w = try OperatorSupport.required(inputs, 1, node)
        let b = OperatorSupport.optional(inputs, 2)
        guard w.rank == 5 else { throw OperatorSupport.fail(node, "a 3-D Conv needs a 5-D weight; got \(describeShape(w.shape))") }
        let attributes = try SpatialAttributes(node, rank: 3)
        let kernel = Array(w.shape[2...])
        if let declared = attributes.kernel, declared != kernel {
            throw OperatorSupport.fail(node, "kernel_shape \(declared) does not match weight \(describeShape(w.shape))")
        }
        let pads = attributes.resolvedPads(sizes: Array(x.shape[2...]), kernel: kernel)
        let (batch, depth, stride, dilation) = (x.shape[0], x.shape[2], attributes.strides[0], attributes.dilations[0])
        let outDepth = (depth + pads[0] + pads[3] - dilation * (kernel[0] - 1) - 1) / stride + 1
        try SpatialAttributes.checkedOutputs(node, Array(x.shape[2...]), outputs: [outDepth, 1, 1])
        let plane = planeNode(node, strides: attributes.strides, dilations: attributes.dilations, pads: pads,
                              extra: ["group": .int(attributes.group)])
        var accumulated: [Float] = []
        var planeShape: [Int] = []
        for tap in 0..<kernel[0] {
            let pairs = (0..<batch).flatMap { n in (0..<outDepth).map { (n, $0, $0 * stride - pads[0] + tap * dilation) } }
            let present = pairs.filter { (0..<depth).contains($0.2) }
            if present.isEmpty { continue }
            let planes = gatherPlanes(x, present.map { ($0.0, $0.2) })
            let y = try ConvolutionOperators.conv(plane, [planes, depthSlice(w, tap), nil], activation: .none, winograd: nil)
            if accumulated.isEmpty {
                planeShape = Array(y.shape.dropFirst())
                guard TensorLimits.elementCount([batch, outDepth] + planeShape) != nil else {
                    throw OperatorSupport.fail(node, "output would hold more than \(TensorLimits.maximumElements) elements")
                }
                accumulated = [Float](repeating: 0, count: batch * outDepth * planeShape.reduce(1, *))
            }
            let size = planeShape.reduce(1, *)
            for (index, pair) in present.enumerated() {
                let target = (pair.0 * outDepth + pair.1) * size
                for offset in 0..<size { accumulated[target + offset] += y.floats[index * size + offset] }
            }
        }
        if accumulated.isEmpty {  // every tap reads padding: the output is the bias alone
            // A zero plane stands in for the input, which may hold no sample at all (batch or depth 0).
            let zeros = Tensor(zeros: [1, x.shape[1], x.shape[3], x.shape[4]])
            let y = try ConvolutionOperators.conv(plane, [zeros, depthSlice(w, 0), nil], activation: .none, winograd: nil)
            planeShape = Array(y.shape.dropFirst())
            accumulated = [Float](repeating: 0, count: batch * outDepth * planeShape.reduce(1, *))
        }
        var output = depthToChannelMajor(accumulated, batch: batch, depth: outDepth, planeShape: planeShape)
        if let b {
            guard b.count == planeShape[0] else { throw OperatorSupport.fail(node, "bias has \(b.count) values; expected \(planeShape[0])") }
            let block = outDepth * planeShape[1] * planeShape[2]
            for index in 0..<output.count { output[index] += b.floats[(index / block) % planeShape[0]] }
        }
        output.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        return Tensor(shape: [batch, planeShape[0], outDepth, planeShape[1], planeShape[2]], floats: output)
    }

    static func pool(_ node: Node, _ inputs: [Tensor?], maximum: Bool) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let attributes = try SpatialAttributes(node, rank: 3)
        guard let kernel = attributes.kernel else {
            throw AttributeReading.fail(node, "kernel_shape", "is missing; a pool needs its window size")
        }
        let ceil = try AttributeReading.int(node, "ceil_mode") ?? 0 != 0
        let includePad = try AttributeReading.int(node, "count_include_pad") ?? 0 != 0
        let pads = attributes.resolvedPads(sizes: Array(x.shape[2...]), kernel: kernel)
        let (batch, channels, depth) = (x.shape[0], x.shape[1], x.shape[2])
        let (stride, dilation) = (attributes.strides[0], maximum ? attributes.dilations[0] : 1)
        let outDepth = PoolingOperators.outputSize(input: depth, kernel: kernel[0], stride: stride, dilation: dilation,
                                                   padBegin: pads[0], padEnd: pads[3], ceil: ceil)
        try SpatialAttributes.checkedOutputs(node, Array(x.shape[2...]), outputs: [outDepth, 1, 1])
        var extra: [String: Attribute] = ["kernel_shape": .ints(Array(kernel.suffix(2))), "ceil_mode": .int(ceil ? 1 : 0),
                                          "count_include_pad": .int(includePad ? 1 : 0)]
        if !maximum { extra["dilations"] = nil }
        var plane = planeNode(node, strides: attributes.strides, dilations: attributes.dilations, pads: pads, extra: extra)
        if !maximum { plane.attributes["dilations"] = nil }
        // Depth planes as channels: one 2-D pool over [N·C, D, H, W] pools every plane.
        let planes = try PoolingOperators.pool(plane, [x.reshaped([batch * channels, depth] + x.shape.suffix(2))], maximum: maximum)
        let (outHeight, outWidth) = (planes.shape[2], planes.shape[3])
        let size = outHeight * outWidth
        var output = [Float](repeating: 0, count: batch * channels * outDepth * size)
        for block in 0..<(batch * channels) {
            for od in 0..<outDepth {
                let start = od * stride - pads[0]
                let taps = (0..<kernel[0]).map { start + $0 * dilation }.filter { (0..<depth).contains($0) }
                let divisor = Float(includePad ? min(start + kernel[0], depth + pads[3]) - start : taps.count)
                let target = (block * outDepth + od) * size
                for offset in 0..<size {
                    var value: Float = maximum ? -.infinity : 0
                    for d in taps {
                        let sample = planes.floats[(block * depth + d) * size + offset]
                        value = maximum ? max(value, sample) : value + sample
                    }
                    output[target + offset] = maximum ? value : (divisor > 0 ? value / divisor : 0)
                }
            }
        }
        return Tensor(shape: [batch, channels, outDepth, outHeight, outWidth], floats: output)
    }

    /// The planes x[n, :, d] for each (n, d), stacked as a batch of C×H×W images.
    static func gatherPlanes(_ x: Tensor, _ pairs: [(Int, Int)]) -> Tensor {
        let (channels, depth, size) = (x.shape[1], x.shape[2], x.shape[3] * x.shape[4])
        var planes = [Float](repeating: 0, count: pairs.count * channels * size)
        for (index, (n, d)) in pairs.enumerated() {
            for c in 0..<channels {
                let source = ((n * channels + c) * depth + d) * size, target = (index * channels + c) * size
                for offset in 0..<size { planes[target + offset] = x.floats[source + offset] }
            }
        }
        return Tensor(shape: [pairs.count, channels, x.shape[3], x.shape[4]], floats: planes)
    }

    /// w[:, :, tap] of a 5-D weight, as a 4-D weight.
    static func depthSlice(_ w: Tensor, _ tap: Int) -> Tensor {
        let (outer, taps, size) = (w.shape[0] * w.shape[1], w.shape[2], w.shape[3] * w.shape[4])
        var slice = [Float](repeating: 0, count: outer * size)
        for block in 0..<outer {
            for offset in 0..<size { slice[block * size + offset] = w.floats[(block * taps + tap) * size + offset] }
        }
        return Tensor(shape: [w.shape[0], w.shape[1], w.shape[3], w.shape[4]], floats: slice)
    }

    /// [N, D, C, H·W] → [N, C, D, H·W].
    static func depthToChannelMajor(_ values: [Float], batch: Int, depth: Int, planeShape: [Int]) -> [Float] {
        let (channels, size) = (planeShape[0], planeShape[1] * planeShape[2])
        var output = [Float](repeating: 0, count: values.count)
        for n in 0..<batch {
            for d in 0..<depth {
                for c in 0..<channels {
                    let source = ((n * depth + d) * channels + c) * size, target = ((n * channels + c) * depth + d) * size
                    for offset in 0..<size { output[target + offset] = values[source + offset] }
                }
            }
        }
        return output
    }
}
