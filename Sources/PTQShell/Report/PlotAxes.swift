import Foundation
import PTQEngine

/// Maps data values to pixels along one axis, linearly or on a log10 scale (values must then be positive).
struct PlotScale {
    var low: Double, high: Double
    var from: Double, to: Double
    var isLogarithmic = false

    /// Infinities go to the axis' ends (an infinite SQNR is the best, not the worst); NaN to its start.
    func callAsFunction(_ value: Double) -> Double {
        if value == .infinity { return to }
        if value == -.infinity { return from }
        let (a, b, v) = isLogarithmic ? (log10(low), log10(high), log10(max(value, low))) : (low, high, value)
        guard b > a, v.isFinite else { return from }
        let clamped = min(max(v, a), b)
        return from + (clamped - a) / (b - a) * (to - from)
    }

    /// Tick values: powers of ten on a log scale, else steps of 1, 2 or 5 times a power of ten (about `count` of them).
    func ticks(count: Int = 5) -> [Double] {
        if isLogarithmic {
            guard low > 0, high.isFinite, high >= low else { return [] }
            let first = Int(floor(log10(low))), last = Int(ceil(log10(high)))
            let step = max(1, (last - first + 5) / 6)
            return stride(from: first, through: last, by: step).map { pow(10, Double($0)) }.filter { $0 >= low * 0.999 && $0 <= high * 1.001 }
        }
        let step = Self.niceStep((high - low) / Double(max(1, count)))
        guard step > 0, step.isFinite else { return [low] }
        var values: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9 && values.count < 50 {
            values.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return values
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 0 }
        let power = pow(10, floor(log10(raw)))
        let fraction = raw / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }

    /// A linear domain padded to tick boundaries that includes zero when `includingZero`.
    static func linear(_ values: [Double], from: Double, to: Double, includingZero: Bool) -> PlotScale {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if includingZero { low = min(low, 0); high = max(high, 0) }
        if high - low < 1e-12 { (low, high) = (low - 1, high + 1) }
        let step = niceStep((high - low) / 5)
        return PlotScale(low: (low / step).rounded(.down) * step, high: (high / step).rounded(.up) * step, from: from, to: to)
    }
}

/// Axes, grid lines and legends drawn the same way in every plot.
enum PlotAxes {
    /// A horizontal axis at `y` with ticks, vertical grid lines up to `top`, and a label under it.
    static func bottom(_ svg: inout SVGWriter, _ scale: PlotScale, y: Double, top: Double, label: String,
                       format: (Double) -> String = tickLabel) {
        for tick in scale.ticks() {
            let x = scale(tick)
            svg.line(x1: x, y1: top, x2: x, y2: y, class: tick == 0 && !scale.isLogarithmic ? "zero" : "grid")
            svg.text(format(tick), x: x, y: y + 13, anchor: .middle, class: "tick")
        }
        svg.line(x1: min(scale.from, scale.to), y1: y, x2: max(scale.from, scale.to), y2: y, class: "axis")
        svg.text(label, x: (scale.from + scale.to) / 2, y: y + 28, anchor: .middle, class: "axis-label")
    }

    /// A vertical axis at `x` with ticks, horizontal grid lines across to `right`, and a rotated label.
    static func left(_ svg: inout SVGWriter, _ scale: PlotScale, x: Double, right: Double, label: String,
                     format: (Double) -> String = tickLabel) {
        for tick in scale.ticks() {
            let y = scale(tick)
            svg.line(x1: x, y1: y, x2: right, y2: y, class: tick == 0 && !scale.isLogarithmic ? "zero" : "grid")
            svg.text(format(tick), x: x - 4, y: y + 4, anchor: .end, class: "tick")
        }
        svg.line(x1: x, y1: min(scale.from, scale.to), x2: x, y2: max(scale.from, scale.to), class: "axis")
        svg.text(label, x: 12, y: (scale.from + scale.to) / 2, anchor: .middle, class: "axis-label", rotated: true)
    }

    /// Swatches with labels in one row starting at (x, y); each entry is (class of the swatch, text).
    static func legend(_ svg: inout SVGWriter, _ entries: [(style: String, text: String)], x: Double, y: Double) {
        var position = x
        for entry in entries {
            svg.rect(x: position, y: y - 9, width: 10, height: 10, class: entry.style)
            svg.text(entry.text, x: position + 14, y: y, class: "legend")
            position += 24 + Double(entry.text.count) * 6.2
        }
    }

    static func tickLabel(_ value: Double) -> String { ReportFormat.number(value) }

    /// A label cut in its middle to `limit` characters, keeping its start (the cell number) and its end.
    static func middleShortened(_ name: String, _ limit: Int) -> String {
        guard name.count > limit, limit > 3 else { return name }
        let head = (limit - 1) / 2
        return name.prefix(head) + "\u{2026}" + name.suffix(limit - 1 - head)
    }

    /// A row label cut to `limit` characters from the left ("…" + the end), as the terminal tables cut them.
    static func shortened(_ name: String, _ limit: Int) -> String {
        name.count > limit ? "\u{2026}" + name.suffix(limit - 1) : name
    }
}
