import Foundation
import PTQEngine

/// Each kind of figure drawn as its plot: the one place that knows which plot shows which chart.
enum FigurePlots {
    static func render(_ figure: Figure) -> String {
        switch figure {
        case .channelRanges(let ranges): return ChannelRangesPlot.render(ranges)
        case .spreads(let layers): return spreads(layers)
        case .intervals(let intervals): return activationRanges(intervals)
        case .bars(let bars): return valueBars(bars)
        case .sensitivity(let result, let sorted, let configuration, let purpose):
            return sensitivity(result, sorted: sorted, configuration: configuration, purpose: purpose)
        case .accuracyVersusCost(let curve): return AccuracyPlots.versusCost(curve)
        case .accuracyLadder(let records): return AccuracyPlots.ladder(records)
        }
    }

    static func spreads(_ layers: [LayerSpread]) -> String {
        // As in the terminal, the widest layer is marked, but only when there is one: a unique largest spread above 1.
        let largest = layers.map(\.spread).max() ?? 0
        let worst = largest > 1 && layers.filter({ $0.spread == largest }).count == 1 ? layers.firstIndex { $0.spread == largest } : nil
        let bars = layers.enumerated().map { index, layer in
            HorizontalBarPlot.Bar(low: 1, high: max(1, layer.spread), style: index == worst ? "outlier" : "bar",
                                  note: ReportFormat.number(layer.spread),
                                  title: "spread \(ReportFormat.number(layer.spread)); \(layer.outliers) outlier, \(layer.dead) dead"
                                      + (index == worst ? " (the widest)" : ""), value: layer.spread)
        }
        return HorizontalBarPlot.render(
            title: "channel-range spread per layer (largest / smallest live channel range); red: the widest",
            labels: layers.map(\.layer), panels: [.init(title: "", axisLabel: "spread (log scale)", logarithmic: true, bars: bars)],
            kind: "spreads")
    }

    static func activationRanges(_ intervals: [NamedInterval]) -> String {
        let bars = intervals.map { interval in
            HorizontalBarPlot.Bar(low: interval.minimum, high: interval.maximum, note: ReportFormat.number(interval.maximum - interval.minimum),
                                  title: "min \(ReportFormat.number(interval.minimum)), max \(ReportFormat.number(interval.maximum)); \(interval.detail)",
                                  value: interval.maximum - interval.minimum)
        }
        return HorizontalBarPlot.render(
            title: "calibrated activation ranges (bar: [min, max]; number: max - min)", labels: intervals.map(\.name),
            panels: [.init(title: "", axisLabel: "activation value", bars: bars)], kind: "activation-ranges")
    }

    /// One value per row. Infinite values (+inf: identical tensors; -inf: an all-zero reference) are drawn a tenth of
    /// the finite span past the finite ones, marked "clipped", and say so in their hover text.
    static func valueBars(_ figure: BarsFigure) -> String {
        let finite = figure.rows.map(\.value).filter(\.isFinite)
        let (lowest, highest) = (min(0, finite.min() ?? 0), max(0, finite.max() ?? 0))
        let margin = 0.1 * max(highest - lowest, 1)
        let bars = figure.rows.map { row in
            let shown = row.value == .infinity ? highest + margin : row.value == -.infinity ? lowest - margin : row.value
            return HorizontalBarPlot.Bar(low: 0, high: shown.isNaN ? 0 : shown, style: row.value.isFinite ? "bar" : "clipped",
                                         note: Format.fixed(row.value, 2) + " " + figure.unit,
                                         title: "\(Format.fixed(row.value, 2)) \(figure.unit)" + (row.detail.isEmpty ? "" : " (\(row.detail))")
                                             + (row.value.isFinite ? "" : ", off the scale"),
                                         value: row.value)
        }
        return HorizontalBarPlot.render(title: figure.title, labels: figure.rows.map(\.label),
                                        panels: [.init(title: "", axisLabel: figure.unit, bars: bars)], kind: "bars")
    }

    static func sensitivity(_ result: LayerSensitivity.Result, sorted: Bool, configuration: String, purpose: String) -> String {
        let rows = SensitivityCommand.ordered(result, sorted: sorted)
        let isTop1 = result.metric == "top1"
        let lossUnit = isTop1 ? "points" : "noise power"
        let gainUnit = isTop1 ? "points" : "dB"
        let scale = isTop1 ? 100.0 : 1.0
        let losses = rows.map { max(0, SensitivityCommand.loss($0, result) * scale) }
        let gains = rows.map { max(0, ($0.allBut - result.quantized) * scale) }
        let only = zip(rows, losses).map { row, loss in
            HorizontalBarPlot.Bar(low: 0, high: loss, note: ReportFormat.number(loss),
                                  title: "only this quantized: \(SensitivityCommand.value(row.only, result.metric)), loss \(ReportFormat.number(loss)) \(lossUnit)",
                                  value: loss)
        }
        let allBut = zip(rows, gains).map { row, gain in
            HorizontalBarPlot.Bar(low: 0, high: gain, style: "versus", note: ReportFormat.number(gain),
                                  title: "all but this quantized: \(SensitivityCommand.value(row.allBut, result.metric)), gain \(ReportFormat.number(gain)) \(gainUnit)",
                                  value: gain)
        }
        let metric = isTop1 ? "top-1" : "output SQNR"
        return HorizontalBarPlot.render(
            title: "\(result.samples) \(purpose) samples, \(metric): FP32 \(SensitivityCommand.value(result.fp32, result.metric)), "
                + "all quantized \(SensitivityCommand.value(result.quantized, result.metric))" + (sorted ? "; most sensitive first" : ""),
            subtitle: configuration,
            labels: rows.map(\.layer),
            panels: [.init(title: "only this quantized: loss vs FP32", axisLabel: lossUnit, bars: only),
                     .init(title: "all but this: gain vs all quantized", axisLabel: gainUnit, bars: allBut)],
            kind: "sensitivity")
    }
}
