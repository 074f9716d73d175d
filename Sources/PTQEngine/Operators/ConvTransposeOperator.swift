/// ConvTranspose (2-D; 1-D through `SpatialLifting`, 3-D through `VolumetricConvTranspose`): per image and group, columns = Wᵀ·X by SGEMM, then col2im scatter-adds
/// each kernel tap into the output at stride spacing. Weight layout [C, M/groups, kH, kW].
enum ConvTransposeOperator {
    static func run(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let w = try OperatorSupport.required(inputs, 1, node)
        let b = OperatorSupport.optional(inputs, 2)
        if x.rank == 3 { return try SpatialLifting.run1D(node, inputs, liftWeight: true, run) }
        if x.rank == 5 { return try VolumetricConvTranspose.run(node, inputs) }
        guard x.rank == 4, w.rank == 4 else {
            throw OperatorSupport.fail(node, "ptq runs 1-D, 2-D and 3-D transposed convolutions on N×C×spatial input with a weight of the same rank; got input \(describeShape(x.shape)), weight \(describeShape(w.shape))")
        }
        let attributes = try SpatialAttributes(node, rank: 2)
        let groups = attributes.group
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        guard channels == w.shape[0], channels % groups == 0, w.shape[1] > 0, w.shape[2] > 0, w.shape[3] > 0 else {
            throw OperatorSupport.fail(node, "input has \(channels) channels; weight \(describeShape(w.shape)) expects \(w.shape[0])")
        }
        let outPerGroup = w.shape[1], kernelHeight = w.shape[2], kernelWidth = w.shape[3]
        let outChannels = outPerGroup * groups
        if let b, b.count != outChannels {
            throw OperatorSupport.fail(node, "bias has \(b.count) values; expected \(outChannels)")
        }
        let strides = attributes.strides, dilations = attributes.dilations
        let inSize = [height, width]
        let (pads, outSize) = try outputGeometry(node, attributes, inSize: inSize, kernel: [kernelHeight, kernelWidth])
        let (outHeight, outWidth) = (outSize[0], outSize[1])
        guard TensorLimits.elementCount([batch, outChannels, outHeight, outWidth]) != nil,
              TensorLimits.elementCount([outPerGroup * kernelHeight * kernelWidth, height * width]) != nil else {
            throw OperatorSupport.fail(node, "output [\(batch), \(outChannels), \(outHeight), \(outWidth)] would hold more than \(TensorLimits.maximumElements) elements")
        }
        let inPerGroup = channels / groups
        let plane = height * width
        let taps = outPerGroup * kernelHeight * kernelWidth
        var output = [Float](repeating: 0, count: batch * outChannels * outHeight * outWidth)
        var columns = [Float](repeating: 0, count: taps * plane)
        // An empty input contributes nothing (and has no data pointer); the bias below still applies.
        if x.count > 0 { w.floats.withUnsafeBufferPointer { wp in
            x.floats.withUnsafeBufferPointer { xp in
                for image in 0..<batch {
                    for group in 0..<groups {
                        let a = wp.baseAddress! + group * inPerGroup * taps
                        let source = xp.baseAddress! + (image * channels + group * inPerGroup) * plane
                        columns.withUnsafeMutableBufferPointer { cp in
                            sgemm(m: taps, n: plane, k: inPerGroup, a: a, lda: taps, transposeA: true,
                                  b: source, ldb: plane, c: cp.baseAddress!, ldc: plane)
                        }
                        for oc in 0..<outPerGroup {
                            let target = (image * outChannels + group * outPerGroup + oc) * outHeight * outWidth
                            for kh in 0..<kernelHeight {
                                for kw in 0..<kernelWidth {
                                    let row = ((oc * kernelHeight + kh) * kernelWidth + kw) * plane
                                    for ih in 0..<height {
                                        let oh = ih * strides[0] - pads[0] + kh * dilations[0]
                                        if oh < 0 || oh >= outHeight { continue }
                                        for iw in 0..<width {
                                            let ow = iw * strides[1] - pads[1] + kw * dilations[1]
                                            if ow < 0 || ow >= outWidth { continue }
                                            output[target + oh * outWidth + ow] += columns[row + ih * width + iw]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        if let b {
            let outPlane = outHeight * outWidth
            for image in 0..<batch {
                for channel in 0..<outChannels {
                    let base = (image * outChannels + channel) * outPlane
                    for index in 0..<outPlane { output[base + index] += b.floats[channel] }
                }
            }
        }
        return Tensor(shape: [batch, outChannels, outHeight, outWidth], floats: output)
    }

    /// Pads and output sizes per spatial axis, as ONNX defines them: the full size
    /// s·(in − 1) + output_padding + δ·(k − 1) + 1 less the pads, or, when `output_shape` is given (or
    /// auto_pad is SAME, which asks for in·s), the pads that total the difference, split in half with
    /// the odd one at the end (SAME_UPPER) or the beginning.
    static func outputGeometry(_ node: Node, _ attributes: SpatialAttributes, inSize: [Int], kernel: [Int]) throws -> (pads: [Int], outSize: [Int]) {
        let rank = inSize.count
        let strides = attributes.strides, outputPadding = attributes.outputPadding
        var pads = attributes.pads
        let full = (0..<rank).map { (axis: Int) -> Int in
            let extent: Int = attributes.dilations[axis] * (kernel[axis] - 1) + 1
            return strides[axis] * (inSize[axis] - 1) + outputPadding[axis] + extent
        }
        var outSize = (0..<rank).map { (axis: Int) -> Int in full[axis] - pads[axis] - pads[axis + rank] }
        var requested = try AttributeReading.ints(node, "output_shape")
        if let values = requested, values.count < rank || values.contains(where: { $0 < 1 || $0 > TensorLimits.maximumExtent }) {
            throw AttributeReading.fail(node, "output_shape", "is \(values); expected at least \(rank) sizes from 1 to \(TensorLimits.maximumExtent)")
        }
        if requested == nil && (attributes.autoPad == "SAME_UPPER" || attributes.autoPad == "SAME_LOWER") {
            requested = (0..<rank).map { inSize[$0] * strides[$0] }
        }
        if let values = requested {
            let target = Array(values.suffix(rank))
            for axis in 0..<rank {
                let total = max(full[axis] - target[axis], 0)
                pads[axis] = attributes.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pads[axis + rank] = total - pads[axis]
            }
            outSize = target
        }
        try SpatialAttributes.checkedOutputs(node, inSize, outputs: outSize)
        return (pads, outSize)
    }
}
