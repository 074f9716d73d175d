import Foundation
import PTQEngine

/// layers (and, with the charts, ranges).
enum InspectCommands {
    /// A layer whose channel ranges span this factor or more is flagged "wide".
    static let wideSpread = 100.0

    static let all: [CommandSpec] = [layers, RangesCommand.spec]

    static let layers = CommandSpec(
        name: "layers",
        options: [OptionSpec("--flagged", help: "only flagged layers: outlier or dead channels, or a spread of 100 or more"),
                  OptionSpec("--json", value: "OUT.json", help: "also write the rows as JSON", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "one row per weight layer: name, op, weight shape, channel-range spread, flags",
        discussion: "Spread = largest / smallest live channel range (max - min of a channel's weights), as `ranges` shows it. Flags: outlier and dead channels (see `help ranges`), \"wide\" for a spread of \(Int(wideSpread)) or more (per-tensor 8-bit quantization then leaves the narrowest channels a handful of levels), bn-folded."
    ) { session, arguments, output in
        let graph = try session.requireGraph("layers")
        var rows: [[String]] = []
        var json: [[String: Any]] = []
        for layer in WeightLayer.all(in: graph) {
            let statistics = RangeStatistics(layer: layer, graph: graph)
            var flags: [String] = []
            if statistics.outlierCount > 0 { flags.append("\(statistics.outlierCount) outlier") }
            if statistics.deadCount > 0 { flags.append("\(statistics.deadCount) dead") }
            let wide = statistics.spread >= wideSpread
            if wide { flags.append("wide") }
            if graph.foldedStatistics[layer.name] != nil { flags.append("bn-folded") }
            if arguments.has("--flagged") && statistics.outlierCount + statistics.deadCount == 0 && !wide { continue }
            let shape = graph.initializers[layer.weightName]!.shape
            rows.append([layer.name, layer.opType, describeShape(shape), Format.number(statistics.spread), flags.joined(separator: ", ")])
            json.append(["name": layer.name, "op": layer.opType, "weight_shape": shape, "spread": statistics.spread,
                         "outliers": statistics.outlierCount, "dead": statistics.deadCount])
        }
        output.write(Table.render(headers: ["layer", "op", "weight", "spread", "flags"], rows: rows, rightAligned: [3]))
        if let path = arguments["--json"] {
            try JSONOutput.write(json, to: session.resolve(path), overwrite: arguments.has("--force"))
            output.line("wrote \(path)")
        }
    }
}

/// Fixed-precision number formatting, so printed figures do not depend on the platform.
enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        let text = String(format: "%.\(digits)f", value)
        return text == "-" + String(format: "%.\(digits)f", 0.0) ? String(format: "%.\(digits)f", 0.0) : text
    }
    /// A difference with its sign always shown: "+0.40", "-1.20".
    static func signed(_ value: Double, _ digits: Int) -> String { (value >= 0 ? "+" : "") + fixed(value, digits) }
    static func scientific(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)e", value) }
    /// A number with no unit of its own, by the project's one rule (`ReportFormat`).
    static func number(_ value: Double) -> String { ReportFormat.number(value) }
    static func number(_ value: Float) -> String { ReportFormat.number(Double(value)) }
}

/// Plain text tables with aligned columns.
enum Table {
    static func render(headers: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                rightAligned.contains(column) ? cell.leftPadding(to: widths[column]) : cell.padding(to: widths[column])
            }.joined(separator: "  ").trimmed()
        }
        var text = line(headers) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in rows { text += line(row) + "\n" }
        return text
    }
}

/// `ranges`: the per-channel range chart of one layer, a summary of all, or activation ranges.
enum RangesCommand {
    static let spec = CommandSpec(
        name: "ranges", arguments: [ArgumentSpec("LAYER", optional: true, completion: .layer)],
        options: [OptionSpec("--vs", value: "CHECKPOINT", help: "show that checkpoint's ranges beside the current ones"),
                  OptionSpec("--all", help: "one line per layer with its range spread"),
                  OptionSpec("--sort", help: "order channels by range, widest first"),
                  OptionSpec("--width", value: "N", help: "chart width (default: the session's width)"),
                  OptionSpec("--activations", help: "calibrated activation ranges (needs `quantize`)")],
        summary: "per-output-channel weight ranges of a layer as ASCII bars, outliers and dead channels flagged",
        discussion: """
        A channel's range is max - min of its weights. Dead channels (range below 1e-12 of the layer's largest) are \
        marked x and left out of the statistics. A channel is an outlier (!) when its range over the smallest live \
        range exceeds Q3 + 1.5 IQR of those ratios (AIMET's rule). Spread = largest / smallest live range: what \
        per-tensor quantization suffers from.
        """,
        examples: ["ranges --all", "ranges /features/features.8/conv/conv.3/Conv --sort", "ranges /features/features.8/conv/conv.3/Conv --vs folded"]
    ) { session, arguments, output in
        let graph = try session.requireGraph("ranges")
        // Options that belong to another view are errors, not silently ignored.
        let views: [(String, Bool, [String])] = [
            ("--activations", arguments.has("--activations"), ["--all", "--sort", "--vs", "--width"]),
            ("--all", arguments.has("--all") || arguments.positional(0) == nil, ["--sort", "--vs"]),
        ]
        for (view, active, excluded) in views where active {
            if let clash = excluded.first(where: { arguments.has($0) || arguments[$0] != nil }) {
                throw ShellError.other("ranges: \(clash) does not apply to \(view == "--all" && !arguments.has("--all") ? "the all-layers summary (name a LAYER)" : view)")
            }
        }
        let width = try arguments.integer("--width", command: "ranges", range: 40...400) ?? session.settings.width
        if arguments.has("--activations") {
            guard let state = try QuantizeCommands.currentSimulation(&session, command: "ranges", output: &output) else {
                throw ShellError.other("ranges --activations: no calibrated activation ranges; run `quantize` first")
            }
            var names = state.activationOrder
            if let layer = arguments.positional(0) {
                guard let node = graph.node(named: layer) else {
                    throw ShellError.unknownLayer(layer, suggestion: nearest(layer, in: graph.nodes.map(\.name)))
                }
                // The node's own outputs and, for an op + activation group, the activation's.
                let readers = graph.consumers()
                var group: [String] = node.outputs
                for output in node.outputs {
                    for reader in readers[output] ?? [] where ["Relu", "Clip"].contains(graph.nodes[reader].opType) {
                        group += graph.nodes[reader].outputs
                    }
                }
                names = names.filter { group.contains($0) }
            }
            let encodings = names.compactMap { name in state.activationEncodings[name].map { (name, $0) } }
            let rows = encodings.map { name, encoding in
                [name, Format.number(encoding.minimum), Format.number(encoding.maximum), Format.number(encoding.scale), "\(encoding.offset)"]
            }
            // A table, not ASCII art: the page keeps it and draws the intervals after it.
            output.write(Table.render(headers: ["tensor", "min", "max", "scale", "offset"], rows: rows, rightAligned: [1, 2, 3, 4]))
            output.chart("", .intervals(encodings.map { name, encoding in
                NamedInterval(name: name, minimum: Double(encoding.minimum), maximum: Double(encoding.maximum),
                              detail: "scale \(Format.number(encoding.scale)), offset \(encoding.offset)")
            }))
            return
        }
        let layers = WeightLayer.all(in: graph)
        if arguments.has("--all") || arguments.positional(0) == nil {
            let statistics = layers.map { ($0.name, RangeStatistics(layer: $0, graph: graph)) }
            output.chart(RangeChart.summary(statistics, width: width),
                         .spreads(statistics.map { LayerSpread(layer: $0.0, spread: $0.1.spread, outliers: $0.1.outlierCount, dead: $0.1.deadCount) }))
            return
        }
        let name = arguments.positionals[0]
        guard let layer = layers.first(where: { $0.name == name }) else {
            throw ShellError.unknownLayer(name, suggestion: nearest(name, in: layers.map(\.name)))
        }
        var versus: RangeStatistics?
        if let checkpoint = arguments["--vs"] {
            guard let other = session.checkpoints[checkpoint] else {
                throw ShellError.unknownCheckpoint(checkpoint, available: session.checkpointOrder)
            }
            guard let otherLayer = WeightLayer.all(in: other).first(where: { $0.name == name }) else {
                throw ShellError.other("ranges: checkpoint '\(checkpoint)' has no layer '\(name)'")
            }
            versus = RangeStatistics(layer: otherLayer, graph: other)
        }
        let current = RangeStatistics(layer: layer, graph: graph)
        output.chart(RangeChart.render(current, versus: versus, versusName: arguments["--vs"], width: width, sort: arguments.has("--sort")),
                     .channelRanges(ChannelRangesFigure(current: current, versus: versus, versusName: arguments["--vs"], sorted: arguments.has("--sort"))))
    }
}
