/// ReLU6 kept through cross-layer scaling: Clip(0, u) written as Relu followed by Min with a per-channel bound.
///
/// Clipping does not commute with per-channel scaling, but it moves with it: min(max(z, 0), u) / s =
/// min(max(z / s, 0), u / s) for s > 0. ONNX's Clip takes scalar bounds only, so the clip becomes
/// `Relu` then `Min(·, U)` with U a constant [C, 1, 1] (one bound per channel; u everywhere at first, which
/// computes exactly what the Clip did), and scaling a channel by 1/s divides its bound by s. The network's
/// function is unchanged, unlike relu6-to-relu (Nagel et al.'s step), which lets values above u through.
///
/// Quantizer placement treats Conv + Relu + Min as one group (one quantizer, after the Min); the QDQ export
/// and the encodings carry the Min's output like any activation, and ONNX Runtime runs Relu and Min as they are.
enum ChannelBounds {
    /// The first opset whose Min broadcasts.
    static let minimumOpset = 8

    /// The per-channel bound (initializer name) of a `Min` reading a Relu's output, when it is one: the other
    /// input a float constant of shape [C, 1, …] or [1, C, 1, …] (or a scalar) and the Relu read by nothing else.
    /// With `rank` (the activation's), the bound's one non-unit axis must broadcast onto axis 1, the channels:
    /// a [C] bound, for instance, would broadcast along the width.
    static func bound(of minimum: Node, after relu: Node, _ graph: Graph, rank: Int? = nil) -> String? {
        guard minimum.opType == "Min", minimum.inputs.count == 2, minimum.outputs.count == 1,
              let slot = minimum.inputs.firstIndex(of: relu.outputs[0]) else { return nil }
        let name = minimum.inputs[1 - slot]
        guard let value = graph.initializers[name], value.kind == .float, value.count >= 1, graph.readers(ofInitializer: name) == 1,
              value.count == 1 || value.shape.filter({ $0 != 1 }).count == 1,
              graph.readerCount(of: relu.outputs[0]) == 1 else { return nil }
        if let rank, value.count > 1 {
            guard value.rank <= rank, let axis = value.shape.firstIndex(where: { $0 != 1 }),
                  axis + rank - value.rank == 1 else { return nil }
        }
        return name
    }

    /// Rewrites every Clip(0, u) (u > 0, constant scalar bounds) that joins two layers cross-layer scaling can
    /// equalize (fed by one's output alone, read only by the other, perhaps through a zero Pad) as Relu + Min with
    /// a per-channel bound.
    /// Returns the rewritten Clips' names. The Clip's output name stays (now the Min's), so readers are unchanged.
    /// Nothing is rewritten below opset 8, where Min does not broadcast (the bound could not be per channel).
    static func rewriteClips(_ graph: inout Graph) throws -> [String] {
        guard graph.opsetVersion >= minimumOpset else { return [] }
        let constants = try graph.constantNodeValues()
        let producers = graph.producers(), consumers = graph.consumers()
        var nodeNames = Set(graph.nodes.map(\.name)), tensors = Set(graph.nodes.flatMap(\.outputs)).union(graph.initializers.keys)
        // Decided on the graph as given (rewriting one Clip changes no other Clip's producer or readers), applied after.
        var rewrites: [(index: Int, relu: Node, minimum: Node)] = []
        for (index, clip) in graph.nodes.enumerated() where clip.opType == "Clip" {
            guard let input = clip.inputs.first, let output = clip.outputs.first,
                  let producer = producers[input].map({ graph.nodes[$0] }), LayerSets.isScalable(producer, graph),
                  graph.readerCount(of: input) == 1, graph.readerCount(of: output) == 1,
                  let (reader, _, reads) = LayerSets.reader(of: output, graph, consumers, constants),
                  LayerSets.isScalable(reader, reading: reads, graph),
                  let weight = graph.initializers[producer.inputs[1]],
                  let (low, high) = ActivationOperators.constantClipBounds(clip, { graph.initializers[$0] ?? constants[$0] }),
                  low == 0, high > 0, high.isFinite else { continue }
            let channels = producer.opType == "ConvTranspose" ? weight.shape[1] * producer.int("group", default: 1) : weight.shape[0]
            let boundName = unique("\(clip.name).channel_bound", avoiding: tensors)
            let reluOutput = unique("\(output).relu", avoiding: tensors.union([boundName]))
            let minimumName = unique("\(clip.name)/channel_bound", avoiding: nodeNames)
            tensors.formUnion([boundName, reluOutput])
            nodeNames.insert(minimumName)
            graph.setInitializer(boundName, Tensor(shape: [channels] + [Int](repeating: 1, count: weight.rank - 2),
                                                   floats: [Float](repeating: high, count: channels)))
            rewrites.append((index, Node(name: clip.name, opType: "Relu", inputs: [input], outputs: [reluOutput]),
                             Node(name: minimumName, opType: "Min", inputs: [reluOutput, boundName], outputs: [output])))
        }
        // From the back, so each inserted Min leaves the indices still to rewrite where they were.
        for rewrite in rewrites.reversed() {
            graph.nodes[rewrite.index] = rewrite.relu
            graph.nodes.insert(rewrite.minimum, at: rewrite.index + 1)
        }
        if !rewrites.isEmpty { graph.removeUnreadConstants() }
        return rewrites.map(\.relu.name)
    }

    /// The bound of each channel (a scalar bound spread over `channels`).
    static func values(_ name: String, channels: Int, _ graph: Graph) -> [Float] {
        let bound = graph.initializers[name]!.asFloats
        return bound.count == 1 ? [Float](repeating: bound[0], count: channels) : bound
    }

    /// Replaces the bound's values, keeping a per-channel shape ([C, 1, …] from a scalar).
    static func set(_ name: String, _ values: [Float], rank: Int, _ graph: inout Graph) {
        let old = graph.initializers[name]!
        let shape = old.count == values.count ? old.shape : [values.count] + [Int](repeating: 1, count: max(0, rank - 1))
        graph.initializers[name] = Tensor(shape: shape, floats: values)
    }

    static func unique<S: Sequence>(_ base: String, avoiding taken: S) -> String where S.Element == String {
        let used = Set(taken)
        var candidate = base, suffix = 1
        while used.contains(candidate) {
            suffix += 1
            candidate = "\(base)_\(suffix)"
        }
        return candidate
    }
}
