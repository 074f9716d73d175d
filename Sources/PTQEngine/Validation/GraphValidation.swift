/// Load-time validation: a bad model fails here, naming the node or tensor, the field and what was
/// expected, never later and never with a trap. Tests run the same checks after every pass.
///
/// Checks, in order: names (graph inputs, outputs and initializers unique; every tensor produced by
/// exactly one node and not also an initializer or input: SSA form), graph inputs (float element
/// type, non-negative dims, a size within `TensorLimits`), every node against the operator table
/// and its `OperatorContract`, every graph output computed by a node, and the order (acyclic,
/// every input provided). Shapes are checked by `Executor.inferShapes`, a dry run of one sample.
extension Graph {
    public func validate() throws {
        guard !outputs.isEmpty else { throw PTQError.invalidModel("the graph declares no outputs; expected at least one") }
        guard !dataInputs.isEmpty else {
            throw PTQError.invalidModel("the graph has no input that is not an initializer; ptq needs one to feed samples")
        }
        try checkNames()
        for input in dataInputs {
            guard [0, 1, 10, 11].contains(input.onnxType) else {
                throw PTQError.invalidModel(
                    "input '\(input.name)' has element type \(ONNXTensorCoding.typeName(input.onnxType)); ptq feeds float tensors")
            }
            if let bad = input.shape.compactMap({ $0 }).first(where: { $0 < 0 }) {
                throw PTQError.invalidModel("input '\(input.name)' has dimension \(bad) in \(input.shape.map { $0.map(String.init) ?? "?" }); expected sizes of 0 or more")
            }
            try TensorLimits.check(input.shape.map { $0 ?? 1 }, "input '\(input.name)'")
        }
        for (name, tensor) in initializers.sorted(by: { $0.key < $1.key }) {
            try TensorLimits.check(tensor.shape, "initializer '\(name)'")
        }
        try OperatorRegistry.check(self)
        for node in nodes { try OperatorContract.table[node.opType]?.check(node) }
        var produced = Set<String>()
        for node in nodes where node.opType != "Constant" { node.outputs.forEach { produced.insert($0) } }
        if let missing = outputs.first(where: { !produced.contains($0.name) }) {
            throw PTQError.invalidModel(
                "graph output '\(missing.name)' is not computed by any node (ptq evaluates outputs computed from the inputs)")
        }
        _ = try topologicallySorted()
    }

    private func checkNames() throws {
        var seen = Set<String>()
        for input in inputs where !seen.insert(input.name).inserted {
            throw PTQError.invalidModel("graph input '\(input.name)' is declared twice")
        }
        seen = []
        for node in nodes where !seen.insert(node.name).inserted {
            throw PTQError.invalidModel("two nodes are named '\(node.name)'; techniques and reports name layers by node, so names must be unique")
        }
        seen = []
        for output in outputs where !seen.insert(output.name).inserted {
            throw PTQError.invalidModel("graph output '\(output.name)' is declared twice")
        }
        let declared = Set(initializers.keys).union(inputs.map(\.name))
        var produced = Set<String>()
        for node in nodes {
            for output in node.outputs where !output.isEmpty {
                if declared.contains(output) {
                    throw PTQError.invalidModel(
                        "node '\(node.name)' (\(node.opType)) writes '\(output)', which is already an initializer or graph input (a tensor has one producer)")
                }
                if !produced.insert(output).inserted {
                    throw PTQError.invalidModel(
                        "node '\(node.name)' (\(node.opType)) writes '\(output)', which another node also writes (a tensor has one producer)")
                }
            }
        }
        if initializerOrder.count != Set(initializerOrder).count {
            let duplicate = initializerOrder.first { name in initializerOrder.filter { $0 == name }.count > 1 } ?? "?"
            throw PTQError.invalidModel("initializer '\(duplicate)' is defined twice")
        }
    }
}

extension Graph {
    /// Float initializers holding NaN or ±inf, by name, with how many: `load` warns about them.
    /// They are legitimate in places (an attention mask's -inf), so they do not fail validation;
    /// calibration skips non-finite values (`FiniteRange`).
    public func nonFiniteConstants() -> [(name: String, count: Int)] {
        initializerOrder.compactMap { name in
            guard let tensor = initializers[name], tensor.kind == .float else { return nil }
            let count = tensor.floats.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            return count > 0 ? (name, count) : nil
        }
    }
}
