import Foundation

/// Rows of horizontal bars sharing their labels, in one or more side-by-side panels each with its own axis
/// (linear or log10): the shape of `ranges --all`, `ranges --activations`, `sqnr` and `sensitivity`.
/// A bar runs from `low` to `high` on its panel's axis; its number is written after the panel and in the
/// hover text, so nothing is only readable off the geometry.
enum HorizontalBarPlot {
    struct Bar {
        var low: Double, high: Double
        var style = "bar"
        var note: String
        var title: String
        /// The length the bar shows, in the panel's unit (`data-value`, what tests read back).
        var value: Double
    }

    struct Panel {
        var title: String
        var axisLabel: String
        var logarithmic = false
        var bars: [Bar]
    }

    static let width = 760.0, rowHeight = 16.0, noteWidth = 66.0

    static func render(title: String, subtitle: String? = nil, labels: [String], panels: [Panel], kind: String,
                       legend: [(style: String, text: String)] = []) -> String {
        let labelChars = min(44, labels.map(\.count).max() ?? 8)
        let labelWidth = Double(labelChars) * 6.7 + 12
        let top = 40.0 + (legend.isEmpty ? 0 : 16) + (subtitle == nil ? 0 : 16)
        let plotHeight = Double(labels.count) * rowHeight
        var svg = SVGWriter(width: width, height: top + plotHeight + 40)
        svg.text(title, x: 8, y: 14, class: "plot-title")
        if let subtitle { svg.text(subtitle, x: 8, y: 30, class: "label") }
        if !legend.isEmpty { PlotAxes.legend(&svg, legend, x: 8, y: subtitle == nil ? 34 : 50) }
        for (row, label) in labels.enumerated() {
            svg.text(PlotAxes.shortened(label, labelChars), x: labelWidth - 6, y: top + Double(row) * rowHeight + 12,
                     anchor: .end, class: "row-label", title: label)
        }
        let panelWidth = (width - labelWidth - 8) / Double(max(1, panels.count))
        for (index, panel) in panels.enumerated() {
            let from = labelWidth + Double(index) * panelWidth, to = from + panelWidth - noteWidth - 8
            let scale = scaleFor(panel, from: from, to: to)
            svg.text(panel.title, x: from, y: top - 6, class: "panel-title")
            PlotAxes.bottom(&svg, scale, y: top + plotHeight, top: top, label: panel.axisLabel)
            for (row, (label, bar)) in zip(labels, panel.bars).enumerated() {
                let y = top + Double(row) * rowHeight + 2
                let (a, b) = (scale(bar.low), scale(bar.high))
                svg.rect(x: min(a, b), y: y, width: max(abs(b - a), bar.high > bar.low ? 1 : 0), height: rowHeight - 4,
                         class: bar.style, title: "\(label): \(bar.title)", value: bar.value)
                svg.text(bar.note, x: to + 6, y: y + 10, class: "note")
            }
        }
        return svg.document(label: title, kind: kind)
    }

    /// A log axis from the decade at or below the smallest positive value to the one above the largest; a
    /// linear one padded to round ticks that always shows zero.
    static func scaleFor(_ panel: Panel, from: Double, to: Double) -> PlotScale {
        let values = panel.bars.flatMap { [$0.low, $0.high] }.filter(\.isFinite)
        if panel.logarithmic {
            let positive = values.filter { $0 > 0 && $0.isFinite }
            let low = pow(10, floor(log10(positive.min() ?? 1))), high = pow(10, ceil(log10(positive.max() ?? 10)))
            return PlotScale(low: low, high: max(high, low * 10), from: from, to: to, isLogarithmic: true)
        }
        return PlotScale.linear(values, from: from, to: to, includingZero: true)
    }
}
