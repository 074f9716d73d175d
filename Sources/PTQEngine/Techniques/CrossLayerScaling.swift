import Foundation

/// cle — cross-layer scaling (equalization) of consecutive layers, Nagel et al. 2019, section 4.1.
///
/// On the sets of `LayerSets` (Conv→Conv pairs, Conv→Depthwise→Conv triplets, through Relu/PRelu,
/// which commute with positive per-channel scaling, and through ReLU6, first rewritten as Relu + Min with a
/// per-channel bound that each scaling divides: `ChannelBounds`). Ranges r[i] = max|W| over all axes but the
/// channel: output channels of a first layer, input channels of a second.
/// - Pair: s = sqrt(r1/r2); W1[i] /= s[i], b1[i] /= s[i], W2[:, i] *= s[i].
/// - Triplet (W0, Wdw, W2): P = r0·rdw·r2, s12 = r0/cbrt(P), s23 = cbrt(P)/r2;
///   W0[i] /= s12, b0 /= s12, Wdw[i] *= s12/s23, bdw /= s23, W2[:, i] *= s23.
/// A scale that is 0, NaN or infinite becomes 1 (dead channels stay as they are).
/// Kept BatchNorm statistics follow the layer outputs they describe (γ, β divided by the scale).
/// Default: each set once, in topological order (AIMET's behaviour); `--iterations N` sweeps up to
/// N times, stopping when every scale is within 1e-6 of 1 (the paper's iterate-to-converge).
/// Function-preserving in exact arithmetic.
public struct CrossLayerScaling: Technique {
    public init() {}
    public let name = "cle"
    public let summary = "cross-layer scaling: equalize per-channel weight ranges of consecutive layers"
    public let options: [(String, String?, String)] = [("--iterations", "N", "at most N sweeps until every scale is within 1e-6 of 1")]
    public var specification: String {
        """
        cle: cross-layer scaling (equalization), Nagel et al. 2019, section 4.1.
        Sets: chains of Conv/ConvTranspose joined directly or through a single-reader Relu/PRelu or ReLU6 (fan-out, Add,
          Concat, pooling, Gemm and other ops end a chain), cut into Conv->Conv pairs and
          Conv->Depthwise->Conv triplets; consecutive sets overlap; other grouped convs end a set.
        r[i] = max|W| over all axes but the channel (output channels of a first layer, input channels of a second).
        Pair: s = sqrt(r1/r2); W1[i] /= s, b1[i] /= s, W2[:, i] *= s.
        Triplet: P = r0*rdw*r2, s12 = r0/cbrt(P), s23 = cbrt(P)/r2; W0[i] /= s12, b0 /= s12, Wdw[i] *= s12/s23,
          bdw /= s23, W2[:, i] *= s23. Scales that are 0, NaN or infinite become 1.
        A ReLU6 (Clip 0..u) between two layers becomes Relu + Min(x, U) with U one bound per channel (u at first); a
          channel divided by s gets bound u/s, so the function is unchanged (relu6-to-relu instead lets values above u pass).
        Kept BN statistics are divided by the same scales. Default: each set once, in topological order (AIMET);
        --iterations N: up to N sweeps until every scale is within 1e-6 of 1. Function-preserving.
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        let clips = try ChannelBounds.rewriteClips(&graph)
        if !clips.isEmpty {
            report.changed.append("\(clips.count) ReLU6 kept as Relu + Min with a per-channel bound, so scaling passes them "
                                  + "without changing the function: \(ReportFormat.list(clips))")
        } else if graph.opsetVersion < ChannelBounds.minimumOpset, graph.nodes.contains(where: { $0.opType == "Clip" }) {
            report.notes.append("opset \(graph.opsetVersion): a ReLU6 ends a chain (keeping it through scaling needs Min "
                                + "with broadcasting, opset \(ChannelBounds.minimumOpset))")
        }
        let sets = LayerSets.find(graph)
        guard !sets.isEmpty else {
            report.notes.append("no Conv->Conv pairs or Conv->Depthwise->Conv triplets: \(Self.blocker(graph))")
            return (graph, report)
        }
        let sweeps = Int(options.values["--iterations"] ?? "1") ?? 1
        let before = sets.map { spread(graph, $0.layers[0]) }
        var used = 0
        var largestScale = [Float](repeating: 0, count: sets.count)
        for _ in 0..<max(1, sweeps) {
            used += 1
            var largestChange: Float = 0
            for (index, set) in sets.enumerated() {
                let change = scale(&graph, set)
                largestScale[index] = max(largestScale[index], change)
                largestChange = max(largestChange, change)
            }
            if largestChange <= Self.noise { break }
        }
        for (index, (set, spreadBefore)) in zip(sets, before).enumerated() {
            let chain = set.layers.joined(separator: " -> ")
            guard largestScale[index] > Self.noise else {
                report.unchanged.append("\(chain): already equalized (every scale within 1e-6 of 1)")
                continue
            }
            let after = spread(graph, set.layers[0])
            report.changed.append(chain + " (channel-range spread of \(set.layers[0]), as `ranges` shows it: "
                                  + "\(ReportFormat.number(spreadBefore)) -> \(ReportFormat.number(after)))")
        }
        report.notes.append("\(sets.count) sets, \(used) sweep\(used == 1 ? "" : "s")")
        return (graph, report)
    }

    /// A scale within this of 1 is float noise, not a change.
    static let noise: Float = 1e-6

    /// The channel-range spread `ranges` reports (largest / smallest live max - min), so the two
    /// commands speak of one quantity; the scaling itself uses max|W| as the paper does.
    func spread(_ graph: Graph, _ layer: String) -> Double {
        guard let index = graph.nodes.firstIndex(where: { $0.name == layer }),
              let weightLayer = WeightLayer.make(graph.nodes[index], index: index, graph: graph) else { return 0 }
        return RangeStatistics(layer: weightLayer, graph: graph).spread
    }

    /// Why a graph has no sets, naming what actually stands between its convolutions.
    static func blocker(_ graph: Graph) -> String {
        if graph.nodes.contains(where: { $0.opType == "BatchNormalization" }) {
            return "BatchNorm nodes sit between the layers: apply fold-bn first"
        }
        if graph.nodes.contains(where: { $0.opType == "Clip" }) {
            return "ReLU6 (Clip) nodes sit between the layers: apply relu6-to-relu"
        }
        return "no convolution feeds another directly or through a Relu"
    }

    static func outputAxis(_ node: Node) -> Int { node.opType == "ConvTranspose" ? 1 : 0 }
    static func inputAxis(_ node: Node) -> Int { node.opType == "ConvTranspose" ? 0 : 1 }

    /// max|W| per index of `axis`.
    static func ranges(_ weight: Tensor, axis: Int) -> [Float] {
        var result = [Float](repeating: 0, count: weight.shape[axis])
        weight.forEachChannelRun(axis: axis) { channel, run in
            for index in run { result[channel] = max(result[channel], abs(weight.floats[index])) }
        }
        return result
    }

    static func sanitize(_ value: Float) -> Float { value.isFinite && value != 0 ? value : 1 }

    /// Scales one set; returns the largest |s − 1| applied.
    func scale(_ graph: inout Graph, _ set: LayerSet) -> Float {
        let nodes = set.layers.map { graph.node(named: $0)! }
        let weights = nodes.map { graph.initializers[$0.inputs[1]]! }
        let first = Self.ranges(weights[0], axis: Self.outputAxis(nodes[0]))
        let last = Self.ranges(weights.last!, axis: Self.inputAxis(nodes.last!))
        var factors: [[Float]]  // per layer: divide its outputs by factors[i] (last layer: multiply inputs)
        if nodes.count == 2 {
            factors = [zip(first, last).map { Self.sanitize(sqrtf($0 / $1)) }]
        } else {
            let middle = Self.ranges(weights[1], axis: 0)
            var s12 = [Float](), s23 = [Float]()
            for i in first.indices {
                let root = cbrtf(first[i] * middle[i] * last[i])
                s12.append(Self.sanitize(first[i] / root))
                s23.append(Self.sanitize(root / last[i]))
            }
            factors = [s12, s23]
        }
        // Layer k's outputs are divided by factors[k]; its inputs multiplied by factors[k − 1].
        for (k, node) in nodes.enumerated() {
            var weight = weights[k]
            if k < factors.count {
                ChannelScaling.scale(&weight, axis: Self.outputAxis(node), by: factors[k].map { 1 / $0 })
                if node.inputs.count > 2, let biasName = Optional(node.inputs[2]), !biasName.isEmpty, var bias = graph.initializers[biasName] {
                    bias.floats = zip(bias.floats, factors[k]).map { $0 / $1 }
                    graph.initializers[biasName] = bias
                }
                if var statistics = graph.foldedStatistics[node.name] {
                    statistics.gamma = zip(statistics.gamma, factors[k]).map { $0 / $1 }
                    statistics.beta = zip(statistics.beta, factors[k]).map { $0 / $1 }
                    graph.foldedStatistics[node.name] = statistics
                }
            }
            if k < factors.count, k < set.bounds.count, let bound = set.bounds[k] {
                // A clipped channel divided by s clips at u / s.
                let values = ChannelBounds.values(bound, channels: factors[k].count, graph)
                ChannelBounds.set(bound, zip(values, factors[k]).map { $0 / $1 }, rank: weight.rank - 1, &graph)
            }
            if k > 0 {
                // A depthwise middle layer's input channel is its output channel.
                let axis = LayerSets.isDepthwise(node, graph) ? 0 : Self.inputAxis(node)
                ChannelScaling.scale(&weight, axis: axis, by: factors[k - 1])
            }
            graph.initializers[node.inputs[1]] = weight
        }
        return factors.flatMap { $0 }.map { abs($0 - 1) }.max() ?? 0
    }
}
