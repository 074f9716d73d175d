/// A layer with a constant weight: Conv, ConvTranspose, Gemm, or MatMul whose second input is an
/// initializer. `outputChannelAxis` is the weight axis that indexes output channels.
///
/// Only layers whose weight and bias agree with the op are layers: a Conv/ConvTranspose weight over
/// 1, 2 or 3 spatial axes (3-D to 5-D) whose channels divide by the group, a 2-D Gemm/MatMul weight, and a bias (when given) that is a
/// float initializer with one value per output channel. The techniques take their layers from
/// here, so a layer of another shape is left alone rather than indexed out of range.
public struct WeightLayer: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var nodeIndex: Int
    public var weightName: String
    public var biasName: String?
    public var outputChannelAxis: Int

    public static let opTypes: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]

    public static func all(in graph: Graph) -> [WeightLayer] {
        graph.nodes.enumerated().compactMap { index, node in make(node, index: index, graph: graph) }
    }

    public static func make(_ node: Node, index: Int, graph: Graph) -> WeightLayer? {
        guard opTypes.contains(node.opType), node.inputs.count >= 2,
              let weight = graph.initializers[node.inputs[1]], weight.kind == .float else { return nil }
        let axis: Int
        switch node.opType {
        case "ConvTranspose": axis = 1
        case "Gemm": axis = node.int("transB", default: 0) != 0 ? 0 : 1
        case "MatMul": axis = weight.rank - 1
        default: axis = 0
        }
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil
        let group = node.int("group", default: 1)
        switch node.opType {
        case "Conv", "ConvTranspose":
            guard (3...5).contains(weight.rank), weight.shape.allSatisfy({ $0 > 0 }), group >= 1 else { return nil }
            if node.opType == "Conv" && weight.shape[0] % group != 0 { return nil }
        default:
            guard weight.rank == 2, weight.shape.allSatisfy({ $0 > 0 }) else { return nil }
        }
        let outputs = node.opType == "ConvTranspose" ? weight.shape[1] * group : weight.shape[axis]
        if let bias {
            guard let tensor = graph.initializers[bias], tensor.kind == .float, tensor.count == outputs else { return nil }
        }
        return WeightLayer(name: node.name, opType: node.opType, nodeIndex: index, weightName: node.inputs[1],
                           biasName: bias, outputChannelAxis: axis)
    }

    /// Output channels of the layer (ConvTranspose: weight channels per group times the group).
    public func outputChannels(_ graph: Graph) -> Int {
        let node = graph.nodes[nodeIndex]
        let shape = graph.initializers[weightName]?.shape ?? []
        guard outputChannelAxis < shape.count else { return 0 }
        return shape[outputChannelAxis] * (opType == "ConvTranspose" ? node.int("group", default: 1) : 1)
    }
}
