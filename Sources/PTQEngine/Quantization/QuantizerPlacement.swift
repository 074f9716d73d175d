/// Where activation quantizers go, following AIMET's default config:
/// - the model's data inputs (when `quantizeInput`), and every op output, except
/// - (a) inside an op + activation group (Conv+Relu, Conv+Clip, ConvTranspose+Relu, Gemm+Relu,
///   Add+Relu, only when the activation is the op's single reader) only the group's last output; a Relu
///   followed by a Min with a constant per-channel bound (a ReLU6 kept through cle, `ChannelBounds`) is
///   one with the Conv before it: only the Min's output;
/// - (b) outputs of Cast, Dropout, Expand, Squeeze, Pad, ReduceMean and Gather (and Constant, Shape);
/// - (c) integer tensors (`integerTensors`, found by running the graph once);
/// - outputs of excluded layers (and of their activation group).
public enum QuantizerPlacement {
    static let groups: [String: Set<String>] = [
        "Conv": ["Relu", "Clip"], "ConvTranspose": ["Relu"], "Gemm": ["Relu"], "Add": ["Relu"],
    ]
    static let unquantizedOps: Set<String> = ["Cast", "Dropout", "Expand", "Squeeze", "Pad", "ReduceMean", "Gather", "Constant", "Shape"]

    /// The activation quantizer at `layer`'s output: its own output when that is quantized (it is unless grouped with
    /// its activation), else the group's output (after the Relu/Clip, or the Min of a kept ReLU6).
    static func outputQuantizer(of layer: WeightLayer, _ graph: Graph, isQuantized: (String) -> Bool) -> String? {
        let output = graph.nodes[layer.nodeIndex].outputs[0]
        if isQuantized(output) { return output }
        let (_, target) = ReconstructionActivation.following(layer, in: graph)
        return isQuantized(target) ? target : nil
    }

    public static func activationTensors(_ graph: Graph, integerTensors: Set<String>, excludedLayers: Set<String> = [],
                                         quantizeInput: Bool = true) -> [String] {
        var result: [String] = quantizeInput ? graph.dataInputs.map(\.name) : []
        let consumers = graph.consumers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var excludedOutputs = Set<String>()
        for node in graph.nodes where excludedLayers.contains(node.name) {
            node.outputs.forEach { excludedOutputs.insert($0) }
        }
        for node in graph.nodes {
            if unquantizedOps.contains(node.opType) { continue }
            if node.opType == "Relu" || node.opType == "Clip", let source = node.inputs.first, excludedOutputs.contains(source),
               (consumers[source]?.count ?? 0) == 1 {
                // The activation of an excluded layer belongs to its group, and so does a channel-bound Min after it.
                node.outputs.forEach { excludedOutputs.insert($0) }
                if node.opType == "Relu", let readers = consumers[node.outputs[0]], readers.count == 1,
                   ChannelBounds.bound(of: graph.nodes[readers[0]], after: node, graph) != nil {
                    graph.nodes[readers[0]].outputs.forEach { excludedOutputs.insert($0) }
                }
                continue
            }
            for output in node.outputs where !output.isEmpty && !integerTensors.contains(output) && !excludedOutputs.contains(output) {
                if node.opType == "Relu", !graphOutputs.contains(output), let readers = consumers[output], readers.count == 1,
                   ChannelBounds.bound(of: graph.nodes[readers[0]], after: node, graph) != nil {
                    continue  // a ReLU6 kept as Relu + per-channel Min: one group, quantized after the Min
                }
                if let activations = groups[node.opType], !graphOutputs.contains(output),
                   let readers = consumers[output], readers.count == 1,
                   activations.contains(graph.nodes[readers[0]].opType) {
                    continue  // the group's activation output is quantized instead
                }
                result.append(output)
            }
        }
        return result
    }
}
