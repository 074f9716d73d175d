/// MaxPool, AveragePool (2-D; 1-D through `SpatialLifting`, 3-D through `VolumetricOperators`; with pads, strides, ceil_mode, dilations for MaxPool,
/// count_include_pad for AveragePool), GlobalAveragePool and GlobalMaxPool.
enum PoolingOperators {
    static let all: [String: OperatorFunction] = [
        "MaxPool": { node, inputs, _ in [try pool(node, inputs, maximum: true)] },
        "AveragePool": { node, inputs, _ in [try pool(node, inputs, maximum: false)] },
        "GlobalAveragePool": { node, inputs, _ in [try global(node, inputs, maximum: false)] },
        "GlobalMaxPool": { node, inputs, _ in [try global(node, inputs, maximum: true)] },
    ]

    static func global(_ node: Node, _ inputs: [Tensor?], maximum: Bool) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        guard x.rank >= 3 else { throw OperatorSupport.fail(node, "input must be N×C×spatial; got \(describeShape(x.shape))") }
        let planes = x.shape[0] * x.shape[1]
        let plane = x.shape.dropFirst(2).reduce(1, *)
        var output = [Float](repeating: 0, count: planes)
        x.floats.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                if maximum {
                    for index in 0..<planes {
                        var best = -Float.infinity
                        for offset in 0..<plane { best = max(best, from[index * plane + offset]) }
                        to[index] = best
                    }
                } else {
                    GlobalAverage.run(from, to, planes: planes, plane: plane)
                }
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1]] + [Int](repeating: 1, count: x.rank - 2), floats: output)
    }

    static func outputSize(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, ceil: Bool) -> Int {
        let span = input + padBegin + padEnd - dilation * (kernel - 1) - 1
        var size = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        // A window that would start in the end padding is dropped (PyTorch's and ONNX Runtime's rule).
        if ceil && (size - 1) * stride >= input + padBegin { size -= 1 }
        return size
    }

    static func pool(_ node: Node, _ inputs: [Tensor?], maximum: Bool) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        if x.rank == 3 { return try SpatialLifting.run1D(node, inputs, liftWeight: false) { try pool($0, $1, maximum: maximum) } }
        if x.rank == 5 { return try VolumetricOperators.pool(node, inputs, maximum: maximum) }
        guard x.rank == 4 else { throw OperatorSupport.fail(node, "ptq pools N×C×spatial input with 1, 2 or 3 spatial axes; got \(describeShape(x.shape))") }
        let attributes = try SpatialAttributes(node, rank: 2)
        if !maximum, attributes.dilations.contains(where: { $0 != 1 }) {
            throw AttributeReading.fail(node, "dilations", "is \(attributes.dilations); ptq's AveragePool runs undilated windows")
        }
        guard let kernel = attributes.kernel else {
            throw AttributeReading.fail(node, "kernel_shape", "is missing; a pool needs its window size")
        }
        let strides = attributes.strides, dilations = attributes.dilations
        let ceil = try AttributeReading.int(node, "ceil_mode") ?? 0 != 0
        let includePad = try AttributeReading.int(node, "count_include_pad") ?? 0 != 0
        let (height, width) = (x.shape[2], x.shape[3])
        let pads = attributes.resolvedPads(sizes: [height, width], kernel: kernel)
        let outHeight = outputSize(input: height, kernel: kernel[0], stride: strides[0], dilation: dilations[0], padBegin: pads[0], padEnd: pads[2], ceil: ceil)
        let outWidth = outputSize(input: width, kernel: kernel[1], stride: strides[1], dilation: dilations[1], padBegin: pads[1], padEnd: pads[3], ceil: ceil)
        let planes = x.shape[0] * x.shape[1]
        let padding = pads
        try SpatialAttributes.checkedOutputs(node, [height, width], outputs: [outHeight, outWidth])
        guard TensorLimits.elementCount([planes, outHeight, outWidth]) != nil else {
            throw OperatorSupport.fail(node, "output would hold more than \(TensorLimits.maximumElements) elements")
        }
        var output = [Float](repeating: 0, count: planes * outHeight * outWidth)
        if x.count == 0 { return Tensor(shape: [x.shape[0], x.shape[1], outHeight, outWidth], floats: output) }
        let source = SendablePointer(UnsafeMutablePointer(mutating: x.floats.withUnsafeBufferPointer { $0.baseAddress! }))
        try withExtendedLifetime(x) {
            guard outHeight > 0, outWidth > 0 else { throw OperatorSupport.fail(node, "kernel does not fit the input") }
            if maximum {
                let window = MaxPoolKernel.Window(kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]),
                                                  dilation: (dilations[0], dilations[1]), padBegin: (padding[0], padding[1]))
                output.withUnsafeMutableBufferPointer { buffer in
                    MaxPoolKernel.run(input: source.pointer, output: buffer.baseAddress!, planes: planes, height: height,
                                      width: width, outHeight: outHeight, outWidth: outWidth, window: window)
                }
                return
            }
            output.withUnsafeMutableBufferPointer { buffer in
                let target = SendablePointer(buffer.baseAddress!)
                Parallel.forEachRange(planes) { range in
                    for plane in range {
                        let input = source.pointer + plane * height * width
                        let out = target.pointer + plane * outHeight * outWidth
                        for oh in 0..<outHeight {
                            for ow in 0..<outWidth {
                                let h0 = oh * strides[0] - padding[0], w0 = ow * strides[1] - padding[1]
                                let h1 = min(h0 + kernel[0], height + padding[2]), w1 = min(w0 + kernel[1], width + padding[3])
                                let padded = (h1 - h0) * (w1 - w0)
                                let (hs, ws, he, we) = (max(h0, 0), max(w0, 0), min(h1, height), min(w1, width))
                                var sum: Float = 0
                                for ih in hs..<max(hs, he) { for iw in ws..<max(ws, we) { sum += input[ih * width + iw] } }
                                let count = includePad ? padded : (he - hs) * (we - ws)
                                out[oh * outWidth + ow] = count > 0 ? sum / Float(count) : 0
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1], outHeight, outWidth], floats: output)
    }
}

/// Plane means, each summed in plain order (so the bits are those of a sequential sum), but eight planes
/// side by side: eight independent additions in flight instead of one chain waiting on its last add
/// (the sum of one plane is bound by the adder's latency). Planes split over the threads when large.
enum GlobalAverage {
    static func run(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, planes: Int, plane: Int) {
        let (source, target) = (SendablePointer(UnsafeMutablePointer(mutating: input)), SendablePointer(output))
        let groups = (planes + 7) / 8
        Parallel.forEachRange(groups, minimumPerWorker: max(1, (1 << 15) / max(1, 8 * plane))) { range in
            for group in range {
                let first = group * 8, count = min(8, planes - first)
                let base = source.pointer + first * plane
                if count < 8 {
                    for index in 0..<count {
                        var sum: Float = 0
                        for offset in 0..<plane { sum += base[index * plane + offset] }
                        target.pointer[first + index] = sum / Float(plane)
                    }
                    continue
                }
                var sums = SIMD8<Float>()
                for offset in 0..<plane {
                    sums += SIMD8<Float>(base[offset], base[plane + offset], base[2 * plane + offset], base[3 * plane + offset],
                                         base[4 * plane + offset], base[5 * plane + offset], base[6 * plane + offset],
                                         base[7 * plane + offset])
                }
                for index in 0..<8 { target.pointer[first + index] = sums[index] / Float(plane) }
            }
        }
    }
}
