/// Folds a constant-zero `Pad` into the Conv that alone reads it (TF "same" padding as exported:
/// Pad, then an unpadded Conv), and into an AveragePool that counts padding (count_include_pad=1),
/// whose average of zeros is then the same. Never into MaxPool: it pads with -inf, not 0. Only
/// spatial padding that is non-negative folds; the node's pads grow by the Pad's amounts.
enum PadFolding {
    static func apply(_ graph: Graph, notes: inout [String]) throws -> Graph {
        var result = graph
        var folded = 0
        let constants = try graph.constantNodeValues()
        for padIndex in graph.nodes.indices.reversed() where graph.nodes[padIndex].opType == "Pad" {
            let pad = result.nodes[padIndex]
            guard let pads = zeroPadAmounts(pad, result, constants: constants), let output = pad.outputs.first,
                  result.readerCount(of: output) == 1,
                  let readerIndex = result.nodes.firstIndex(where: { $0.inputs.first == output }) else { continue }
            let reader = result.nodes[readerIndex]
            let rank = pads.count / 2
            guard rank == 4, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else { continue }
            let foldable = reader.opType == "Conv"
                || (reader.opType == "AveragePool" && reader.int("count_include_pad", default: 0) == 1)
            guard foldable, reader.string("auto_pad", default: "NOTSET") == "NOTSET" else { continue }
            let existing = reader.ints("pads") ?? [0, 0, 0, 0]
            guard existing.count == 4 else { continue }
            let added = [pads[2], pads[3], pads[6], pads[7]]
            result.nodes[readerIndex].attributes["pads"] = .ints(zip(existing, added).map { $0 + $1 })
            result.nodes[readerIndex].inputs[0] = pad.inputs[0]
            result.nodes.remove(at: padIndex)
            folded += 1
        }
        if folded > 0 { notes.append("folded \(folded) zero Pad node\(folded == 1 ? "" : "s") into the following Conv/AveragePool pads") }
        return DeadCodeRemoval.apply(result)
    }

    /// The Pad's amounts when it pads with constant zeros and they are known; nil otherwise.
    static func zeroPadAmounts(_ pad: Node, _ graph: Graph, constants: [String: Tensor]) -> [Int]? {
        guard pad.string("mode", default: "constant") == "constant" else { return nil }
        func constant(_ slot: Int) -> Tensor? {
            guard slot < pad.inputs.count, !pad.inputs[slot].isEmpty else { return nil }
            return graph.initializers[pad.inputs[slot]] ?? constants[pad.inputs[slot]]
        }
        let amounts: [Int]
        if let attribute = pad.ints("pads") {
            amounts = attribute
            if pad.float("value", default: 0) != 0 { return nil }
        } else {
            guard let tensor = constant(1) else { return nil }
            amounts = tensor.asIntegers.map { Int($0) }
            if pad.inputs.count > 2, !pad.inputs[2].isEmpty {
                guard let value = constant(2), value.asFloats.allSatisfy({ $0 == 0 }) else { return nil }
            }
            if pad.inputs.count > 3, !pad.inputs[3].isEmpty { return nil }  // axes: not folded
        }
        guard amounts.allSatisfy({ $0 >= 0 }) else { return nil }
        return amounts
    }
}
