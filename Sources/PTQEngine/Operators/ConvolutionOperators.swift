/// Conv and ConvTranspose (2-D, NCHW; 1-D through `SpatialLifting`, 3-D through `VolumetricOperators`), with ONNX's pads, strides, dilations, groups and auto_pad.
enum ConvolutionOperators {
    static let all: [String: OperatorFunction] = [
        "Conv": { node, inputs, _ in [try conv(node, inputs, activation: .none, winograd: nil)] },
        "ConvTranspose": { node, inputs, _ in [try ConvTransposeOperator.run(node, inputs)] },
    ]

    static func geometry(_ node: Node, input: [Int], weight: [Int]) throws -> ConvolutionGeometry {
        guard input.count == 4, weight.count == 4 else {
            throw OperatorSupport.fail(node, "ptq runs 1-D, 2-D and 3-D convolutions on N×C×spatial input with a weight of the same rank; got input \(describeShape(input)), weight \(describeShape(weight))")
        }
        let attributes = try SpatialAttributes(node, rank: 2)
        let groups = attributes.group, strides = attributes.strides, dilations = attributes.dilations
        guard input[1] == weight[1] * groups, weight[0] % groups == 0, weight[0] > 0 else {
            throw OperatorSupport.fail(node, "input has \(input[1]) channels; weight \(describeShape(weight)) with group \(groups) expects \(weight[1] * groups) (and output channels divisible by the group)")
        }
        if let kernel = attributes.kernel, kernel != Array(weight[2...]) {
            throw OperatorSupport.fail(node, "kernel_shape \(kernel) does not match weight \(describeShape(weight))")
        }
        guard weight[2] >= 1, weight[3] >= 1, weight[2] <= TensorLimits.maximumExtent, weight[3] <= TensorLimits.maximumExtent else {
            throw OperatorSupport.fail(node, "weight \(describeShape(weight)) has an empty or oversized kernel")
        }
        let pads = attributes.resolvedPads(sizes: [input[2], input[3]], kernel: [weight[2], weight[3]])
        let g = ConvolutionGeometry(
            batch: input[0], inChannels: input[1], inHeight: input[2], inWidth: input[3],
            outChannels: weight[0], kernelHeight: weight[2], kernelWidth: weight[3],
            strideHeight: strides[0], strideWidth: strides[1], dilationHeight: dilations[0],
            dilationWidth: dilations[1], padTop: pads[0], padLeft: pads[1], padBottom: pads[2],
            padRight: pads[3], groups: groups)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw OperatorSupport.fail(node, "kernel \(weight[2])x\(weight[3]) does not fit input \(input[2])x\(input[3]) with these pads")
        }
        guard TensorLimits.elementCount([g.batch, g.outChannels, g.outHeight, g.outWidth]) != nil else {
            throw OperatorSupport.fail(node, "output [\(g.batch), \(g.outChannels), \(g.outHeight), \(g.outWidth)] would hold more than \(TensorLimits.maximumElements) elements")
        }
        return g
    }

    /// A 3×3, stride-1, undilated, ungrouped Conv with at least 16 input channels: `WinogradKernel`'s
    /// case. Fewer channels (image inputs, MNIST's first layer) leave too little to amortize the
    /// transforms.
    static func suitsWinograd(_ node: Node, weight: Tensor) -> Bool {
        weight.rank == 4 && weight.kind == .float && weight.shape[1] >= 16 && weight.shape[2] == 3 && weight.shape[3] == 3
            && node.int("group", default: 1) == 1 && (node.ints("strides") ?? [1, 1]).allSatisfy { $0 == 1 }
            && (node.ints("dilations") ?? [1, 1]).allSatisfy { $0 == 1 }
    }

    static func conv(_ node: Node, _ inputs: [Tensor?], activation: FusedActivation,
                     winograd: WinogradWeights?) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        if x.rank == 3 {
            return try SpatialLifting.run1D(node, inputs, liftWeight: true) { try conv($0, $1, activation: activation, winograd: nil) }
        }
        if x.rank == 5 { return try VolumetricOperators.conv(node, inputs, activation: activation) }
        let w = try OperatorSupport.required(inputs, 1, node)
        let b = OperatorSupport.optional(inputs, 2)
        let g = try geometry(node, input: x.shape, weight: w.shape)
        if let b, b.count != g.outChannels {
            throw OperatorSupport.fail(node, "bias has \(b.count) values; expected \(g.outChannels)")
        }
        let count = g.batch * g.outChannels * g.outHeight * g.outWidth
        let shape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        if count == 0 { return Tensor(zeros: shape) }
        // Uninitialized: the kernels write every element (zeroing first cost a pass over memory).
        let output = [Float](unsafeUninitializedCapacity: count) { op, initialized in
            initialized = count
            x.floats.withUnsafeBufferPointer { xp in
                w.floats.withUnsafeBufferPointer { wp in
                    if let b {
                        b.floats.withUnsafeBufferPointer { bp in
                            ConvolutionKernel.run(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                  output: op.baseAddress!, geometry: g, activation: activation, winograd: winograd)
                        }
                    } else {
                        ConvolutionKernel.run(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil,
                                              output: op.baseAddress!, geometry: g, activation: activation, winograd: winograd)
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: output)
    }
}
