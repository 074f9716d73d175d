import Foundation
import PTQEngine

/// sqnr: where the quantized model's error comes from (eval and expect are in EvalCommand.swift).
enum EvaluateCommands {
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
        let count = data.source.count
        try Batching.forEachBatch(data.source, batchSize: 32, isCancelled: session.isCancelled) { range, batch in
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
            session.progress?("sqnr: FP32 and quantized, tensor by tensor", range.upperBound, count)
        }
        let producers = graph.producers()
        let rows = simulation.activationOrder.compactMap { name -> (String, String, Double)? in
            guard let s = signal[name], let n = noise[name] else { return nil }
            let op = producers[name].map { graph.nodes[$0].opType } ?? "input"
            return (name, op, n == 0 ? .infinity : 10 * log10(s / n))
        }.sorted { $0.2 < $1.2 || ($0.2 == $1.2 && $0.0 < $1.0) }
        let top = try arguments.integer("--top", command: "sqnr", range: 1...100_000) ?? 10
        // A table, not ASCII art: the page keeps it and draws the bars after it.
        output.write(Table.render(headers: ["tensor", "op", "SQNR dB"],
                                  rows: rows.prefix(top).map { [$0.0, $0.1, Format.fixed($0.2, 2)] }, rightAligned: [2]))
        output.chart("", .bars(BarsFigure(title: "SQNR of each quantized activation against FP32, worst first (\(min(top, rows.count)) of \(rows.count))",
                                      unit: "dB", rows: rows.prefix(top).map { BarsFigure.Row(label: $0.0, value: $0.2, detail: $0.1) })))
        output.line("\(rows.count) quantized activations over \(count) samples; worst first")
        if let path = arguments["--json"] {
            let object = rows.map { ["tensor": $0.0, "op": $0.1, "sqnr_db": $0.2] as [String: Any] }
            try JSONOutput.write(object, to: session.resolve(path), overwrite: arguments.has("--force"))
        }
    }
}
