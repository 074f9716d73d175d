/// Where a weight layer's bias lives, read and written in one place for every technique that moves
/// biases (fold-bn, high-bias-fold, bias-correction).
///
/// - Conv and ConvTranspose: input 2, added when missing.
/// - Gemm: input C, as the effective bias β·C (ONNX Gemm computes α·A·B + β·C). Writing stores the
///   new effective bias in C and sets β to 1, so a Gemm with β ≠ 1 (or β = 0, C ignored) is
///   corrected exactly instead of by β times the intended shift.
/// - MatMul has no bias input: its bias is the constant of an `Add` that alone reads the MatMul
///   (the usual export of a Linear layer with a 3-D input). Without one, the layer cannot carry a
///   bias: ptq adds no node, and techniques skip it and say so (appending a third input to MatMul
///   made invalid ONNX).
/// - A bias initializer that another node also reads cannot carry a layer's own shift either.
public enum LayerBias {
    /// The effective bias values (zeros when the layer has none yet), or nil when the layer cannot
    /// carry one.
    public static func values(_ layer: WeightLayer, in graph: Graph) -> [Float]? {
        let node = graph.nodes[layer.nodeIndex]
        let outputs = layer.outputChannels(graph)
        if layer.opType == "MatMul" {
            guard let name = followingAddConstant(layer, graph) else { return nil }
            return graph.initializers[name]!.floats
        }
        guard let name = layer.biasName else { return [Float](repeating: 0, count: outputs) }
        // A bias another node also reads would change that node too.
        guard let bias = graph.initializers[name], bias.kind == .float, bias.count == outputs,
              graph.readerCount(of: name) == 1 else { return nil }
        let beta = layer.opType == "Gemm" ? node.float("beta", default: 1) : 1
        return bias.floats.map { $0 * beta }
    }

    public static func canCarry(_ layer: WeightLayer, in graph: Graph) -> Bool { values(layer, in: graph) != nil }

    /// Sets the effective bias; returns false (changing nothing) when the layer cannot carry one.
    @discardableResult
    public static func set(_ values: [Float], _ layer: WeightLayer, in graph: inout Graph) -> Bool {
        guard canCarry(layer, in: graph) else { return false }
        if layer.opType == "MatMul" {
            let name = followingAddConstant(layer, graph)!
            graph.initializers[name] = Tensor(shape: graph.initializers[name]!.shape, floats: values)
            return true
        }
        let name = layer.biasName ?? graph.uniqueName("\(layer.name).bias")
        graph.setInitializer(name, Tensor(shape: [values.count], floats: values))
        if layer.biasName == nil {
            graph.nodes[layer.nodeIndex].inputs = Array(graph.nodes[layer.nodeIndex].inputs.prefix(2)) + [name]
        }
        if layer.opType == "Gemm" { graph.nodes[layer.nodeIndex].attributes["beta"] = .float(1) }
        return true
    }

    /// Adds `shift` to the effective bias; false when the layer cannot carry one.
    @discardableResult
    public static func add(_ shift: [Float], _ layer: WeightLayer, in graph: inout Graph) -> Bool {
        guard let old = values(layer, in: graph), old.count == shift.count else { return false }
        return set(zip(old, shift).map { $0 + $1 }, layer, in: &graph)
    }

    /// The float constant of the Add that alone reads a MatMul's output, when it has one value per
    /// output channel and nothing else reads it.
    static func followingAddConstant(_ layer: WeightLayer, _ graph: Graph) -> String? {
        let node = graph.nodes[layer.nodeIndex]
        guard let output = node.outputs.first, graph.readerCount(of: output) == 1,
              let add = graph.nodes.first(where: { $0.opType == "Add" && $0.inputs.contains(output) }),
              add.inputs.count == 2 else { return nil }
        let other = add.inputs[0] == output ? add.inputs[1] : add.inputs[0]
        guard let constant = graph.initializers[other], constant.kind == .float,
              constant.count == layer.outputChannels(graph), constant.shape.last == constant.count,
              graph.readerCount(of: other) == 1 else { return nil }
        return other
    }
}
