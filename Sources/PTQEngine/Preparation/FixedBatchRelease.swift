/// Lets a model exported with its batch fixed at 1 run any batch, where that changes nothing for
/// one sample.
///
/// Exporters that trace with one example (torch's default, the classic model zoo) write reshape
/// targets such as `[1, 2048]` (a flatten) or `[1, 4, 28, 56, 56]` (a channel shuffle) with the
/// batch spelled as 1. Such a graph fails on a batch of 2 although every sample is computed on its
/// own. When a dry run of two samples fails, every Reshape whose constant target starts with 1 and
/// whose input has 1 on axis 0 gets the target 0 there instead ("copy the input's batch", which is
/// 1 for one sample, so the function on one sample is unchanged). The rewrite is kept only when the
/// two-sample dry run then succeeds and `SampleIndependence` proves that the rewritten graph computes
/// each sample on its own: then a batch of N equals N runs of the original graph. Otherwise the graph
/// stays as exported, limited to batches of one (`Graph.batchLimit`), and `notes` says so.
enum FixedBatchRelease {
    static func apply(_ graph: Graph, notes: inout [String]) throws -> Graph {
        guard graph.dataInputs.count == 1, let input = graph.dataInputs.first, input.shape.count >= 1,
              input.shape[0] == nil || input.shape[0] == 1 else { return graph }
        let pairShape = [2] + input.shape.dropFirst().map { $0 ?? 1 }
        let pairFailure: String
        do {
            _ = try Executor(graph: graph).inferShapes(inputShape: pairShape)
            return graph
        } catch let error as PTQError {
            pairFailure = error.description
        }
        let shapes = try Executor(graph: graph).inferShapes()
        var constants = graph.initializers.merging(try graph.constantNodeValues()) { first, _ in first }
        var result = graph
        var rewritten = 0
        for (index, node) in graph.nodes.enumerated() where node.opType == "Reshape" && node.inputs.count == 2 {
            guard node.int("allowzero", default: 0) == 0, let target = constants[node.inputs[1]],
                  target.kind == .integer, target.rank == 1, target.integers.first == 1,
                  shapes[node.inputs[0]]?.first == 1 || node.inputs[0] == input.name else { continue }
            let name = result.uniqueName(node.inputs[1] + "_batch")
            let released = Tensor(shape: target.shape, integers: [0] + target.integers.dropFirst())
            result.setInitializer(name, released)
            constants[name] = released
            result.nodes[index].inputs[1] = name
            rewritten += 1
        }
        let reshapes = "\(rewritten) Reshape target\(rewritten == 1 ? "" : "s")"
        var reason = pairFailure
        if rewritten > 0 {
            do {
                _ = try Executor(graph: result).inferShapes(inputShape: pairShape)
                guard let obstacle = SampleIndependence.obstacle(result, constants: constants) else {
                    notes.append("the export fixes the batch at 1 in \(reshapes); \(rewritten == 1 ? "it now copies" : "they now copy") the batch (target 0), so any batch runs")
                    return DeadCodeRemoval.apply(result)
                }
                reason = obstacle
            } catch let error as PTQError {
                reason = error.description
            }
        }
        notes.append("the export fixes the batch at 1 and ptq cannot release it (\(firstLine(reason))); batches run one sample at a time")
        var limited = graph
        limited.batchLimit = 1
        return limited
    }

    private static func firstLine(_ text: String) -> String {
        String(text.split(separator: "\n").first ?? "")
    }
}
