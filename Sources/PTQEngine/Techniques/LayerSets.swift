/// Finding the layer sets cross-layer scaling and high-bias fold work on.
///
/// A chain is a run of Conv/ConvTranspose layers (1, 2 or 3 spatial axes: the channel arithmetic is the same)
/// with constant weights joined directly or through a
/// single-reader Relu or PRelu, or a Relu followed by a Min with a constant per-channel bound (a ReLU6 as
/// `ChannelBounds` rewrites it), and through a Pad of zeros on spatial axes before a layer (zeros scale to zeros);
/// anything else ends it (a ReLU6 left in place, any fan-out, Add,
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
    /// A constant-zero Pad before the link's second layer (nil: none), one per link.
    public var pads: [String?] = []
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

    /// One link of a chain: the next layer, the activation between (if any), its per-channel bound (if any) and a
    /// constant-zero Pad just before the next layer (if any).
    struct Link {
        var layer: Int
        var activation: String? = nil
        var bound: String? = nil
        var pad: String? = nil
    }

    /// The only reader of `tensor`, looking through a Pad that adds zeros on spatial axes only (zeros scale to zeros,
    /// so per-channel scaling passes it): the reader, that Pad's name, and the tensor the reader reads (the Pad's
    /// output, or `tensor`).
    static func reader(of tensor: String, _ graph: Graph, _ consumers: [String: [Int]],
                       _ constants: [String: Tensor]) -> (index: Int, pad: String?, reads: String)? {
        guard graph.readerCount(of: tensor) == 1, let reader = consumers[tensor]?.first else { return nil }
        let node = graph.nodes[reader]
        guard node.opType == "Pad", node.inputs.first == tensor, let output = node.outputs.first,
              let amounts = PadFolding.zeroPadAmounts(node, graph, constants: constants), amounts.count >= 4,
              amounts[0] == 0, amounts[1] == 0, amounts[amounts.count / 2] == 0, amounts[amounts.count / 2 + 1] == 0,
              graph.readerCount(of: output) == 1, let after = consumers[output]?.first else { return (reader, nil, tensor) }
        return (after, node.name, output)
    }

    /// Whether `index` is a layer scaling can reach that reads `tensor` as its data input.
    static func isScalable(_ index: Int, reading tensor: String, _ graph: Graph) -> Bool {
        isScalable(graph.nodes[index], graph) && graph.nodes[index].inputs.first == tensor
    }

    /// The link after layer `index` in a chain.
    static func next(after index: Int, _ graph: Graph, _ consumers: [String: [Int]], _ constants: [String: Tensor]) -> Link? {
        let output = graph.nodes[index].outputs[0]
        guard let (reader, pad, reads) = reader(of: output, graph, consumers, constants) else { return nil }
        if isScalable(reader, reading: reads, graph) { return Link(layer: reader, pad: pad) }
        let node = graph.nodes[reader]
        guard pad == nil, node.opType == "Relu" || node.opType == "PRelu" else { return nil }
        var activated = node.outputs[0]
        guard graph.readerCount(of: activated) == 1, let following = consumers[activated]?.first else { return nil }
        var bound: String? = nil
        let rank = graph.initializers[graph.nodes[index].inputs[1]]?.rank
        if node.opType == "Relu", let name = ChannelBounds.bound(of: graph.nodes[following], after: node, graph, rank: rank) {
            activated = graph.nodes[following].outputs[0]
            bound = name
        }
        guard let (after, padAfter, reads) = Self.reader(of: activated, graph, consumers, constants),
              isScalable(after, reading: reads, graph) else { return nil }
        return Link(layer: after, activation: node.name, bound: bound, pad: padAfter)
    }

    public static func find(_ graph: Graph) -> [LayerSet] {
        let consumers = graph.consumers()
        var hasPredecessor = Set<Int>()
        let constants = (try? graph.constantNodeValues()) ?? [:]
        var links: [Int: Link] = [:]
        for index in graph.nodes.indices where isScalable(graph.nodes[index], graph) {
            if let link = next(after: index, graph, consumers, constants) {
                links[index] = link
                hasPredecessor.insert(link.layer)
            }
        }
        var sets: [LayerSet] = []
        for start in graph.nodes.indices where links[start] != nil && !hasPredecessor.contains(start) {
            var chain = [start]
            var activations: [String?] = [], bounds: [String?] = [], pads: [String?] = []
            while let link = links[chain.last!] {
                chain.append(link.layer)
                activations.append(link.activation)
                bounds.append(link.bound)
                pads.append(link.pad)
            }
            var position = 0
            while position + 1 < chain.count {
                let second = graph.nodes[chain[position + 1]]
                if isDepthwise(second, graph) {
                    guard position + 2 < chain.count, isPlain(graph.nodes[chain[position + 2]]) else { break }
                    sets.append(LayerSet(layers: chain[position...(position + 2)].map { graph.nodes[$0].name },
                                         activations: Array(activations[position...(position + 1)]),
                                         bounds: Array(bounds[position...(position + 1)]), pads: Array(pads[position...(position + 1)])))
                    position += 2
                } else if isPlain(second) {
                    sets.append(LayerSet(layers: [graph.nodes[chain[position]].name, second.name], activations: [activations[position]],
                                         bounds: [bounds[position]], pads: [pads[position]]))
                    position += 1
                } else {
                    position += 1  // another grouped conv ends the set
                }
            }
        }
        return sets
    }
}
