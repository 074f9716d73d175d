/// Finding the layer sets cross-layer scaling and high-bias fold work on.
///
/// A chain is a run of Conv/ConvTranspose layers (1, 2 or 3 spatial axes: the channel arithmetic is the same)
/// with constant weights joined directly or through a
/// single-reader Relu or PRelu, or a Relu followed by a Min with a constant per-channel bound (a ReLU6 as
/// `ChannelBounds` rewrites it); anything else ends it (a ReLU6 left in place, any fan-out, Add,
/// Concat, pooling, Gemm, other ops). A chain is cut into sets: Conv→Conv pairs and
/// Conv→Depthwise→Conv triplets (depthwise: groups = in = out channels); consecutive sets overlap
/// (the last layer of one is the first of the next); other grouped convs end a set.
public struct LayerSet: Sendable, Equatable {
    /// Node names, 2 or 3.
    public var layers: [String]
    /// The activation between consecutive layers (nil: none), one per link.
    public var activations: [String?]
    /// The per-channel upper bound (an initializer) of a Relu + Min activation, one per link (nil: unbounded).
    public var bounds: [String?] = []
}

public enum LayerSets {
    static func isDepthwise(_ node: Node, _ graph: Graph) -> Bool {
        guard node.opType == "Conv", let weight = graph.initializers[node.inputs[1]] else { return false }
        let groups = node.int("group", default: 1)
        return groups > 1 && weight.shape[0] == groups && weight.shape[1] == 1
    }

    static func isPlain(_ node: Node) -> Bool { node.int("group", default: 1) == 1 }

    static func isScalable(_ node: Node, _ graph: Graph) -> Bool {
        guard node.opType == "Conv" || node.opType == "ConvTranspose", node.inputs.count >= 2,
              let weight = graph.initializers[node.inputs[1]], weight.kind == .float, (3...5).contains(weight.rank),
              graph.readers(ofInitializer: node.inputs[1]) == 1 else { return false }
        return node.opType == "Conv" || isPlain(node)
    }

    /// The layer directly after `index` in a chain, the activation node between (if any) and its bound.
    static func next(after index: Int, _ graph: Graph, _ consumers: [String: [Int]]) -> (Int, String?, String?)? {
        let output = graph.nodes[index].outputs[0]
        guard graph.readerCount(of: output) == 1, let reader = consumers[output]?.first else { return nil }
        let node = graph.nodes[reader]
        if isScalable(node, graph) && node.inputs[0] == output { return (reader, nil, nil) }
        if node.opType == "Relu" || node.opType == "PRelu" {
            var activated = node.outputs[0]
            guard graph.readerCount(of: activated) == 1, var after = consumers[activated]?.first else { return nil }
            var bound: String? = nil
            if node.opType == "Relu", let name = ChannelBounds.bound(of: graph.nodes[after], after: node, graph) {
                activated = graph.nodes[after].outputs[0]
                guard graph.readerCount(of: activated) == 1, let reader = consumers[activated]?.first else { return nil }
                (after, bound) = (reader, name)
            }
            guard isScalable(graph.nodes[after], graph), graph.nodes[after].inputs[0] == activated else { return nil }
            return (after, node.name, bound)
        }
        return nil
    }

    public static func find(_ graph: Graph) -> [LayerSet] {
        let consumers = graph.consumers()
        var hasPredecessor = Set<Int>()
        var links: [Int: (Int, String?, String?)] = [:]
        for index in graph.nodes.indices where isScalable(graph.nodes[index], graph) {
            if let link = next(after: index, graph, consumers) {
                links[index] = link
                hasPredecessor.insert(link.0)
            }
        }
        var sets: [LayerSet] = []
        for start in graph.nodes.indices where links[start] != nil && !hasPredecessor.contains(start) {
            var chain = [start]
            var activations: [String?] = [], bounds: [String?] = []
            while let (following, activation, bound) = links[chain.last!] {
                chain.append(following)
                activations.append(activation)
                bounds.append(bound)
            }
            var position = 0
            while position + 1 < chain.count {
                let second = graph.nodes[chain[position + 1]]
                if isDepthwise(second, graph) {
                    guard position + 2 < chain.count, isPlain(graph.nodes[chain[position + 2]]) else { break }
                    sets.append(LayerSet(layers: chain[position...(position + 2)].map { graph.nodes[$0].name },
                                         activations: Array(activations[position...(position + 1)]),
                                         bounds: Array(bounds[position...(position + 1)])))
                    position += 2
                } else if isPlain(second) {
                    sets.append(LayerSet(layers: [graph.nodes[chain[position]].name, second.name], activations: [activations[position]],
                                         bounds: [bounds[position]]))
                    position += 1
                } else {
                    position += 1  // another grouped conv ends the set
                }
            }
        }
        return sets
    }
}
