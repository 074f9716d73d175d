import Foundation
import PTQEngine

/// sensitivity: which layers the quantized model's error comes from, AIMET QuantAnalyzer's per-layer views.
enum SensitivityCommand {
    static let spec = CommandSpec(
        name: "sensitivity",
        options: [OptionSpec("--samples", value: "N", help: "evaluation samples (default 256)"),
                  OptionSpec("--sort", help: "most sensitive layer first (default graph order)"),
                  OptionSpec("--json", value: "OUT.json", help: "also write every layer's figures", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "per weight layer: the metric with only that layer quantized, and with all but that layer",
        discussion: """
        The two views of AIMET's QuantAnalyzer, with the session's quantization configuration. Only this: the layer's \
        weight and the activation quantizer at its output, everything else FP32; the bar is the loss against FP32. All \
        but this: every quantizer except those two; the bar is the gain over the fully quantized model. The metric is \
        top-1 with labelled evaluation data, else the output's SQNR against FP32 (dB; the first bar then shows the \
        noise 10^(-SQNR/10)). Each sample runs once through FP32 and once fully quantized, keeping the run states \
        before every layer; each view then reruns only the rest of the model from the layer.
        """,
        examples: ["sensitivity", "sensitivity --sort --samples 128", "sensitivity --json sensitivity.json --force"]
    ) { session, arguments, output in
        _ = try session.requireGraph("sensitivity")
        guard let simulation = try QuantizeCommands.currentSimulation(&session, command: "sensitivity", output: &output) else {
            throw ShellError.other("sensitivity: quantization is off; run `quantize` first (it sets the bit widths and grids each layer is tried with)")
        }
        guard let data = session.evaluationData ?? session.calibrationData else {
            throw ShellError.noData(command: "sensitivity", purpose: "evaluation")
        }
        let requested = try arguments.integer("--samples", command: "sensitivity", range: 1...1_000_000) ?? 256
        let count = min(requested, data.source.count)
        let labels = data.labels.map { Array($0.prefix(count)) }
        let result = try LayerSensitivity.analyze(simulation, source: data.source, labels: labels, count: count,
                                                  isCancelled: session.isCancelled,
                                                  progress: session.progress("sensitivity: each layer alone and all but it"))
        let purpose = session.evaluationData == nil ? "calibration" : "evaluation"
        output.chart(render(result, configuration: simulation.configuration.summary, sorted: arguments.has("--sort"), purpose: purpose),
                     .sensitivity(result, sorted: arguments.has("--sort"), configuration: simulation.configuration.summary, purpose: purpose))
        if let path = arguments["--json"] {
            let object: [String: Any] = [
                "metric": result.metric, "samples": result.samples, "fp32": result.fp32, "quantized": result.quantized,
                "layers": result.rows.map { ["layer": $0.layer, "only_quantized": $0.only, "all_but_quantized": $0.allBut] as [String: Any] },
            ]
            try JSONOutput.write(object, to: session.resolve(path), overwrite: arguments.has("--force"))
        }
    }

    static func value(_ value: Double, _ metric: String) -> String {
        metric == "top1" ? Format.fixed(value * 100, 2) + "%" : Format.fixed(value, 2) + " dB"
    }

    /// How much worse than FP32 a layer alone makes the model (points, or the noise power for SQNR).
    static func loss(_ row: LayerSensitivity.Row, _ result: LayerSensitivity.Result) -> Double {
        result.metric == "top1" ? result.fp32 - row.only : pow(10, -row.only / 10)
    }

    /// Graph order, or the most harmful layer alone first (ties in graph order).
    static func ordered(_ result: LayerSensitivity.Result, sorted: Bool) -> [LayerSensitivity.Row] {
        guard sorted else { return result.rows }
        return result.rows.enumerated().sorted {
            (-loss($0.element, result), $0.offset) < (-loss($1.element, result), $1.offset)
        }.map(\.element)
    }

    static func render(_ result: LayerSensitivity.Result, configuration: String, sorted: Bool, purpose: String) -> String {
        let rows = ordered(result, sorted: sorted)
        let losses = rows.map { max(0, loss($0, result)) }, gains = rows.map { max(0, $0.allBut - result.quantized) }
        let (largestLoss, largestGain) = (losses.max() ?? 0, gains.max() ?? 0)
        func bar(_ amount: Double, _ largest: Double) -> String {
            largest <= 0 ? "" : String(repeating: "#", count: Int((amount / largest * 20).rounded()))
        }
        let delta = { (value: Double, base: Double) in
            let points = result.metric == "top1" ? (value - base) * 100 : value - base
            return Format.signed(points, 2)
        }
        var text = "\(result.samples) \(purpose) samples, \(result.metric == "top1" ? "top-1" : "output SQNR against FP32"); "
            + "FP32 \(value(result.fp32, result.metric)), all quantized \(value(result.quantized, result.metric)) (\(configuration))\n"
        text += Table.render(
            headers: ["layer", "only this", "vs FP32", "", "all but this", "vs all", ""],
            rows: rows.enumerated().map { index, row in
                [row.layer, value(row.only, result.metric), delta(row.only, result.fp32), bar(losses[index], largestLoss).padding(to: 20),
                 value(row.allBut, result.metric), delta(row.allBut, result.quantized), bar(gains[index], largestGain)]
            }, rightAligned: [1, 2, 4, 5])
        text += "\(rows.count) weight layers, \(sorted ? "most sensitive first" : "in graph order")"
            + (result.metric == "top1" ? "" : "; the first bar is the noise power 10^(-SQNR/10)") + "\n"
        return text
    }
}
