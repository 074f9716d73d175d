import Foundation
import PTQEngine

/// eval and expect: accuracy of the current model against the FP32 model as loaded, and checks on it.
enum EvalCommand {
    static let eval = CommandSpec(
        name: "eval",
        options: [OptionSpec("--samples", value: "N", help: "evaluate the first N samples (default all)"),
                  OptionSpec("--vs", value: "CHECKPOINT", help: "the FP32 reference (default: the model as loaded)"),
                  OptionSpec("--json", value: "OUT.json", help: "also write the metrics as one JSON object", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "accuracy of the current model (quantized if quantization is on) against FP32 as loaded (top-1, top-5, delta); SQNR and MSE",
        discussion: """
            The reference is the FP32 model as loaded (checkpoint "loaded"), or the checkpoint --vs names, so a technique \
            that changes the function (relu6-to-relu) or bias correction cannot hide a loss by moving the reference. \
            Metrics, for `expect`, in the table's units: top1, top5, fp32.top1, fp32.top5 in percent (0 to 100); \
            delta.top1, delta.top5 in percentage points; sqnr in dB = 10 log10(sum y^2 / sum (y' - y)^2) over all samples \
            and outputs, y the reference's output; mse; samples. In --json files a non-finite value (the SQNR of identical \
            outputs is infinite) is written as null.
            """,
        examples: ["eval", "eval --samples 500 --json metrics.json", "eval --vs folded"]
    ) { session, arguments, output in
        let graph = try session.requireGraph("eval")
        guard let data = session.evaluationData else { throw ShellError.noData(command: "eval", purpose: "evaluation") }
        let referenceName = arguments["--vs"] ?? "loaded"
        guard let referenceGraph = session.checkpoints[referenceName] else {
            throw ShellError.unknownCheckpoint(referenceName, available: session.checkpointOrder)
        }
        let count = min(try arguments.integer("--samples", command: "eval", range: 1...Int.max) ?? Int.max, data.source.count)
        let simulation = try QuantizeCommands.currentSimulation(&session, command: "eval", output: &output)
        let unchanged = simulation == nil && graph == referenceGraph
        let referenceExecutor = try Executor(graph: referenceGraph)
        let currentExecutor = unchanged ? referenceExecutor : try simulation.map { try $0.simulation() } ?? Executor(graph: graph)
        let currentName = simulation.map { "W\($0.configuration.weightBits)A\($0.configuration.activationBits)" }
            ?? (unchanged ? nil : "current FP32")
        let progressLabel = "eval: FP32 (\(referenceName))" + (currentName.map { " and " + $0 } ?? "")
        // One pass over the data, a batch at a time: the outputs are summed into the metrics, never kept.
        var hits = (reference1: 0, reference5: 0, current1: 0, current5: 0)
        var sums = (signal: 0.0, noise: 0.0), compared = 0
        let batchSize = min(32, referenceGraph.batchLimit ?? 32, graph.batchLimit ?? 32)
        try Batching.forEachBatch(data.source, limit: count, batchSize: batchSize, isCancelled: session.isCancelled) { range, batch in
            func run(_ executor: Executor, _ graph: Graph) throws -> Tensor {
                try Evaluation.output(graph.outputs[0].name, of: executor.run([graph.dataInputs[0].name: batch], isCancelled: session.isCancelled))
            }
            let reference = try run(referenceExecutor, referenceGraph)
            let current = unchanged ? reference : try run(currentExecutor, graph)
            if let labels = data.labels.map({ Array($0[range]) }) {
                hits.reference1 += try Evaluation.topKHits(reference, labels: labels, k: 1, firstSample: range.lowerBound)
                hits.reference5 += try Evaluation.topKHits(reference, labels: labels, k: 5, firstSample: range.lowerBound)
                if !unchanged {
                    hits.current1 += try Evaluation.topKHits(current, labels: labels, k: 1, firstSample: range.lowerBound)
                    hits.current5 += try Evaluation.topKHits(current, labels: labels, k: 5, firstSample: range.lowerBound)
                }
            }
            if !unchanged {
                guard current.shape == reference.shape else {
                    throw ShellError.other("eval: the current model's output \(describeShape(current.shape)) and the reference's \(describeShape(reference.shape)) differ in shape")
                }
                Evaluation.accumulateErrors(current, reference: reference, into: &sums)
                compared += current.count
            }
            session.progress?(progressLabel, range.upperBound, count)
        }
        var (top1, top5, fp32Top1, fp32Top5): (Double?, Double?, Double?, Double?) = (nil, nil, nil, nil)
        if data.labels != nil {
            let share = { (hits: Int) in Double(hits) / Double(count) }
            (fp32Top1, fp32Top5) = (share(hits.reference1), share(hits.reference5))
            (top1, top5) = unchanged ? (fp32Top1, fp32Top5) : (share(hits.current1), share(hits.current5))
        }
        let errors = unchanged ? nil : Evaluation.errorMetrics(sums: sums, count: compared)
        let metrics = Metrics.values(top1: top1, top5: top5, fp32Top1: fp32Top1, fp32Top5: fp32Top5,
                                     sqnr: errors?.sqnr, mse: errors?.mse, samples: count)
        session.lastMetrics = Dictionary(uniqueKeysWithValues: metrics)
        session.evaluations.append(ReportCommands.record(session, graph: graph, configuration: simulation?.configuration,
                                                         reference: referenceName, metrics: session.lastMetrics))
        output.write(render(metrics, samples: count, reference: referenceName, current: currentName))
        if let path = arguments["--json"] {
            let object = metrics.reduce(into: [String: Any]()) { $0[$1.0] = $1.1 ?? NSNull() }
            try JSONOutput.write(object, to: session.resolve(path), overwrite: arguments.has("--force"))
            output.line("wrote \(path)")
        }
    }

    /// Top-1 of each graph (run as it is, FP32) on `source`, in one pass over the data, a batch at a time.
    static func top1(_ graphs: [Graph], _ source: SampleSource, _ labels: [Int], _ session: Session) throws -> [Double] {
        let executors = try graphs.map { try Executor(graph: $0) }
        var hits = [Int](repeating: 0, count: graphs.count)
        let batchSize = graphs.reduce(32) { min($0, $1.batchLimit ?? 32) }
        try Batching.forEachBatch(source, batchSize: batchSize, isCancelled: session.isCancelled) { range, batch in
            for (index, (graph, executor)) in zip(graphs, executors).enumerated() {
                let logits = try Evaluation.output(graph.outputs[0].name, of: executor.run([graph.dataInputs[0].name: batch], isCancelled: session.isCancelled))
                hits[index] += try Evaluation.topKHits(logits, labels: Array(labels[range]), k: 1, firstSample: range.lowerBound)
            }
            session.progress?("FP32 top-1", range.upperBound, source.count)
        }
        return hits.map { Double($0) / Double(max(1, source.count)) }
    }

    static func render(_ metrics: [(String, Double?)], samples: Int, reference: String, current: String?) -> String {
        let value = Dictionary(uniqueKeysWithValues: metrics)
        func percent(_ key: String) -> String { (value[key] ?? nil).map { Format.fixed($0, 2) + "%" } ?? "-" }
        func points(_ key: String) -> String { (value[key] ?? nil).map { Format.fixed($0, 2) } ?? "-" }
        let referenceColumn = "FP32 (\(reference))"
        var text = ""
        if value["fp32.top1"] ?? nil != nil {
            if let current {
                text += Table.render(headers: ["\(samples) samples", referenceColumn, current, "delta (points)"],
                                     rows: [["top-1", percent("fp32.top1"), percent("top1"), points("delta.top1")],
                                            ["top-5", percent("fp32.top5"), percent("top5"), points("delta.top5")]],
                                     rightAligned: [1, 2, 3])
            } else {
                text += Table.render(headers: ["\(samples) samples", referenceColumn],
                                     rows: [["top-1", percent("fp32.top1")], ["top-5", percent("fp32.top5")]], rightAligned: [1])
            }
        }
        if let current, let sqnr = value["sqnr"] ?? nil, let mse = value["mse"] ?? nil {
            text += "\(current) output vs FP32 (\(reference)): SQNR \(Format.fixed(sqnr, 2)) dB, MSE \(Format.number(mse))\n"
        }
        if current == nil {
            text += "quantization is off and the model is FP32 as \(reference == "loaded" ? "loaded" : "in checkpoint '\(reference)'")\n"
        } else if value["fp32.top1"] ?? nil == nil && value["sqnr"] ?? nil == nil {
            text += "no labels: nothing to compare (\(samples) samples ran)\n"
        }
        return text
    }

    static let expect = CommandSpec(
        name: "expect", arguments: [ArgumentSpec("METRIC"), ArgumentSpec("OP"), ArgumentSpec("VALUE")],
        summary: "assert a metric of the last `eval` (fails the command, and so the script, when it does not hold)",
        discussion: "OP is one of < <= > >= ==. Metrics, in the units `eval` prints: top1, top5, fp32.top1, fp32.top5 in percent (0 to 100); delta.top1, delta.top5 in percentage points; sqnr in dB; mse; samples. A VALUE outside the metric's possible range is refused.",
        examples: ["expect top1 >= 97", "expect delta.top1 > -1"]
    ) { session, arguments, output in
        let (name, op, text) = (arguments.positionals[0], arguments.positionals[1], arguments.positionals[2])
        guard let metric = Metrics.metric(name) else {
            throw ShellError.badValue(command: "expect", option: "METRIC", value: name,
                                      expected: Metrics.names.joined(separator: ", ") + (nearest(name, in: Metrics.names).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        guard let bound = Double(text), bound.isFinite else {
            throw ShellError.badValue(command: "expect", option: "VALUE", value: text, expected: "a finite number")
        }
        if let range = metric.range, !range.contains(bound) {
            let limits = "\(Format.fixed(range.lowerBound, 0)) to \(range.upperBound > 1e300 ? "any" : Format.fixed(range.upperBound, 0))"
            throw ShellError.badValue(command: "expect", option: "VALUE", value: text,
                                      expected: "a value \(name) can take (\(limits)\(metric.unit))")
        }
        let comparisons: [String: (Double, Double) -> Bool] = ["<": (<), "<=": (<=), ">": (>), ">=": (>=), "==": (==)]
        guard let compare = comparisons[op] else {
            throw ShellError.badValue(command: "expect", option: "OP", value: op, expected: "one of < <= > >= ==")
        }
        guard let stored = session.lastMetrics[name] else { throw ShellError.other("expect: no `eval` has run yet") }
        guard let value = stored else { throw ShellError.expectationFailed("\(name) does not apply to the last eval") }
        let shown = Metrics.show(value, metric), wanted = "\(text)\(metric.unit)"
        guard compare(value, bound) else { throw ShellError.expectationFailed("\(name) = \(shown), not \(op) \(wanted)") }
        output.line("ok: \(name) = \(shown) \(op) \(wanted)")
    }
}
