/// high-bias-fold — absorb large biases into the next layer, Nagel et al. 2019, section 4.1.3.
///
/// On the cle sets, found again from the current graph (so it works alone, after cle, or after undo).
/// For each link layer1 → layer2 where layer1 has kept BN statistics (γ, β, in step with any scaling)
/// and a bias: c = max(0, β − 3|γ|) when a Relu/PRelu lies between (the part of the output that is
/// almost never clipped), c = β when nothing lies between. Then
///   b1 −= c,   b2 += (W2 summed over its kernel) · c  (elementwise for a depthwise layer2),   β −= c.
/// Through a ReLU6 kept as Relu + Min with per-channel bounds u (`ChannelBounds`): c = min(c, u) and u −= c.
/// Exact where the activation is linear on the shifted range; with zero padding in layer2 the border
/// outputs change slightly (as in AIMET). Links without statistics or biases are skipped and reported,
/// and so is a strided ConvTranspose as layer2: its output positions see different kernel taps, so a
/// constant input shift is not a per-channel bias there.
public struct HighBiasFold: Technique {
    public init() {}
    public let name = "high-bias-fold"
    public let summary = "absorb large biases into the next layer, using the folded BatchNorm statistics"
    public let options: [(String, String?, String)] = [
        ("--exact", nil, "only links whose second layer reads no padding (no border error)"),
    ]
    public var specification: String {
        """
        high-bias-fold: absorb high biases into the next layer (Nagel et al. 2019, section 4.1.3).
        On the cle sets of the current graph, for each link layer1 -> layer2 where layer1 has kept BN statistics (gamma, beta)
        and a bias: c = max(0, beta - 3|gamma|) with a Relu/PRelu between, c = beta with nothing between;
        b1 -= c; b2 += (W2 summed over its kernel) . c (elementwise for a depthwise layer2); beta -= c.
        Through a ReLU6 kept by cle as Relu + Min with per-channel bounds u: c = min(c, u), and u -= c.
        Links without statistics or biases are skipped and reported. Zero padding in layer2 makes border outputs differ
        (the padded zeros do not move by -c); --exact skips those links (dfq does: on a real EfficientNet-Lite0 the border
        error cost 1 point of FP32 top-1).
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        var seen = Set<String>()
        for set in LayerSets.find(graph) {
            for link in 0..<(set.layers.count - 1) {
                let (firstName, secondName) = (set.layers[link], set.layers[link + 1])
                guard seen.insert("\(firstName)>\(secondName)").inserted else { continue }
                guard var statistics = graph.foldedStatistics[firstName] else {
                    report.skipped.append("\(firstName) -> \(secondName): no kept BatchNorm statistics (apply fold-bn first)")
                    continue
                }
                guard let firstIndex = graph.nodes.firstIndex(where: { $0.name == firstName }),
                      let secondIndex = graph.nodes.firstIndex(where: { $0.name == secondName }),
                      let firstLayer = WeightLayer.make(graph.nodes[firstIndex], index: firstIndex, graph: graph),
                      let secondLayer = WeightLayer.make(graph.nodes[secondIndex], index: secondIndex, graph: graph) else {
                    report.skipped.append("\(firstName) -> \(secondName): not a pair of weight layers")
                    continue
                }
                let second = graph.nodes[secondIndex]
                guard firstLayer.biasName != nil, let bias1 = LayerBias.values(firstLayer, in: graph),
                      bias1.count == statistics.beta.count else {
                    report.skipped.append("\(firstName) -> \(secondName): \(firstName) has no bias")
                    continue
                }
                if second.opType == "ConvTranspose", (second.ints("strides") ?? [1, 1]).contains(where: { $0 != 1 }) {
                    report.skipped.append("\(firstName) -> \(secondName): a strided ConvTranspose adds different kernel taps at different output positions, so a constant input shift cannot move into one bias")
                    continue
                }
                let padded = link < set.pads.count && set.pads[link] != nil
                if options.flags.contains("--exact"), padded || Self.readsPadding(second) {
                    report.skipped.append("\(firstName) -> \(secondName): \(secondName) pads its input with zeros, which do not shift with the bias, so its border outputs would change (--exact)")
                    continue
                }
                guard LayerBias.canCarry(secondLayer, in: graph) else {
                    report.skipped.append("\(firstName) -> \(secondName): \(secondName) has no bias to take the shift")
                    continue
                }
                let throughActivation = set.activations[link] != nil
                let bound = link < set.bounds.count ? set.bounds[link] : nil
                let upper = bound.map { ChannelBounds.values($0, channels: statistics.beta.count, graph) }
                var absorbed = zip(statistics.beta, statistics.gamma).map { beta, gamma in
                    throughActivation ? max(0, beta - 3 * abs(gamma)) : beta
                }
                // Under a per-channel clip at u: min(relu(z − c), u − c) + c = min(relu(z), u) wherever z ≥ c; c ≤ u keeps u − c ≥ 0.
                if let upper { absorbed = zip(absorbed, upper).map { min($0, $1) } }
                let weight2 = graph.initializers[second.inputs[1]]!
                let depthwise = LayerSets.isDepthwise(second, graph)
                let outputs = weight2.shape[CrossLayerScaling.outputAxis(second)]
                let inputChannels = second.opType == "ConvTranspose" ? weight2.shape[0] : weight2.shape[1]
                guard weight2.rank >= 3, depthwise ? outputs == absorbed.count : inputChannels == absorbed.count,
                      outputs == secondLayer.outputChannels(graph) else {
                    report.skipped.append("\(firstName) -> \(secondName): \(secondName)'s weight \(describeShape(weight2.shape)) does not take \(absorbed.count) input channels")
                    continue
                }
                var shift = [Float](repeating: 0, count: outputs)
                let kernel = weight2.shape[2...].reduce(1, *)
                for o in 0..<outputs {
                    if depthwise {
                        for k in 0..<kernel { shift[o] += weight2.floats[o * kernel + k] * absorbed[o] }
                        continue
                    }
                    for i in absorbed.indices {
                        let base = second.opType == "ConvTranspose" ? (i * outputs + o) * kernel : (o * absorbed.count + i) * kernel
                        var sum: Float = 0
                        for k in 0..<kernel { sum += weight2.floats[base + k] }
                        shift[o] += sum * absorbed[i]
                    }
                }
                let scale = max(1, statistics.beta.map { abs($0) }.max() ?? 0)
                if absorbed.allSatisfy({ abs($0) <= 1e-6 * scale }) {
                    report.unchanged.append("\(firstName) -> \(secondName): " + (throughActivation
                        ? "no channel's mean (beta) exceeds 3 sigma (|gamma|), so nothing is always above the Relu's zero"
                        : "its BN means (beta) are already zero to float precision"))
                    continue
                }
                LayerBias.set(zip(bias1, absorbed).map { $0 - $1 }, firstLayer, in: &graph)
                if let bound, let upper {
                    ChannelBounds.set(bound, zip(upper, absorbed).map { $0 - $1 }, rank: weight2.rank - 1, &graph)
                }
                LayerBias.add(shift, secondLayer, in: &graph)
                statistics.beta = zip(statistics.beta, absorbed).map { $0 - $1 }
                graph.foldedStatistics[firstName] = statistics
                let total = absorbed.reduce(0, +), count = absorbed.filter { $0 > 0 }.count
                report.changed.append("\(firstName) -> \(secondName): absorbed \(count) of \(absorbed.count) channels (mean c \(ReportFormat.number(Double(total) / Double(max(1, absorbed.count)))), max \(ReportFormat.number(Double(absorbed.max() ?? 0))))")
            }
        }
        if report.changed.isEmpty && report.unchanged.isEmpty && report.skipped.isEmpty {
            report.notes.append("no cle sets: \(CrossLayerScaling.blocker(graph))")
        }
        return (graph, report)
    }

    /// Whether some output of `layer` reads padding (or it is a ConvTranspose, whose outputs see different taps).
    static func readsPadding(_ layer: Node) -> Bool {
        if layer.opType != "Conv" { return true }
        let autoPad = layer.string("auto_pad", default: "NOTSET")
        if autoPad != "NOTSET" && autoPad != "VALID" { return true }
        return (layer.ints("pads") ?? []).contains { $0 != 0 }
    }
}
