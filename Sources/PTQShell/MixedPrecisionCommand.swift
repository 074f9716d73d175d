import Foundation
import PTQEngine

/// mixed-precision: per-layer bit widths within a top-1 budget, AIMET's greedy AMP.
enum MixedPrecisionCommand {
    static let spec = CommandSpec(
        name: "mixed-precision",
        options: [OptionSpec("--target-drop", value: "P", help: "largest top-1 loss against FP32, in points (required)"),
                  OptionSpec("--candidates", value: "W4A8,W8A8,...", help: "(weight, activation) bit pairs and float (default W4A8,W8A8,W8A16,float)"),
                  OptionSpec("--samples", value: "N", help: "evaluation samples the search measures top-1 on (default 256)")],
        summary: "choose per-layer bit widths (or float) within P points of FP32 top-1 at the lowest bit-operation cost",
        discussion: """
        AIMET's greedy mixed precision. Cost: sum over weight layers of MACs x weight bits x activation bits (float 32 x \
        32), relative to W8A8 everywhere. Phase 1: top-1 with only layer k quantized at candidate c (everything else \
        FP32), for every layer and every candidate but the most expensive. Phase 2: all layers at the most expensive \
        candidate, measured; then in rounds from the most expensive candidate down, the (layer, candidate) moves, least \
        harmful first, a group at a time, each kept only if the mixed configuration (calibrated and evaluated) stays \
        within P points; a rejected group is retried move by move. AIMET binary-searches the list instead. \
        Grids and calibration follow the session's `quantize` options (defaults when off); a layer's activation bits \
        apply to the quantizer at its output. Layers AdaRound froze keep their encodings and are not searched. The choice becomes the session's quantization: `eval`, `export` (per-layer \
        bit widths in the encodings; QDQ up to 8 bits) and `sensitivity` use it.
        """,
        examples: ["mixed-precision --target-drop 1", "mixed-precision --target-drop 0.5 --candidates W4A8,W8A8,float --samples 512"],
        changesState: true
    ) { session, arguments, output in
        let graph = try session.requireGraph("mixed-precision")
        guard let text = arguments["--target-drop"] else {
            throw ShellError.other("mixed-precision: --target-drop P is required (the top-1 points the model may lose against FP32)")
        }
        guard let drop = Double(text), drop >= 0, drop <= 100 else {
            throw ShellError.badValue(command: "mixed-precision", option: "--target-drop", value: text, expected: "points from 0 to 100")
        }
        let candidates = try parseCandidates(arguments["--candidates"] ?? "W4A8,W8A8,W8A16,float")
        guard let calibration = session.calibrationData else { throw ShellError.noData(command: "mixed-precision", purpose: "calibration") }
        guard let evaluation = session.evaluationData, let labels = evaluation.labels else {
            throw ShellError.other("mixed-precision: needs labelled evaluation data (`data FILE --labels LABELS --for evaluation`): its budget is top-1 points")
        }
        let count = min(try arguments.integer("--samples", command: "mixed-precision", range: 1...1_000_000) ?? 256, evaluation.source.count)
        let base = session.quantizationConfiguration ?? QuantizationConfiguration()
        let result = try MixedPrecision.search(graph, base: base, candidates: candidates, targetDrop: drop / 100,
                                               calibration: calibration.source, evaluation: evaluation.source, labels: labels, count: count,
                                               isCancelled: session.isCancelled, progress: session.progress)
        let percent = { (value: Double) in Format.fixed(value * 100, 2) + "%" }
        output.line("within \(Format.fixed(drop, 2)) points of FP32 top-1 \(percent(result.fp32)) on \(count) evaluation samples: "
                    + "top-1 \(percent(result.top1)) at cost \(Format.fixed(result.cost, 3)) of W8A8 everywhere (\(result.evaluations) configurations measured)")
        let totalMacs = Double(max(1, result.choices.reduce(0) { $0 + $1.macs }))
        output.write(Table.render(headers: ["layer", "choice", "MACs share"],
                                  rows: result.choices.map { [$0.layer, MixedPrecision.describe($0.candidate), percent(Double($0.macs) / totalMacs)] },
                                  rightAligned: [2]))
        let counts = candidates.sorted { MixedPrecision.cost($0) < MixedPrecision.cost($1) }.map { candidate in
            "\(result.choices.filter { $0.candidate == candidate }.count) \(MixedPrecision.describe(candidate))"
        }
        output.line(counts.joined(separator: ", "))
        let chosen = result.curve.firstIndex { abs($0.cost - result.cost) < 1e-12 && $0.top1 == result.top1 }
        output.chart(CurvePlot.render(result.curve.map { (x: $0.cost, y: $0.top1 * 100) }, highlight: chosen,
                                      xLabel: "cost (bit-operations, 1 = W8A8 everywhere); o = chosen", yLabel: "top-1 %",
                                      format: { Format.fixed($0, 2) }),
                     .accuracyVersusCost(AccuracyVersusCostFigure(points: result.curve, chosen: chosen, fp32: result.fp32, targetDrop: drop / 100)))
        var configuration = result.configuration
        configuration.samples = base.samples
        let state = try QuantizeCommands.calibrate(graph, configuration, calibration, session)
        session.quantizationConfiguration = configuration
        session.quantization = state
        output.line("quantization on: \(configuration.summary)")
    }

    /// "W4A8,W8A8,float" → candidates; bits 2 to 16.
    static func parseCandidates(_ text: String) throws -> [MixedPrecision.Candidate] {
        let expected = "a comma-separated list of WxAy pairs (bits 2 to 16) and float, e.g. W4A8,W8A8,W8A16,float"
        var result: [MixedPrecision.Candidate] = []
        for item in text.split(separator: ",").map({ String($0).trimmed() }) {
            if item.lowercased() == "float" { result.append(nil); continue }
            let upper = item.uppercased()
            guard upper.hasPrefix("W"), let a = upper.firstIndex(of: "A"), let weight = Int(upper[upper.index(after: upper.startIndex)..<a]),
                  let activation = Int(upper[upper.index(after: a)...]), (2...16).contains(weight), (2...16).contains(activation) else {
                throw ShellError.badValue(command: "mixed-precision", option: "--candidates", value: item, expected: expected)
            }
            result.append(LayerPrecision(weightBits: weight, activationBits: activation))
        }
        guard result.count >= 2, Set(result.map(MixedPrecision.describe)).count == result.count else {
            throw ShellError.badValue(command: "mixed-precision", option: "--candidates", value: text, expected: "at least two different candidates: " + expected)
        }
        return result
    }
}
