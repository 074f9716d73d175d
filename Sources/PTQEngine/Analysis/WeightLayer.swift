/// A layer with a constant weight: Conv, ConvTranspose, Gemm, or MatMul whose second input is an
/// initializer. `outputChannelAxis` is the weight axis that indexes output channels.
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
        return WeightLayer(name: node.name, opType: node.opType, nodeIndex: index, weightName: node.inputs[1],
                           biasName: bias, outputChannelAxis: axis)
    }
}
