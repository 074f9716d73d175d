import Foundation
import PTQEngine

/// quantize, eval, sqnr, expect.
enum QuantizeCommands {
    static let all: [CommandSpec] = [quantize, EvalCommand.eval, ReportCommands.evals, EvaluateCommands.sqnr, SensitivityCommand.spec, MixedPrecisionCommand.spec, EvalCommand.expect]

    static let quantize = CommandSpec(
        name: "quantize", arguments: [ArgumentSpec("off", optional: true)],
        options: [
            OptionSpec("--weights", value: "BITS", help: "weight bit width, 2-16 (default 8)"),
            OptionSpec("--activations", value: "BITS", help: "activation bit width, 2-16 (default 8)"),
            OptionSpec("--per-channel", help: "one weight encoding per output channel (Conv, ConvTranspose)"),
            OptionSpec("--per-tensor", help: "one weight encoding per tensor (default)"),
            OptionSpec("--scheme", value: "minmax|sqnr|percentile[:P]", help: "activation calibration (default minmax)"),
            OptionSpec("--samples", value: "N", help: "calibration samples (default 512)"),
            OptionSpec("--exclude", value: "LAYER,...", help: "layers left in float"),
            OptionSpec("--asymmetric-weights", help: "asymmetric weight grids"),
            OptionSpec("--symmetric-activations", help: "symmetric activation grids"),
            OptionSpec("--strict", help: "strict symmetric grids (n = 2^bits - 2, no -128)"),
        ],
        summary: "turn quantization simulation on with this configuration and calibrate it",
        discussion: """
        Defaults: 8/8 bits, symmetric weights, asymmetric activations, per-tensor, minmax calibration, biases \
        not quantized, the model input quantized. AIMET's own QuantizationSimModel defaults differ: its \
        constructor uses the SQNR scheme ("tf_enhanced") and, without a config file, per-channel weights. \
        Quantizers sit at every op output except inside Conv/ConvTranspose/Gemm/Add + Relu/Clip groups (only the \
        group's output), after Cast, Dropout, Expand, Squeeze, Pad, ReduceMean, Gather, and on integer tensors. \
        Calibration runs the calibration data with quantized weights and float activations. The simulation \
        recalibrates by itself when the model changes. `quantize off` returns to FP32.
        """,
        examples: ["quantize", "quantize --per-channel --weights 4", "quantize --scheme percentile:99.9", "quantize off"],
        changesState: true
    ) { session, arguments, output in
        let graph = try session.requireGraph("quantize")
        if let word = arguments.positional(0) {
            guard word == "off" else { throw ShellError.extraArgument(command: "quantize", argument: word, usage: "quantize [off] [options]") }
            session.quantizationConfiguration = nil
            session.quantization = nil
            output.line("quantization off: the model runs in FP32")
            return
        }
        let configuration = try parseConfiguration(arguments, layers: session.layerNames)
        guard let data = session.calibrationData else { throw ShellError.noData(command: "quantize", purpose: "calibration") }
        let state = try calibrate(graph, configuration, data, session)
        session.quantizationConfiguration = configuration
        session.quantization = state
        output.line("quantization on: \(configuration.summary)")
        output.line("calibrated on \(min(configuration.samples, data.source.count)) samples: \(state.weightEncodings.count) weight tensors, \(state.activationEncodings.count) activation tensors")
        let frozen = graph.frozenWeightEncodings.filter { state.weightEncodings[$0.key] == $0.value.encodings }
        if !frozen.isEmpty {
            let widths = Set(frozen.values.map { $0.encodings[0].bitwidth }).sorted().map { "W\($0)" }.joined(separator: ", ")
            output.line("\(frozen.count) weight tensors keep the encodings AdaRound froze (\(widths)), whatever this configuration says")
        }
    }

    static func parseConfiguration(_ arguments: Arguments, layers: [String]) throws -> QuantizationConfiguration {
        var configuration = QuantizationConfiguration()
        configuration.weightBits = try arguments.integer("--weights", command: "quantize", range: 2...16) ?? 8
        configuration.activationBits = try arguments.integer("--activations", command: "quantize", range: 2...16) ?? 8
        if arguments.has("--per-channel") && arguments.has("--per-tensor") {
            throw ShellError.other("quantize: --per-channel and --per-tensor exclude each other")
        }
        configuration.perChannel = arguments.has("--per-channel")
        configuration.weightSymmetric = !arguments.has("--asymmetric-weights")
        configuration.activationSymmetric = arguments.has("--symmetric-activations")
        configuration.strictSymmetric = arguments.has("--strict")
        configuration.samples = try arguments.integer("--samples", command: "quantize", range: 1...1_000_000) ?? 512
        if let scheme = arguments["--scheme"] {
            configuration.scheme = try parseScheme(scheme)
        }
        if let excluded = arguments["--exclude"] {
            let names = excluded.split(separator: ",").map(String.init)
            for name in names where !layers.contains(name) {
                throw ShellError.unknownLayer(name, suggestion: nearest(name, in: layers))
            }
            configuration.excludedLayers = names
        }
        return configuration
    }

    static func parseScheme(_ text: String) throws -> CalibrationScheme {
        let expected = "minmax, sqnr, percentile or percentile:P with P in [50, 100]"
        if text == "minmax" || text == "tf" { return .minmax }
        if text == "sqnr" || text == "tf_enhanced" { return .sqnr }
        if text == "percentile" { return .percentile(99.99) }
        if text.hasPrefix("percentile:"), let value = Double(text.dropFirst("percentile:".count)), (50...100).contains(value) {
            return .percentile(value)
        }
        throw ShellError.badValue(command: "quantize", option: "--scheme", value: text, expected: expected)
    }

    static func calibrate(_ graph: Graph, _ configuration: QuantizationConfiguration, _ data: AttachedData,
                          _ session: Session) throws -> QuantizationState {
        let count = min(configuration.samples, data.source.count)
        return try Calibration.calibrate(graph, configuration: configuration, source: data.source, limit: count,
                                         isCancelled: session.isCancelled,
                                         progress: session.progress("calibrating (\(configuration.scheme)) on \(count) samples"))
    }

    /// The calibrated simulation for the current graph, recalibrating when the graph changed since.
    static func currentSimulation(_ session: inout Session, command: String, output: inout Output) throws -> QuantizationState? {
        guard let configuration = session.quantizationConfiguration, let graph = session.graph else { return nil }
        if let state = session.quantization, state.calibratedGraph == graph { return state }
        guard let data = session.calibrationData else { throw ShellError.noData(command: command, purpose: "calibration") }
        let state = try calibrate(graph, configuration, data, session)
        session.quantization = state
        output.line("(model changed since calibration: recalibrated on \(min(configuration.samples, data.source.count)) samples)")
        return state
    }
}
