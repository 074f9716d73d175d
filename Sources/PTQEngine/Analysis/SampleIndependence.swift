/// Whether a graph computes each sample of a batch on its own, so a batch can run one sample at a
/// time (the executor's sample-parallel mode) with the same result.
///
/// Axis 0 of every data input is the batch axis. The check walks the nodes in order and follows
/// which tensors still carry the batch on axis 0 (and their rank, for negative axes). A node that
/// reads such a tensor must be one of the ops below, used so that it neither mixes samples nor
/// moves the batch axis: elementwise ops whose other operands broadcast without a batch
/// dimension, Conv/ConvTranspose/BatchNormalization/pools on input 0, Gemm and MatMul with the
/// batch in A's rows, Flatten, Softmax, Concat, Split, Transpose, Squeeze, Unsqueeze, Slice, Pad and
/// ReduceMean away from axis 0, a Reshape whose constant target copies the batch (0 first), and
/// QuantizeLinear/DequantizeLinear. Anything else reading a batched tensor (Shape, Gather, another
/// Reshape…) makes the answer no: such a target may name the batch size, and following shape
/// arithmetic would cost more than running such graphs whole (load-time preparation folds the usual
/// ones away). Every graph output must carry the
/// batch.
enum SampleIndependence {
    static func holds(_ graph: Graph, constants: [String: Tensor]) -> Bool {
        obstacle(graph, constants: constants) == nil
    }

    /// What keeps the answer from being yes, in words (the first node that may mix samples), or nil.
    static func obstacle(_ graph: Graph, constants: [String: Tensor]) -> String? {
        var rank: [String: Int] = [:]  // batched tensors only
        for input in graph.dataInputs {
            guard !input.shape.isEmpty else { return "input '\(input.name)' has no batch axis" }
            rank[input.name] = input.shape.count
        }
        for node in graph.nodes where node.opType != "Constant" {
            let batched = node.inputs.enumerated().filter { !$0.element.isEmpty && rank[$0.element] != nil }.map(\.offset)
            if batched.isEmpty { continue }
            guard let outputRanks = outputRanks(node, batched: Set(batched), rank: rank, constants: constants),
                  outputRanks.allSatisfy({ $0 >= 1 }) else {
                return "node '\(node.name)' (\(node.opType)) may mix the samples of a batch"
            }
            for (name, value) in zip(node.outputs, outputRanks) where !name.isEmpty { rank[name] = value }
        }
        if let output = graph.outputs.first(where: { rank[$0.name] == nil }) {
            return "output '\(output.name)' does not carry the batch"
        }
        return nil
    }

    /// Ranks of the node's outputs, all batched; nil when the node would mix samples or move the batch axis.
    private static func outputRanks(_ node: Node, batched: Set<Int>, rank: [String: Int],
                                    constants: [String: Tensor]) -> [Int]? {
        let x = node.inputs[0]
        let onlyFirst = batched == [0]
        let r = rank[x] ?? 0
        /// True when `value` (an axis of a rank-`of` tensor) is a known axis other than 0.
        func awayFromBatch(_ value: Int, of: Int) -> Bool { value > 0 || (value < 0 && value + of > 0) }
        func constantInts(_ index: Int) -> [Int]? {
            guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
            return constants[node.inputs[index]].map { $0.asIntegers.map { Int($0) } }
        }
        switch node.opType {
        case "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Identity", "Dropout", "Cast", "Clip",
             "Conv", "ConvTranspose", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
             "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Erf", "Elu", "Selu", "Softplus", "Softsign", "Sign", "Reciprocal",
             "Floor", "Ceil", "Round", "Gelu", "Shrink", "InstanceNormalization", "LRN":
            return onlyFirst ? Array(repeating: r, count: node.outputs.count) : nil
        case "PRelu", "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Sum", "Max", "Min", "Mean":
            // Batched operands must share the output's rank; the others broadcast without axis 0.
            let ranks = node.inputs.map { rank[$0] }
            let outputRank = ranks.compactMap { $0 }.max()!
            for (index, name) in node.inputs.enumerated() {
                if let own = ranks[index] {
                    if own != outputRank { return nil }
                } else {
                    guard let constant = constants[name], constant.rank < outputRank || constant.shape.first == 1 else { return nil }
                }
            }
            return [outputRank]
        case "Gemm":
            return onlyFirst && node.int("transA", default: 0) == 0
                && (node.inputs.count < 3 || node.inputs[2].isEmpty || (constants[node.inputs[2]].map { $0.rank < 2 || $0.shape[0] == 1 } ?? false)) ? [2] : nil
        case "MatMul":
            return onlyFirst && r >= 2 && (constants[node.inputs[1]]?.rank ?? 3) <= 2 ? [r] : nil
        case "Flatten":
            return onlyFirst && awayFromBatch(node.int("axis", default: 1), of: r) ? [2] : nil
        case "Softmax", "LogSoftmax", "LayerNormalization":
            let axis = node.int("axis", default: node.opType == "LayerNormalization" ? -1 : 1)
            return onlyFirst && awayFromBatch(axis, of: r) ? Array(repeating: r, count: node.outputs.count) : nil
        case "Reshape":
            // A constant target that copies the batch (0 first, as preparation writes the PyTorch
            // flatten) keeps samples apart; any other target may fold the batch into other axes.
            guard onlyFirst, node.int("allowzero", default: 0) == 0, let target = constantInts(1), target.first == 0 else { return nil }
            return [target.count]
        case "Concat":
            return batched.count == node.inputs.filter({ !$0.isEmpty }).count
                && awayFromBatch(node.int("axis", default: 0), of: r) ? [r] : nil
        case "Split":
            return onlyFirst && awayFromBatch(node.int("axis", default: 0), of: r) ? Array(repeating: r, count: node.outputs.count) : nil
        case "Transpose":
            guard onlyFirst, let permutation = node.ints("perm"), permutation.first == 0 else { return nil }
            return [r]
        case "Squeeze", "Unsqueeze", "ReduceMean", "Slice":
            let index = node.opType == "Slice" ? 3 : 1
            guard onlyFirst, let axes = node.ints("axes") ?? constantInts(index), !axes.isEmpty else { return nil }
            let resultRank = node.opType == "Squeeze" ? r - axes.count
                : node.opType == "Unsqueeze" ? r + axes.count
                : node.opType == "ReduceMean" && node.int("keepdims", default: 1) == 0 ? r - axes.count : r
            return axes.allSatisfy({ awayFromBatch($0, of: node.opType == "Unsqueeze" ? resultRank : r) }) ? [resultRank] : nil
        case "QuantizeLinear", "DequantizeLinear":
            let perTensor = constants[node.inputs[1]]?.rank == 0
            return onlyFirst && (perTensor || awayFromBatch(node.int("axis", default: 1), of: r)) ? [r] : nil
        case "Pad":
            guard onlyFirst, let pads = node.ints("pads") ?? constantInts(1), pads.count == 2 * r else { return nil }
            return pads[0] == 0 && pads[r] == 0 ? [r] : nil
        default:
            return nil
        }
    }
}
