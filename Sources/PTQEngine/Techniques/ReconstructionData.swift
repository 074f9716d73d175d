/// Builds a layer's `LayerReconstruction` for AdaRound: its shape from the graph, and its cached inputs and targets
/// from running two models over the calibration samples.
enum ReconstructionData {
    /// Why AdaRound cannot take `layer`, or nil when it can.
    static func unsupportedReason(_ layer: WeightLayer, in graph: Graph) -> String? {
        let node = graph.nodes[layer.nodeIndex]
        let weight = graph.initializers[layer.weightName]!
        if graph.readers(ofInitializer: layer.weightName) != 1 { return "its weight is shared with another node" }
        switch layer.opType {
        case "Conv": return weight.rank == 4 ? nil : "AdaRound here takes 2-D convolutions (this weight is \(describeShape(weight.shape)))"
        case "Gemm":
            if node.int("transA", default: 0) != 0 || node.float("alpha", default: 1) != 1 || node.float("beta", default: 1) != 1 {
                return "a Gemm with transA, alpha or beta set is not handled"
            }
            return nil
        case "MatMul": return nil
        default: return "the weight gradient of \(layer.opType) is not implemented"
        }
    }

    /// Floats of one cached sample's input and target for `layer` as stored, from the per-sample shapes `shapes`
    /// (batch 1).
    static func sampleSizes(_ layer: WeightLayer, in graph: Graph, shapes: [String: [Int]]) throws -> [Int] {
        let (shape, activation, _) = try layout(layer, in: graph, shapes: shapes)
        let sizes = LayerReconstruction.storedSizes(shape, activation: activation)
        return [sizes.input, sizes.output]
    }

    /// The problem for `layer` with per-sample shapes from `shapes` (batch 1), room for `samples` cached samples.
    static func problem(_ layer: WeightLayer, in graph: Graph, shapes: [String: [Int]], samples: Int, batch: Int) throws -> (LayerReconstruction, input: String, target: String) {
        let node = graph.nodes[layer.nodeIndex]
        let (shape, activation, target) = try layout(layer, in: graph, shapes: shapes)
        let bias = layer.biasName.map { graph.initializers[$0]!.floats }
        let problem = LayerReconstruction(shape: shape, weight: graph.initializers[layer.weightName]!.floats, bias: bias, activation: activation,
                                          samples: samples, batch: batch)
        return (problem, node.inputs[0], target)
    }

    /// The shape of `layer`'s problem, its activation and the tensor holding its target; checks that the layer's input
    /// and target have the sizes its weight implies.
    private static func layout(_ layer: WeightLayer, in graph: Graph, shapes: [String: [Int]]) throws
        -> (shape: LayerReconstruction.Shape, activation: ReconstructionActivation, target: String) {
        let node = graph.nodes[layer.nodeIndex]
        let weight = graph.initializers[layer.weightName]!
        let (activation, target) = ReconstructionActivation.following(layer, in: graph)
        guard let inputShape = shapes[node.inputs[0]], let outputShape = shapes[target] else {
            throw PTQError.execution(node: node.name, op: node.opType, problem: "its input or output was not produced when the model ran")
        }
        let shape: LayerReconstruction.Shape
        switch layer.opType {
        case "Conv":
            shape = .convolution(try ConvolutionOperators.geometry(node, input: inputShape, weight: weight.shape))
        case "Gemm":
            let transposed = node.int("transB", default: 0) != 0
            shape = .linear(rows: 1, inFeatures: transposed ? weight.shape[1] : weight.shape[0],
                            outFeatures: transposed ? weight.shape[0] : weight.shape[1], transposedWeight: transposed)
        default:
            let rows = inputShape.count <= 1 ? 1 : inputShape.dropLast().reduce(1, *)
            shape = .linear(rows: rows, inFeatures: weight.shape[0], outFeatures: weight.shape[1], transposedWeight: false)
        }
        let sizes = shape.sampleSizes
        guard sizes.input == inputShape.reduce(1, *), sizes.output == outputShape.reduce(1, *) else {
            throw PTQError.execution(node: node.name, op: node.opType,
                problem: "its input \(describeShape(inputShape)) or output \(describeShape(outputShape)) does not match its weight \(describeShape(weight.shape))")
        }
        return (shape, activation, target)
    }

    /// `wanted` of the first `count` samples, evenly spaced (all of them when wanted ≥ count): a subset that spans
    /// a folder sorted by class rather than taking its first classes.
    static func evenlySpaced(_ wanted: Int, of count: Int) -> [Int] {
        wanted >= count ? Array(0..<count) : (0..<wanted).map { $0 * count / wanted }
    }
}
