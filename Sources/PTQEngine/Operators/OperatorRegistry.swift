/// One ONNX operator: its inputs (nil for omitted optional ones) to its outputs, at an opset.
public typealias OperatorFunction = @Sendable (_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor]

/// The operator table: ONNX op type → implementation. `load` checks every node against it.
public enum OperatorRegistry {
    public static let table: [String: OperatorFunction] = {
        var table: [String: OperatorFunction] = [:]
        for (name, function) in ConvolutionOperators.all { table[name] = function }
        for (name, function) in LinearOperators.all { table[name] = function }
        for (name, function) in ActivationOperators.all { table[name] = function }
        for (name, function) in ElementwiseOperators.all { table[name] = function }
        for (name, function) in NormalizationOperators.all { table[name] = function }
        for (name, function) in PoolingOperators.all { table[name] = function }
        for (name, function) in ShapeOperators.all { table[name] = function }
        for (name, function) in IndexingOperators.all { table[name] = function }
        for (name, function) in QuantizationOperators.all { table[name] = function }
        for (name, function) in MathOperators.all { table[name] = function }
        for (name, function) in LayerNormalizationOperators.all { table[name] = function }
        for (name, function) in ReductionOperators.all { table[name] = function }
        for (name, function) in ShapeGenerationOperators.all { table[name] = function }
        for (name, function) in LocalResponseNormalizationOperator.all { table[name] = function }
        for (name, function) in ResizeOperator.all { table[name] = function }
        for (name, function) in EinsumOperator.all { table[name] = function }
        for (name, function) in ScatterOperator.all { table[name] = function }
        return table
    }()

    public static var supported: [String] { table.keys.sorted() }

    /// Throws naming the first node whose op ptq cannot run.
    public static func check(_ graph: Graph) throws {
        for node in graph.nodes where table[node.opType] == nil || !(node.domain.isEmpty || node.domain == "ai.onnx") {
            throw PTQError.unsupportedOperator(
                op: node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)", node: node.name,
                supported: supported)
        }
    }
}

/// Helpers shared by the operator implementations.
enum OperatorSupport {
    static func fail(_ node: Node, _ problem: String) -> PTQError {
        PTQError.execution(node: node.name, op: node.opType, problem: problem)
    }

    static func required(_ inputs: [Tensor?], _ index: Int, _ node: Node) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else {
            throw fail(node, "input \(index) is missing")
        }
        return tensor
    }

    static func optional(_ inputs: [Tensor?], _ index: Int) -> Tensor? {
        index < inputs.count ? inputs[index] : nil
    }

    /// Normalizes a possibly negative axis against a rank.
    static func axis(_ value: Int, rank: Int, _ node: Node) throws -> Int {
        let normalized = value < 0 ? value + rank : value
        guard normalized >= 0 && normalized < rank else {
            throw fail(node, "axis \(value) is out of range for rank \(rank)")
        }
        return normalized
    }

    /// Axes from the attribute (older opsets) or from an input (newer ones), whichever is given.
    static func axes(_ node: Node, _ inputs: [Tensor?], inputIndex: Int) -> [Int]? {
        if let tensor = optional(inputs, inputIndex) { return tensor.asIntegers.map { Int($0) } }
        return node.ints("axes")
    }
}
