/// relu6-to-relu — replace ReLU6 by ReLU where it blocks cross-layer scaling.
///
/// A ReLU6 (Clip with min 0 and max 6, given as attributes, initializers or Constant nodes) does not
/// commute with per-channel scaling: clipping at 6 after dividing a channel by s is clipping at 6·s
/// before. So cross-layer scaling needs a plain ReLU between the layers it equalizes (Nagel et al.
/// 2019, section 4.1). Replaced: ReLU6s whose input comes from a Conv/ConvTranspose and whose
/// output is read only by one Conv/ConvTranspose. `--all` replaces every ReLU6. The others are left
/// and reported with the reason. This changes the function (activations above 6 are no longer
/// clipped), so the shell reports FP32 accuracy before and after when evaluation data is attached.
public struct ReplaceRelu6: Technique {
    public init() {}
    public let name = "relu6-to-relu"
    public let changesFunction = true
    public let summary = "replace ReLU6 (Clip 0..6) between conv layers by ReLU, so cle can scale across them"
    public let options: [(String, String?, String)] = [
        ("--all", nil, "replace every ReLU6, not only those between convs"),
        ("--unreached", nil, "only where BatchNorm statistics say 6 is almost never reached (beta + 3.72|gamma| <= 6 in every channel)"),
    ]
    /// β + k|γ| ≤ 6 puts P(x > 6) below 1e-4 for x ~ N(β, γ²): replacing that ReLU6 changes (almost) nothing.
    static let unreachedSigmas: Float = 3.72
    public var specification: String {
        """
        relu6-to-relu: replace ReLU6 by ReLU where it blocks cross-layer scaling (Nagel et al. 2019, section 4.1).
        ReLU6 = Clip with min 0 and max 6 (attributes, initializers or Constant nodes). Clipping at 6 does not commute
        with per-channel scaling, so cle stops at a ReLU6. Replaced: ReLU6s fed by a Conv/ConvTranspose whose output is
        read only by one Conv/ConvTranspose; --all replaces every ReLU6. The others are reported with the reason.
        --unreached replaces only those whose producer's kept BN statistics put 6 beyond beta + 3.72|gamma| in every
        channel (P(x > 6) < 1e-4 for a Gaussian), where the replacement changes almost nothing (dfq uses this).
        Changes the function (values above 6 pass): with evaluation data attached, `apply` reports FP32 accuracy
        before and after.
        """
    }

    /// True when `node` is Clip(0, 6).
    static func isRelu6(_ node: Node, _ graph: Graph, constants: [String: Tensor]) -> Bool {
        guard node.opType == "Clip", let (low, high) = ActivationOperators.constantClipBounds(node, { graph.initializers[$0] ?? constants[$0] })
        else { return false }
        return low == 0 && high == 6
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        let constants = try graph.constantNodeValues()
        let producers = graph.producers(), consumers = graph.consumers()
        let convs: Set<String> = ["Conv", "ConvTranspose"]
        for index in graph.nodes.indices where Self.isRelu6(graph.nodes[index], graph, constants: constants) {
            let node = graph.nodes[index]
            let producer = producers[node.inputs[0]].map { graph.nodes[$0] }
            let readers = consumers[node.outputs[0]] ?? []
            let fedByConv = producer.map { convs.contains($0.opType) } ?? false
            let readByOneConv = readers.count == 1 && graph.readerCount(of: node.outputs[0]) == 1 && convs.contains(graph.nodes[readers[0]].opType)
            if options.flags.contains("--unreached"), fedByConv && readByOneConv, let reason = Self.reached(producer!, graph) {
                report.skipped.append("\(node.name): kept, \(reason)")
                continue
            }
            if options.flags.contains("--all") || (fedByConv && readByOneConv) {
                graph.nodes[index].opType = "Relu"
                graph.nodes[index].inputs = [node.inputs[0]]
                graph.nodes[index].attributes = [:]
                report.changed.append("\(node.name): ReLU6 -> ReLU")
            } else {
                let reason = producer?.opType == "BatchNormalization" ? "its input comes from a BatchNorm (apply fold-bn first)"
                    : !fedByConv ? "its input does not come from a Conv" : "its output is not read by exactly one Conv"
                report.skipped.append("\(node.name): \(reason) (use --all to replace it anyway)")
            }
        }
        graph.removeUnreadConstants()
        if report.changed.isEmpty && report.skipped.isEmpty { report.notes.append("no ReLU6 (Clip 0..6) nodes") }
        return (graph, report)
    }

    /// Why values above 6 are expected after `producer` (nil when its statistics say they almost never occur).
    static func reached(_ producer: Node, _ graph: Graph) -> String? {
        guard let statistics = graph.foldedStatistics[producer.name] else {
            return "\(producer.name) has no kept BatchNorm statistics to show that 6 is never reached"
        }
        let reach = zip(statistics.beta, statistics.gamma).map { $0 + unreachedSigmas * abs($1) }
        guard let channel = reach.indices.max(by: { reach[$0] < reach[$1] }), reach[channel] > 6 else { return nil }
        return "BatchNorm statistics say values above 6 occur (channel \(channel): beta + 3.72|gamma| = \(ReportFormat.number(Double(reach[channel]))))"
    }
}
