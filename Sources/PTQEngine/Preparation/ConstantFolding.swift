/// Folds the subgraphs of an exported model that depend only on constants and on input shapes
/// into initializers: what exporters emit to compute padding amounts, flatten sizes and reshape
/// targets at run time (Shape, Gather, Slice, Concat, Cast, ConstantOfShape, Range, Expand, Equal,
/// Where, Unsqueeze, arithmetic on shape tensors).
///
/// Shapes come from dry runs of one and of two samples. A dimension that is the same in both is a
/// constant. The batch size is not: a Shape of a tensor whose first axis is the batch (1 in the first
/// run, 2 in the second, nothing else changing) yields the batch as a marker value; a Shape of a
/// tensor whose sizes change otherwise with the batch (patches folded into the batch axis) is left
/// to run. Gather, Slice, Concat,
/// Unsqueeze, Squeeze, Cast and Identity pass along and anything else refuses (that node is left to
/// run). A Reshape whose target holds the marker first and nothing else dynamic is rewritten with 0
/// there ("copy the input's batch"), the `x.view(x.size(0), -1)` flatten of every PyTorch CNN, so the
/// model runs any batch. Folded tensors keep their names; nodes nothing reads any more are removed.
enum ConstantFolding {
    /// Stands for the batch size inside folded shape values.
    static let batchMarker: Int64 = -0x5EED_BA7C

    /// Ops that carry the batch marker through unchanged.
    static let markerSafe: Set<String> = ["Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast", "Identity"]

    static func containsMarker(_ tensor: Tensor) -> Bool {
        tensor.kind == .integer ? tensor.integers.contains(batchMarker) : tensor.floats.contains(Float(batchMarker))
    }

    static func fold(_ graph: Graph, notes: inout [String]) throws -> Graph {
        let executor = try Executor(graph: graph)
        let shapes = try executor.inferShapes()
        let batchDynamic = graph.dataInputs.count == 1 && graph.dataInputs.contains { $0.shape.first.map { $0 == nil || $0 == 1 } ?? false }
        var pairShapes: [String: [Int]] = [:]
        if batchDynamic, let input = graph.dataInputs.first, !input.shape.isEmpty {
            // An export that fixes the batch at 1 fails here: nothing is then known to follow the
            // batch, and `FixedBatchRelease` deals with it after folding.
            if let pair = try? executor.inferShapes(inputShape: [2] + input.shape.dropFirst().map { $0 ?? 1 }) {
                pairShapes = pair
                pairShapes[input.name] = [2] + input.shape.dropFirst().map { $0 ?? 1 }
            }
        }
        /// Whether a tensor's first axis is the batch and nothing else in its shape depends on it.
        func batchLeading(_ name: String) -> Bool {
            guard let one = shapes[name] ?? graph.dataInputs.first(where: { $0.name == name }).map({ $0.shape.map { $0 ?? 1 } }),
                  let two = pairShapes[name], one.count == two.count, !one.isEmpty else { return false }
            return one[0] == 1 && two[0] == 2 && one.dropFirst() == two.dropFirst()
        }
        func batchFree(_ name: String) -> Bool {
            guard batchDynamic else { return true }
            guard let one = shapes[name], let two = pairShapes[name] else { return false }
            return one == two
        }
        var values = graph.initializers.merging(try graph.constantNodeValues()) { first, _ in first }
        var result = graph
        var foldedNodes = Set<Int>()
        var rewrittenReshapes = 0
        for (index, node) in graph.nodes.enumerated() where node.opType != "Constant" {
            if node.opType == "Shape", let input = node.inputs.first, let shape = shapes[input] ?? graph.dataInputs.first(where: { $0.name == input }).map({ $0.shape.map { $0 ?? 1 } }) {
                var dims = shape.map { Int64($0) }
                if values[input] == nil && !batchFree(input) {
                    guard batchLeading(input) else { continue }  // the batch hides in other axes: run it
                    dims[0] = batchMarker
                }
                let start = node.int("start", default: 0), end = node.int("end", default: dims.count)
                let lower = max(0, start < 0 ? start + dims.count : start), upper = min(dims.count, end < 0 ? end + dims.count : end)
                let slice = lower < upper ? Array(dims[lower..<upper]) : []
                values[node.outputs[0]] = Tensor(shape: [slice.count], integers: slice)
                foldedNodes.insert(index)
                continue
            }
            let inputs = node.inputs.filter { !$0.isEmpty }
            guard !inputs.isEmpty, inputs.allSatisfy({ values[$0] != nil }), let function = OperatorRegistry.table[node.opType] else { continue }
            let carriesMarker = inputs.contains { containsMarker(values[$0]!) }
            if node.opType == "Reshape", carriesMarker { continue }  // handled below: the data input is not constant
            if carriesMarker && !markerSafe.contains(node.opType) { continue }
            let outputs = try function(node, node.inputs.map { $0.isEmpty ? nil : values[$0] }, graph.opsetVersion)
            for (name, value) in zip(node.outputs, outputs) where !name.isEmpty { values[name] = value }
            foldedNodes.insert(index)
        }
        // Reshape targets: a marker first becomes 0 (copy the batch); any other marker stays dynamic.
        for (index, node) in graph.nodes.enumerated() where node.opType == "Reshape" && node.inputs.count == 2 {
            guard let target = values[node.inputs[1]], target.kind == .integer, target.integers.contains(batchMarker),
                  batchLeading(node.inputs[0]) else { continue }
            guard target.integers.first == batchMarker, !target.integers.dropFirst().contains(batchMarker),
                  node.int("allowzero", default: 0) == 0 else { continue }
            let name = result.uniqueName(node.inputs[1] + "_batch")
            result.setInitializer(name, Tensor(shape: target.shape, integers: [0] + target.integers.dropFirst()))
            result.nodes[index].inputs[1] = name
            rewrittenReshapes += 1
        }
        // Folded outputs that something still reads become initializers; folded nodes go.
        let markerFree = { (name: String) -> Bool in values[name].map { !containsMarker($0) } ?? false }
        var removable = Set<Int>()
        for index in foldedNodes where graph.nodes[index].outputs.allSatisfy({ $0.isEmpty || markerFree($0) }) {
            removable.insert(index)
        }
        let graphOutputs = Set(graph.outputs.map(\.name))
        removable = removable.filter { !graph.nodes[$0].outputs.contains(where: graphOutputs.contains) }
        for index in removable.sorted() {
            for name in graph.nodes[index].outputs where !name.isEmpty && result.initializers[name] == nil {
                result.setInitializer(name, values[name]!)
            }
        }
        result.nodes = result.nodes.enumerated().filter { !removable.contains($0.offset) }.map(\.element)
        result = DeadCodeRemoval.apply(result)
        let remaining = result.nodes.filter { $0.opType == "Shape" }.count
        if !removable.isEmpty {
            notes.append("folded \(removable.count) shape and constant nodes into initializers"
                         + (rewrittenReshapes > 0 ? "; \(rewrittenReshapes) batch-sized reshape\(rewrittenReshapes == 1 ? "" : "s") now copy the batch (target 0)" : "")
                         + (remaining > 0 ? "; \(remaining) Shape node\(remaining == 1 ? "" : "s") still run (their results depend on the batch)" : ""))
        }
        return result
    }
}
