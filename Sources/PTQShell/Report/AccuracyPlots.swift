import Foundation
import PTQEngine

/// The two plots whose y or x axis is accuracy: mixed precision's accuracy-versus-cost scatter and the
/// session's accuracy ladder. Both zoom to the values (99.1 against 98.4 must be visible), so neither draws
/// bars from zero: points, with the reference and the budget as lines.
enum AccuracyPlots {
    static let width = 760.0

    static func versusCost(_ figure: AccuracyVersusCostFigure) -> String {
        let (left, right, top, plotHeight) = (64.0, 16.0, 44.0, 240.0)
        var svg = SVGWriter(width: width, height: top + plotHeight + 44)
        let target = figure.fp32 - figure.targetDrop
        let chosen = figure.chosen.map { figure.points[$0] }
        svg.text("accuracy versus cost of the \(figure.points.count) configurations measured"
                 + (chosen.map { "; chosen: cost \(Format.fixed($0.cost, 3)), top-1 \(Format.fixed($0.top1 * 100, 2))%" } ?? ""),
                 x: left, y: 14, class: "plot-title")
        PlotAxes.legend(&svg, [("point", "configuration"), ("chosen", "chosen"), ("reference-swatch", "FP32"), ("target-swatch", "FP32 - budget")],
                        x: left, y: 32)
        let x = PlotScale.linear(figure.points.map(\.cost), from: left, to: width - right, includingZero: false)
        let y = PlotScale.linear(figure.points.map { $0.top1 * 100 } + [figure.fp32 * 100, target * 100],
                                 from: top + plotHeight, to: top, includingZero: false)
        PlotAxes.left(&svg, y, x: left, right: width - right, label: "top-1 %")
        PlotAxes.bottom(&svg, x, y: top + plotHeight, top: top, label: "cost (bit-operations, 1 = W8A8 everywhere)")
        svg.line(x1: left, y1: y(figure.fp32 * 100), x2: width - right, y2: y(figure.fp32 * 100), class: "reference",
                 title: "FP32 top-1 \(Format.fixed(figure.fp32 * 100, 2))%")
        svg.line(x1: left, y1: y(target * 100), x2: width - right, y2: y(target * 100), class: "target",
                 title: "budget: \(Format.fixed(target * 100, 2))% (FP32 - \(Format.fixed(figure.targetDrop * 100, 2)) points)")
        for (index, point) in figure.points.enumerated() where index != figure.chosen {
            svg.circle(x: x(point.cost), y: y(point.top1 * 100), radius: 3, class: "point",
                       title: "configuration \(point.moves): cost \(Format.fixed(point.cost, 3)), top-1 \(Format.fixed(point.top1 * 100, 2))%",
                       value: point.top1 * 100)
        }
        if let point = chosen {  // drawn last, on top
            svg.circle(x: x(point.cost), y: y(point.top1 * 100), radius: 5.5, class: "chosen",
                       title: "chosen, configuration \(point.moves): cost \(Format.fixed(point.cost, 3)), top-1 \(Format.fixed(point.top1 * 100, 2))%",
                       value: point.top1 * 100)
        }
        return svg.document(label: "mixed precision: accuracy versus cost", kind: "accuracy-versus-cost")
    }

    /// One row per `eval`: a dot at the model's top-1 (output SQNR when no eval had labels), a tick at its FP32
    /// reference and the line between them (the delta); the first row is the FP32 reference itself.
    /// The evals a ladder shows: their metric is top-1 when any has labels, else output SQNR; the others are counted.
    static func ladderRows(_ records: [EvaluationRecord]) -> (rows: [EvaluationRecord], usesTop1: Bool, hidden: Int) {
        let usesTop1 = records.contains { $0.top1 != nil }
        let rows = records.filter { (usesTop1 ? $0.top1 : $0.sqnr) != nil }
        return (rows, usesTop1, records.count - rows.count)
    }

    static func ladder(_ records: [EvaluationRecord]) -> String {
        let (rows, usesTop1, hidden) = ladderRows(records)
        let value = { (record: EvaluationRecord) in usesTop1 ? record.top1 : record.sqnr }
        let models = Set(rows.map(\.model)).count > 1
        var labels = rows.map { "[\($0.cell)] " + (models ? "\($0.model) " : "") + "\($0.state), \($0.quantization)" }
        let reference = usesTop1 ? rows.first?.fp32Top1 : nil
        if let first = rows.first, reference != nil { labels.insert("FP32 (\(first.reference))", at: 0) }
        let labelChars = min(60, labels.map(\.count).max() ?? 8)
        let (labelWidth, noteWidth, rowHeight, top) = (Double(labelChars) * 6.7 + 12, 120.0, 20.0, 40.0)
        let plotHeight = Double(max(1, labels.count)) * rowHeight
        var svg = SVGWriter(width: width, height: top + plotHeight + 44)
        let unit = usesTop1 ? "%" : " dB"
        svg.text("every eval of the session: \(usesTop1 ? "top-1" : "output SQNR against FP32") (dot), "
                 + (usesTop1 ? "its FP32 reference (tick), the delta between them" : "no labels, so no FP32 accuracy")
                 + (hidden > 0 ? "; \(hidden) eval\(hidden == 1 ? "" : "s") without \(usesTop1 ? "labels" : "a comparison") not shown" : ""),
                 x: 8, y: 14, class: "plot-title")
        let values = rows.compactMap(value) + (usesTop1 ? rows.compactMap(\.fp32Top1) : [])
        let scale = PlotScale.linear(values, from: labelWidth, to: width - noteWidth - 8, includingZero: false)
        PlotAxes.bottom(&svg, scale, y: top + plotHeight, top: top, label: usesTop1 ? "top-1 %" : "output SQNR dB")
        func centre(_ row: Int) -> Double { top + (Double(row) + 0.5) * rowHeight }
        for (row, label) in labels.enumerated() {
            svg.text(PlotAxes.middleShortened(label, labelChars), x: labelWidth - 6, y: centre(row) + 4, anchor: .end, class: "row-label", title: label)
        }
        var row = 0
        if let reference, let first = rows.first {
            svg.circle(x: scale(reference), y: centre(0), radius: 5, class: "reference-point",
                       title: "FP32 (\(first.reference)): \(Format.fixed(reference, 2))%", value: reference)
            svg.text(Format.fixed(reference, 2) + unit, x: width - noteWidth, y: centre(0) + 4, class: "note")
            row = 1
        }
        for record in rows {
            let shown = value(record)!
            let y = centre(row)
            if usesTop1, let fp32 = record.fp32Top1 {
                svg.line(x1: scale(fp32), y1: y, x2: scale(shown), y2: y, class: "delta-line")
                svg.line(x1: scale(fp32), y1: y - 6, x2: scale(fp32), y2: y + 6, class: "reference",
                         title: "its FP32 reference (\(record.reference)): \(Format.fixed(fp32, 2))%")
            }
            let delta = record.deltaTop1.map { " (" + Format.signed($0, 2) + ")" } ?? ""
            svg.circle(x: scale(shown), y: y, radius: 5, class: record.quantization == "FP32" ? "reference-point" : "point",
                       title: "[\(record.cell)] \(record.state), \(record.quantization): \(Format.fixed(shown, 2))\(unit)\(delta) on \(record.samples) samples",
                       value: shown)
            svg.text(Format.fixed(shown, 2) + unit + delta, x: width - noteWidth, y: y + 4, class: "note")
            row += 1
        }
        return svg.document(label: "accuracy ladder of the session's evals", kind: "accuracy-ladder")
    }
}
