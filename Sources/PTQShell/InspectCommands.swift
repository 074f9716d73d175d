import Foundation
import PTQEngine

/// layers (and, with the charts, ranges).
enum InspectCommands {
    static let all: [CommandSpec] = [layers]

    static let layers = CommandSpec(
        name: "layers",
        options: [OptionSpec("--flagged", help: "only layers with outlier or dead channels"),
                  OptionSpec("--json", value: "OUT.json", help: "also write the rows as JSON", isFile: true),
                  OptionSpec("--force", help: "overwrite OUT.json if it exists")],
        summary: "one row per weight layer: name, op, weight shape, channel-range spread, flags"
    ) { session, arguments, output in
        let graph = try session.requireGraph("layers")
        var rows: [[String]] = []
        var json: [[String: Any]] = []
        for layer in WeightLayer.all(in: graph) {
            let statistics = RangeStatistics(layer: layer, graph: graph)
            var flags: [String] = []
            if statistics.outlierCount > 0 { flags.append("\(statistics.outlierCount) outlier") }
            if statistics.deadCount > 0 { flags.append("\(statistics.deadCount) dead") }
            if graph.foldedStatistics[layer.name] != nil { flags.append("bn-folded") }
            if arguments.has("--flagged") && statistics.outlierCount + statistics.deadCount == 0 { continue }
            let shape = graph.initializers[layer.weightName]!.shape
            rows.append([layer.name, layer.opType, describeShape(shape), Format.fixed(statistics.spread, 1), flags.joined(separator: ", ")])
            json.append(["name": layer.name, "op": layer.opType, "weight_shape": shape, "spread": statistics.spread,
                         "outliers": statistics.outlierCount, "dead": statistics.deadCount])
        }
        output.write(Table.render(headers: ["layer", "op", "weight", "spread", "flags"], rows: rows, rightAligned: [3]))
        if let path = arguments["--json"] {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            try writeAtomically(data, to: session.resolve(path), overwrite: arguments.has("--force"))
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
    static func scientific(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)e", value) }
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
