/// A QDQ model ONNX Runtime runs: each quantized weight becomes an integer initializer read through
/// DequantizeLinear (per axis when per-channel), each quantized activation a QuantizeLinear /
/// DequantizeLinear pair its readers read through. Symmetric grids use int8 with zero point 0;
/// asymmetric ones uint8 with zero point −offset. Below 8 bits activations are clipped to the grid
/// first (the 8-bit type is wider than the grid); ONNX rounds half to even, as ptq does.
/// Per-axis dequantization needs opset 13 and 16-bit types opset 21: an older model is refused
/// with a clear error rather than silently rewritten.
public enum QDQExport {
    public static func graph(_ state: QuantizationState) throws -> Graph {
        var graph = state.calibratedGraph
        if state.weightEncodings.values.contains(where: { $0.contains { $0.bitwidth > 8 } })
            || state.activationEncodings.values.contains(where: { $0.bitwidth > 8 }) {
            throw PTQError.invalidModel("QDQ export of more than 8 bits needs 16-bit QuantizeLinear (opset 21); ptq exports 2 to 8 bits")
        }
        if state.weightEncodings.values.contains(where: { $0.count > 1 }) && graph.opsetVersion < 13 {
            throw PTQError.invalidModel("per-channel QDQ export needs opset 13 (per-axis DequantizeLinear); the model is opset \(graph.opsetVersion)")
        }
        if graph.opsetVersion < 10 {
            throw PTQError.invalidModel("QDQ export needs opset 10 or later; the model is opset \(graph.opsetVersion)")
        }
        var newNodes: [Node] = []
        for name in state.weightEncodings.keys.sorted() {
            let encodings = state.weightEncodings[name]!
            let weight = graph.initializers[name]!
            let axis = state.weightAxes[name] ?? 0
            let inner = weight.shape.dropFirst(axis + 1).reduce(1, *)
            let symmetric = encodings[0].isSymmetric
            let integers = weight.floats.enumerated().map { index, value -> Int64 in
                let encoding = encodings[encodings.count == 1 ? 0 : (index / inner) % encodings.count]
                let q = Int64(saturating: (value / encoding.scale).rounded(.toNearestOrEven)) &- Int64(encoding.offset)
                let clamped = min(max(q, 0), Int64(encoding.levels))
                return symmetric ? clamped + Int64(encoding.offset) : clamped
            }
            let quantizedName = graph.uniqueName("\(name)_quantized")
            graph.setInitializer(quantizedName, Tensor(shape: weight.shape, integers: integers, onnxType: symmetric ? 3 : 2))
            let (scaleName, zeroName) = addScaleAndZero(&graph, base: name, encodings)
            let dequantized = graph.uniqueName("\(name)_dequantized")
            var attributes: [String: Attribute] = [:]
            if encodings.count > 1 { attributes["axis"] = .int(axis) }
            newNodes.append(Node(name: graph.uniqueName("\(name)_DequantizeLinear"), opType: "DequantizeLinear",
                                 inputs: [quantizedName, scaleName, zeroName], outputs: [dequantized], attributes: attributes))
            for index in graph.nodes.indices {
                graph.nodes[index].inputs = graph.nodes[index].inputs.map { $0 == name ? dequantized : $0 }
            }
            graph.removeInitializer(name)
        }
        let graphOutputs = Set(graph.outputs.map(\.name))
        for tensor in state.activationOrder {
            let encoding = state.activationEncodings[tensor]!
            var source = tensor
            if graphOutputs.contains(tensor) {
                // Keep the output's name on the dequantized value: the producer writes a renamed tensor.
                source = graph.uniqueName("\(tensor)_float")
                for index in graph.nodes.indices { graph.nodes[index].outputs = graph.nodes[index].outputs.map { $0 == tensor ? source : $0 } }
            }
            var clipped = source
            if encoding.bitwidth < 8 {
                clipped = graph.uniqueName("\(tensor)_clipped")
                let low = graph.uniqueName("\(tensor)_grid_min"), high = graph.uniqueName("\(tensor)_grid_max")
                graph.setInitializer(low, .scalar(encoding.minimum))
                graph.setInitializer(high, .scalar(encoding.maximum))
                newNodes.append(Node(name: graph.uniqueName("\(tensor)_Clip"), opType: "Clip", inputs: [source, low, high], outputs: [clipped]))
            }
            let (scaleName, zeroName) = addScaleAndZero(&graph, base: tensor, [encoding])
            let quantized = graph.uniqueName("\(tensor)_quantized")
            let dequantized = graphOutputs.contains(tensor) ? tensor : graph.uniqueName("\(tensor)_dequantized")
            if !graphOutputs.contains(tensor) {
                for index in graph.nodes.indices {
                    graph.nodes[index].inputs = graph.nodes[index].inputs.map { $0 == tensor ? dequantized : $0 }
                }
            }
            newNodes.append(Node(name: graph.uniqueName("\(tensor)_QuantizeLinear"), opType: "QuantizeLinear",
                                 inputs: [clipped, scaleName, zeroName], outputs: [quantized]))
            newNodes.append(Node(name: graph.uniqueName("\(tensor)_DequantizeLinear"), opType: "DequantizeLinear",
                                 inputs: [quantized, scaleName, zeroName], outputs: [dequantized]))
        }
        graph.nodes += newNodes
        return try graph.topologicallySorted()
    }

    /// Scale and zero-point initializers for one or more encodings (int8 zero 0 when symmetric,
    /// uint8 zero −offset when asymmetric).
    static func addScaleAndZero(_ graph: inout Graph, base: String, _ encodings: [Encoding]) -> (String, String) {
        let scaleName = graph.uniqueName("\(base)_scale"), zeroName = graph.uniqueName("\(base)_zero_point")
        let shape = encodings.count == 1 ? [Int]() : [encodings.count]
        graph.setInitializer(scaleName, Tensor(shape: shape, floats: encodings.map(\.scale)))
        let symmetric = encodings[0].isSymmetric
        graph.setInitializer(zeroName, Tensor(shape: shape, integers: encodings.map { symmetric ? 0 : Int64(-$0.offset) },
                                              onnxType: symmetric ? 3 : 2))
        return (scaleName, zeroName)
    }
}
