/// ConvTranspose (2-D): per image and group, columns = Wᵀ·X by SGEMM, then col2im scatter-adds
/// each kernel tap into the output at stride spacing. Weight layout [C, M/groups, kH, kW].
enum ConvTransposeOperator {
    static func run(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let w = try OperatorSupport.required(inputs, 1, node)
        let b = OperatorSupport.optional(inputs, 2)
        guard x.rank == 4, w.rank == 4 else {
            throw OperatorSupport.fail(node, "ptq runs 2-D transposed convolutions; got input \(describeShape(x.shape))")
        }
        let attributes = try SpatialAttributes(node)
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
        let strides = attributes.strides, dilations = attributes.dilations, outputPadding = attributes.outputPadding
        var pads = attributes.pads
        let kernelExtent = [dilations[0] * (kernelHeight - 1) + 1, dilations[1] * (kernelWidth - 1) + 1]
        let inSize = [height, width]
        let autoPad = attributes.autoPad
        var outSize: [Int] = (0..<2).map { axis -> Int in
            let full: Int = strides[axis] * (inSize[axis] - 1) + outputPadding[axis] + kernelExtent[axis]
            return full - pads[axis] - pads[axis + 2]
        }
        var requestedShape: [Int]? = try AttributeReading.ints(node, "output_shape")
        if let requested = requestedShape, requested.count < 2 || requested.contains(where: { $0 < 1 || $0 > TensorLimits.maximumExtent }) {
            throw AttributeReading.fail(node, "output_shape", "is \(requested); expected at least 2 sizes from 1 to \(TensorLimits.maximumExtent)")
        }
        if requestedShape == nil && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
            requestedShape = [inSize[0] * strides[0], inSize[1] * strides[1]]
        }
        if let requested = requestedShape {
            let target = Array(requested.suffix(2))
            for axis in 0..<2 {
                let total = strides[axis] * (inSize[axis] - 1) + outputPadding[axis] + kernelExtent[axis] - target[axis]
                let small = max(total, 0) / 2
                pads[axis] = autoPad == "SAME_UPPER" ? small : max(total, 0) - small
                pads[axis + 2] = max(total, 0) - pads[axis]
            }
            outSize = target
        }
        let (outHeight, outWidth) = (outSize[0], outSize[1])
        try SpatialAttributes.checkedOutputs(node, inSize, outputs: outSize)
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
}
