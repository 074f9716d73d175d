import Foundation
import PTQEngine

/// eval, sqnr, expect: how the current model does against FP32.
enum EvaluateCommands {
    static let eval = CommandSpec(
        name: "eval",
        options: [OptionSpec("--samples", value: "N", help: "evaluate the first N samples (default all)"),
                  OptionSpec("--json", value: "OUT.json", help: "also write the metrics as one JSON object", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "accuracy of FP32 and of the quantized model and their delta (top-1, top-5); SQNR and MSE without labels",
        discussion: "Metrics, for `expect`: top1, top5, fp32.top1, fp32.top5, delta.top1, delta.top5, sqnr, mse, samples. Accuracies are fractions 0..1; SQNR in dB = 10 log10(sum y^2 / sum (yq - y)^2) over all samples and outputs. In --json files a non-finite value (the SQNR of outputs identical to FP32 is infinite) is written as null.",
        examples: ["eval", "eval --samples 500 --json metrics.json"]
    ) { session, arguments, output in
        let graph = try session.requireGraph("eval")
        guard let data = session.evaluationData else { throw ShellError.noData(command: "eval", purpose: "evaluation") }
        let count = min(try arguments.integer("--samples", command: "eval", range: 1...Int.max) ?? Int.max, data.samples.shape[0])
        let samples = Batching.slice(data.samples, 0..<count)
        let labels = data.labels.map { Array($0.prefix(count)) }
        let outputName = graph.outputs[0].name
        let reference = try Evaluation.output(outputName, of: Batching.run(Executor(graph: graph), samples: samples, isCancelled: session.isCancelled, progress: session.progress))
        var result = EvaluationResult(samples: count)
        let simulation = try QuantizeCommands.currentSimulation(&session, command: "eval", output: &output)
        var current = reference
        if let simulation {
            let executor = try simulation.simulation()
            current = try Evaluation.output(outputName, of: Batching.run(executor, samples: samples, isCancelled: session.isCancelled, progress: session.progress))
            let errors = Evaluation.errorMetrics(current, reference: reference)
            (result.sqnr, result.mse) = (errors.sqnr, errors.mse)
        }
        if let labels {
            result.fp32Top1 = try Evaluation.topK(reference, labels: labels, k: 1)
            result.fp32Top5 = try Evaluation.topK(reference, labels: labels, k: 5)
            result.top1 = try Evaluation.topK(current, labels: labels, k: 1)
            result.top5 = try Evaluation.topK(current, labels: labels, k: 5)
        }
        session.lastMetrics = Dictionary(uniqueKeysWithValues: result.metrics)
        output.write(render(result, quantized: simulation.map { $0.configuration } ))
        if let path = arguments["--json"] {
            let object = result.metrics.reduce(into: [String: Any]()) { $0[$1.0] = $1.1 ?? NSNull() }
            try JSONOutput.write(object, to: session.resolve(path), overwrite: arguments.has("--force"))
            output.line("wrote \(path)")
        }
    }

    static func percent(_ value: Double?) -> String { value.map { Format.fixed($0 * 100, 2) + "%" } ?? "-" }

    static func render(_ result: EvaluationResult, quantized: QuantizationConfiguration?) -> String {
        let name = quantized.map { "W\($0.weightBits)A\($0.activationBits)" } ?? "current"
        var text = ""
        if result.top1 != nil {
            let rows = [
                ["top-1", percent(result.fp32Top1), percent(result.top1), Format.fixed(((result.top1 ?? 0) - (result.fp32Top1 ?? 0)) * 100, 2)],
                ["top-5", percent(result.fp32Top5), percent(result.top5), Format.fixed(((result.top5 ?? 0) - (result.fp32Top5 ?? 0)) * 100, 2)],
            ]
            text += Table.render(headers: ["\(result.samples) samples", "FP32", name, "delta (points)"], rows: rows, rightAligned: [1, 2, 3])
        }
        if let sqnr = result.sqnr, let mse = result.mse {
            text += "output vs FP32: SQNR \(Format.fixed(sqnr, 2)) dB, MSE \(Format.scientific(mse))\n"
        } else if result.top1 == nil {
            text += "no labels and quantization off: nothing to compare (\(result.samples) samples ran)\n"
        } else if quantized == nil {
            text += "quantization is off: the current model is FP32\n"
        }
        return text
    }

    static let sqnr = CommandSpec(
        name: "sqnr",
        options: [OptionSpec("--top", value: "N", help: "show the N worst tensors (default 10)"),
                  OptionSpec("--json", value: "OUT.json", help: "also write every tensor's SQNR", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "per-layer SQNR of the quantized model's activations against FP32's, worst first",
        discussion: "Both models run whole on the evaluation data, so errors accumulate as a user sees them; each quantized activation is compared with the same tensor in FP32. SQNR = 10 log10(sum y^2 / sum (yq - y)^2)."
    ) { session, arguments, output in
        let graph = try session.requireGraph("sqnr")
        guard let data = session.evaluationData else { throw ShellError.noData(command: "sqnr", purpose: "evaluation") }
        guard let simulation = try QuantizeCommands.currentSimulation(&session, command: "sqnr", output: &output) else {
            throw ShellError.other("sqnr: quantization is off; run `quantize` first")
        }
        let watched = Set(simulation.activationOrder)
        let fp32 = try Executor(graph: graph)
        let quantized = try simulation.simulation()
        let inputName = graph.dataInputs[0].name
        var signal: [String: Double] = [:], noise: [String: Double] = [:]
        var start = 0
        let count = data.samples.shape[0]
        while start < count {
            let batch = Batching.slice(data.samples, start..<min(count, start + 32))
            let reference = try fp32.run([inputName: batch], keep: watched, isCancelled: session.isCancelled)
            var observed: [String: Tensor] = [:]
            _ = try quantized.run([inputName: batch], hook: { name, tensor in
                if watched.contains(name) { observed[name] = tensor }
            }, isCancelled: session.isCancelled)
            for (name, value) in observed {
                guard let expected = reference[name], expected.count == value.count else { continue }
                let errors = Evaluation.errorSums(value, reference: expected)
                signal[name, default: 0] += errors.signal
                noise[name, default: 0] += errors.noise
            }
            start += 32
            session.progress?(min(count, start), count)
        }
        let producers = graph.producers()
        let rows = simulation.activationOrder.compactMap { name -> (String, String, Double)? in
            guard let s = signal[name], let n = noise[name] else { return nil }
            let op = producers[name].map { graph.nodes[$0].opType } ?? "input"
            return (name, op, n == 0 ? .infinity : 10 * log10(s / n))
        }.sorted { $0.2 < $1.2 || ($0.2 == $1.2 && $0.0 < $1.0) }
        let top = try arguments.integer("--top", command: "sqnr", range: 1...100_000) ?? 10
        output.write(Table.render(headers: ["tensor", "op", "SQNR dB"],
                                  rows: rows.prefix(top).map { [$0.0, $0.1, Format.fixed($0.2, 2)] }, rightAligned: [2]))
        output.line("\(rows.count) quantized activations over \(count) samples; worst first")
        if let path = arguments["--json"] {
            let object = rows.map { ["tensor": $0.0, "op": $0.1, "sqnr_db": $0.2] as [String: Any] }
            try JSONOutput.write(object, to: session.resolve(path), overwrite: arguments.has("--force"))
        }
    }

    static let expect = CommandSpec(
        name: "expect", arguments: [ArgumentSpec("METRIC"), ArgumentSpec("OP"), ArgumentSpec("VALUE")],
        summary: "assert a metric of the last `eval` (fails the command, and so the script, when it does not hold)",
        discussion: "OP is one of < <= > >= ==. Metrics: top1, top5, fp32.top1, fp32.top5, delta.top1, delta.top5, sqnr, mse, samples.",
        examples: ["expect top1 >= 0.97", "expect delta.top1 > -0.01"]
    ) { session, arguments, output in
        let (metric, op, text) = (arguments.positionals[0], arguments.positionals[1], arguments.positionals[2])
        let names = ["top1", "top5", "fp32.top1", "fp32.top5", "delta.top1", "delta.top5", "sqnr", "mse", "samples"]
        guard names.contains(metric) else {
            throw ShellError.badValue(command: "expect", option: "METRIC", value: metric,
                                      expected: names.joined(separator: ", ") + (nearest(metric, in: names).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        guard let bound = Double(text) else { throw ShellError.badValue(command: "expect", option: "VALUE", value: text, expected: "a number") }
        let comparisons: [String: (Double, Double) -> Bool] = ["<": (<), "<=": (<=), ">": (>), ">=": (>=), "==": (==)]
        guard let compare = comparisons[op] else {
            throw ShellError.badValue(command: "expect", option: "OP", value: op, expected: "one of < <= > >= ==")
        }
        guard let stored = session.lastMetrics[metric] else { throw ShellError.other("expect: no `eval` has run yet") }
        guard let value = stored else { throw ShellError.expectationFailed("\(metric) does not apply to the last eval") }
        let shown = Format.fixed(value, 4)
        guard compare(value, bound) else { throw ShellError.expectationFailed("\(metric) = \(shown), not \(op) \(text)") }
        output.line("ok: \(metric) = \(shown) \(op) \(text)")
    }
}
