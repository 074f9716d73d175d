/// Drops Identity nodes and inference-mode Dropout (whose mask nothing reads): readers take the
/// input instead. When the node's output is a graph output, the producer of its input is renamed
/// to it, so the model's output names stay the user's.
enum PassThroughRemoval {
    static func apply(_ graph: Graph, notes: inout [String]) -> Graph {
        var result = graph
        var removed = 0
        var index = 0
        while index < result.nodes.count {
            let node = result.nodes[index]
            let isPassThrough = node.opType == "Identity"
                || (node.opType == "Dropout" && node.outputs.dropFirst().allSatisfy { $0.isEmpty || result.readerCount(of: $0) == 0 })
            guard isPassThrough, let input = node.inputs.first, !input.isEmpty, let output = node.outputs.first else { index += 1; continue }
            let outputIsGraphOutput = result.outputs.contains { $0.name == output }
            let inputIsGraphInterface = result.outputs.contains { $0.name == input } || result.inputs.contains { $0.name == input }
                || result.initializers[input] != nil
            if outputIsGraphOutput {
                // Keep the output's name: the producer writes it directly, when there is one to rename.
                guard !inputIsGraphInterface, let producer = result.nodes.firstIndex(where: { $0.outputs.contains(input) }) else { index += 1; continue }
                result.nodes.remove(at: index)
                let slot = result.nodes[producer > index ? producer - 1 : producer].outputs.firstIndex(of: input)!
                result.nodes[producer > index ? producer - 1 : producer].outputs[slot] = output
                result.rename(tensor: input, to: output)
            } else {
                result.nodes.remove(at: index)
                result.rename(tensor: output, to: input)
            }
            removed += 1
        }
        if removed > 0 { notes.append("dropped \(removed) Identity/Dropout node\(removed == 1 ? "" : "s")") }
        return result
    }
}
