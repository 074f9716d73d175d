import PTQEngine

/// diff: what changed between two states: nodes added or removed, tensors changed and by how much.
enum DiffCommand {
    static let spec = CommandSpec(
        name: "diff", arguments: [ArgumentSpec("A", optional: true, completion: .checkpoint), ArgumentSpec("B", optional: true, completion: .checkpoint)],
        summary: "what changed between two states (default: the previous state and the current one)",
        discussion: "A and B name checkpoints; B defaults to the current state, A to the state before the last change. Nodes are listed by node name (- removed, + added, ~ op changed); initializers by tensor name with a status: added, reshaped or changed (max |change| and that over max |A|); removed initializers are named.",
        examples: ["diff", "diff loaded", "diff folded loaded"]
    ) { session, arguments, output in
        let current = try session.requireGraph("diff")
        func state(_ name: String) throws -> Graph {
            guard let graph = session.checkpoints[name] else { throw ShellError.unknownCheckpoint(name, available: session.checkpointOrder) }
            return graph
        }
        let before: Graph
        if let name = arguments.positional(0) {
            before = try state(name)
        } else {
            guard let previous = session.undoStack.last else { throw ShellError.other("diff: no earlier state; name a checkpoint") }
            before = previous
        }
        let after = try arguments.positional(1).map(state) ?? current
        output.write(render(before, after))
    }

    static func render(_ a: Graph, _ b: Graph) -> String {
        var lines: [String] = []
        let namesA = Set(a.nodes.map(\.name)), namesB = Set(b.nodes.map(\.name))
        let removed = a.nodes.filter { !namesB.contains($0.name) }, added = b.nodes.filter { !namesA.contains($0.name) }
        let retyped = b.nodes.filter { node in a.node(named: node.name).map { $0.opType != node.opType } ?? false }
        for node in removed { lines.append("- node \(node.name) (\(node.opType))") }
        for node in added { lines.append("+ node \(node.name) (\(node.opType))") }
        for node in retyped { lines.append("~ node \(node.name): \(a.node(named: node.name)!.opType) -> \(node.opType)") }
        var changed: [[String]] = []
        for name in b.initializerOrder {
            guard let new = b.initializers[name] else { continue }
            guard let old = a.initializers[name] else {
                changed.append([name, "added", describeShape(new.shape), "", ""])
                continue
            }
            guard old != new else { continue }
            if old.shape != new.shape || old.kind != new.kind {
                changed.append([name, "reshaped", describeShape(new.shape), "", ""])
                continue
            }
            let oldValues = old.asFloats, newValues = new.asFloats
            let largest = zip(oldValues, newValues).map { abs($0 - $1) }.max() ?? 0
            let scale = oldValues.map { abs($0) }.max() ?? 0
            changed.append([name, "changed", describeShape(new.shape), Format.number(largest),
                            scale > 0 ? Format.number(largest / scale) : "-"])
        }
        let dropped = a.initializerOrder.filter { b.initializers[$0] == nil }
        if !changed.isEmpty {
            lines.append(Table.render(headers: ["initializer", "status", "shape", "max |change|", "relative"], rows: changed, rightAligned: [3, 4]).trimmed())
        }
        if !dropped.isEmpty {
            lines.append("removed initializer\(dropped.count == 1 ? "" : "s") (in A, not in B): " + dropped.joined(separator: ", "))
        }
        var statistics = Set(a.foldedStatistics.keys).symmetricDifference(b.foldedStatistics.keys).count
        for (layer, value) in b.foldedStatistics where a.foldedStatistics[layer] != nil && a.foldedStatistics[layer] != value {
            statistics += 1
        }
        if statistics > 0 { lines.append("kept BN statistics differ for \(statistics) layer\(statistics == 1 ? "" : "s")") }
        if lines.isEmpty { lines.append("no differences") }
        return lines.joined(separator: "\n") + "\n"
    }
}
