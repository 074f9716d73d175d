/// ConvTranspose over N×C×D×H×W, from the 2-D operator along the depth axis (see
/// `VolumetricOperators`): input depth i, transposed through the depth tap k of the weight
/// (C × M/group × kD × kH × kW), adds into output depth i·s − p + k·δ when that exists. Pads and
/// output sizes per axis come from `ConvTransposeOperator.outputGeometry`, so output_shape,
/// output_padding and SAME auto_pad mean what they mean in 2-D.
enum VolumetricConvTranspose {
    static func run(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node), w = try OperatorSupport.required(inputs, 1, node)
        let b = OperatorSupport.optional(inputs, 2)
        guard w.rank == 5 else { throw OperatorSupport.fail(node, "a 3-D ConvTranspose needs a 5-D weight; got \(describeShape(w.shape))") }
        let attributes = try SpatialAttributes(node, rank: 3)
        let kernel = Array(w.shape[2...])
        let (pads, outSize) = try ConvTransposeOperator.outputGeometry(node, attributes, inSize: Array(x.shape[2...]), kernel: kernel)
        let (batch, depth, outDepth) = (x.shape[0], x.shape[2], outSize[0])
        let (stride, dilation) = (attributes.strides[0], attributes.dilations[0])
        let outChannels = w.shape[1] * attributes.group
        if let b, b.count != outChannels {
            throw OperatorSupport.fail(node, "bias has \(b.count) values; expected \(outChannels)")
        }
        guard TensorLimits.elementCount([batch, outChannels] + outSize) != nil else {
            throw OperatorSupport.fail(node, "output would hold more than \(TensorLimits.maximumElements) elements")
        }
        let plane = VolumetricOperators.planeNode(node, strides: attributes.strides, dilations: attributes.dilations, pads: pads, extra: [
            "group": .int(attributes.group),
            "output_padding": .ints(Array(attributes.outputPadding.suffix(2))),
        ])
        let planes = VolumetricOperators.gatherPlanes(x, (0..<batch).flatMap { n in (0..<depth).map { (n, $0) } })
        let size = outChannels * outSize[1] * outSize[2]
        var accumulated = [Float](repeating: 0, count: batch * outDepth * size)
        for tap in 0..<kernel[0] {
            let y = try ConvTransposeOperator.run(plane, [planes, VolumetricOperators.depthSlice(w, tap), nil])
            for n in 0..<batch {
                for i in 0..<depth {
                    let od = i * stride - pads[0] + tap * dilation
                    guard (0..<outDepth).contains(od) else { continue }
                    let source = (n * depth + i) * size, target = (n * outDepth + od) * size
                    for offset in 0..<size { accumulated[target + offset] += y.floats[source + offset] }
                }
            }
        }
        let planeShape = [outChannels, outSize[1], outSize[2]]
        var output = VolumetricOperators.depthToChannelMajor(accumulated, batch: batch, depth: outDepth, planeShape: planeShape)
        if let b {
            let block = outDepth * outSize[1] * outSize[2]
            for index in 0..<output.count { output[index] += b.floats[(index / block) % outChannels] }
        }
        return Tensor(shape: [batch, outChannels] + outSize, floats: output)
    }
}
