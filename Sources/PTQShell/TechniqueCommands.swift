import PTQEngine

/// apply, techniques: the DFQ passes, registered once; help and completion come from the registry.
enum TechniqueCommands {
    static let all: [CommandSpec] = [apply, techniques]

    /// The technique registry, in the order of the paper's recipe.
    static let registry: [any Technique] = [FoldBatchNorm(), ReplaceRelu6(), CrossLayerScaling(), HighBiasFold(), BiasCorrection(), DataFreeQuantization(), AdaRound()]

    static func technique(named name: String) -> (any Technique)? { registry.first { $0.name == name } }

    /// `apply`'s options: every option some technique declares, with the techniques that take it.
    static let techniqueOptions: [OptionSpec] = {
        var names: [String] = []
        var byName: [String: (value: String?, help: String, takers: [String])] = [:]
        for technique in registry {
            for (name, value, help) in technique.options {
                if byName[name] == nil { names.append(name); byName[name] = (value, help, []) }
                byName[name]!.takers.append(technique.name)
            }
        }
        return names.map { name in
            let entry = byName[name]!
            return OptionSpec(name, value: entry.value, help: "\(entry.takers.joined(separator: ", ")): \(entry.help)")
        }
    }()

    static let apply = CommandSpec(
        name: "apply", arguments: [ArgumentSpec("TECHNIQUE", completion: .technique)],
        options: techniqueOptions,
        summary: "run one technique on the current model and print its report",
        discussion: "`techniques` lists them; `help TECHNIQUE` prints a technique's specification.",
        examples: ["apply fold-bn", "apply cle --iterations 10"], changesState: true
    ) { session, arguments, output in
        let graph = try session.requireGraph("apply")
        let name = arguments.positionals[0]
        guard let technique = technique(named: name) else {
            throw ShellError.badValue(command: "apply", option: "TECHNIQUE", value: name,
                                      expected: registry.map(\.name).joined(separator: ", ")
                                        + (nearest(name, in: registry.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        let accepted = Set(technique.options.map(\.0))
        if let stray = (Array(arguments.flags) + Array(arguments.values.keys)).sorted().first(where: { !accepted.contains($0) }) {
            let takes = accepted.isEmpty ? "takes no options" : "takes \(accepted.sorted().joined(separator: ", "))"
            throw ShellError.other("apply: \(technique.name) \(takes), not \(stray)")
        }
        let options = TechniqueOptions(flags: arguments.flags, values: arguments.values, samples: session.calibrationData?.source,
                                       configuration: session.quantizationConfiguration, isCancelled: session.isCancelled,
                                       progress: session.progress)
        if let iterations = arguments["--iterations"], Int(iterations).map({ $0 >= 1 }) != true {
            throw ShellError.badValue(command: "apply", option: "--iterations", value: iterations, expected: "a positive integer")
        }
        if let samples = arguments["--samples"], Int(samples).map({ $0 >= 1 }) != true {
            throw ShellError.badValue(command: "apply", option: "--samples", value: samples, expected: "a positive integer")
        }
        if technique.name == "bias-correction" && (arguments["--mode"] ?? "empirical") == "empirical" && session.calibrationData == nil {
            throw ShellError.noData(command: "apply bias-correction", purpose: "calibration")
        }
        if technique.name == "adaround" && session.calibrationData == nil {
            throw ShellError.noData(command: "apply adaround", purpose: "calibration")
        }
        var (result, report) = try technique.apply(graph, options: options)
        let stale = result.dropStaleFrozenEncodings()
        session.commit(result)
        output.write(report.text)
        if !stale.isEmpty {
            output.line("  warning: \(technique.name) changed \(stale.count) weight\(stale.count == 1 ? "" : "s") whose encodings AdaRound froze (\(ReportFormat.list(stale))); their frozen encodings are dropped, so quantize computes new ones")
        }
        if technique.changesFunction, let data = session.evaluationData, let labels = data.labels, !report.changed.isEmpty {
            // This pass changes the function: show what it costs in FP32.
            // The technique has run: a failure here (an unreadable image, Ctrl-C) must not throw its result away.
            guard let accuracies = try? EvalCommand.top1([graph, result], data.source, labels, session) else {
                output.line("  (FP32 top-1 before and after not measured: the evaluation data could not be read to the end)")
                return
            }
            let (a, b) = (accuracies[0], accuracies[1])
            output.line("  FP32 top-1 on \(labels.count) evaluation samples: \(Format.fixed(a * 100, 2))% before, \(Format.fixed(b * 100, 2))% after (\(Format.fixed((b - a) * 100, 2)) points)")
        }
    }

    static let techniques = CommandSpec(
        name: "techniques", summary: "list the techniques `apply` runs", isMeta: true
    ) { _, _, output in
        let width = registry.map(\.name.count).max() ?? 0
        for technique in registry { output.line(technique.name.padding(to: width) + "  " + technique.summary) }
    }
}
