import Foundation
import PTQEngine

/// The text of `info`.
enum ModelSummary {
    static func render(graph: Graph, session: Session) -> String {
        var lines: [String] = []
        func row(_ key: String, _ value: String) { lines.append(key.padding(to: 12) + value) }
        row("model", session.modelPath.map { SessionCommands.displayPath($0, session) } ?? "(none)")
        row("opset", "\(graph.opsetVersion)")
        for input in graph.dataInputs { row("input", "\(input.name) \(typeName(input.onnxType)) \(describe(input))") }
        for output in graph.outputs { row("output", "\(output.name) \(typeName(output.onnxType)) \(describe(output))") }
        var counts: [String: Int] = [:]
        for node in graph.nodes { counts[node.opType, default: 0] += 1 }
        let ops = counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        row("nodes", "\(graph.nodes.count): " + ops.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let layers = WeightLayer.all(in: graph)
        let parameters = graph.initializers.values.filter { $0.kind == .float }.map(\.count).reduce(0, +)
        row("parameters", "\(grouped(parameters)) in \(layers.count) weight layers (\(String(format: "%.2f", Double(parameters) * 4 / 1_000_000)) MB as float32)")
        for note in graph.preparation { row("prepared", note) }
        if !graph.foldedStatistics.isEmpty { row("bn stats", "kept for \(graph.foldedStatistics.count) folded layers") }
        row("data", dataLine(session))
        let quantization = session.quantizationConfiguration.map { configuration -> String in
            let calibrated = session.quantization.map { $0.calibratedGraph == graph ? "calibrated" : "recalibrates at its next use (model changed)" }
            return configuration.summary + "; " + (calibrated ?? "not calibrated yet")
        }
        row("quantize", quantization ?? "off (FP32)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func dataLine(_ session: Session) -> String {
        func describe(_ data: AttachedData?) -> String {
            guard let data else { return "none" }
            return "\(data.source.count) samples\(data.labels == nil ? "" : " with labels")"
        }
        return "calibration: \(describe(session.calibrationData)); evaluation: \(describe(session.evaluationData))"
    }

    static func describe(_ info: ValueInfo) -> String {
        "[" + zip(info.shape, info.dimensionNames).map { $0.0.map(String.init) ?? $0.1 ?? "?" }.joined(separator: ", ") + "]"
    }

    static func typeName(_ type: Int) -> String {
        [1: "float32", 7: "int64", 6: "int32", 11: "float64", 2: "uint8", 3: "int8", 10: "float16"][type] ?? "type\(type)"
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return result
    }
}
