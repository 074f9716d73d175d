import Foundation
import PTQEngine

/// ASCII charts of per-channel weight ranges. Pure functions of the statistics and a width: no
/// terminal queries inside, so transcripts are reproducible.
///
/// One row per output channel: the channel's [min, max] as a bar of `=` on an axis shared by the
/// whole layer (and by the `--vs` checkpoint, unless the two extents differ more than tenfold: then
/// each state has its own axis), `|` at zero, `*` at the mean; `!` marks an outlier, `x` a dead
/// channel. Labels, bars and numbers sit in fixed columns for the whole chart. Channels that do not
/// fit are grouped: a row then covers several channels (consecutive ones, or ranks when sorted) and
/// shows their union.
public enum RangeChart {
    public static let maximumRows = 48

    struct Row {
        var label: String
        var minimum, maximum, mean: Float
        var mark: String
    }

    public static func render(_ current: RangeStatistics, versus: RangeStatistics? = nil, versusName: String? = nil,
                              width: Int, sort: Bool = false) -> String {
        let order = sort ? current.channelsByRange : Array(current.channels.indices)
        let states = [current, versus].compactMap { $0 }
        let extents = states.map { state in
            (min(0, state.channels.map(\.minimum).min() ?? 0), max(0, state.channels.map(\.maximum).max() ?? 0))
        }
        // One shared axis shows the change in scale directly, but when the states' extents differ
        // more than tenfold the smaller one would collapse to a dot: each state then gets its own axis.
        let spans = extents.map { Double($0.1 - $0.0) }
        let separateAxes = states.count == 2 && (spans.max() ?? 0) > 10 * max(spans.min() ?? 0, .leastNormalMagnitude)
        let shared = (extents.map(\.0).min() ?? 0, extents.map(\.1).max() ?? 0)
        let axes = separateAxes ? extents : extents.map { _ in shared }
        let rowsPerChannel = versus == nil ? 1 : 2
        let groupSize = max(1, Int((Double(order.count * rowsPerChannel) / Double(maximumRows)).rounded(.up)))
        // Sorted groups are labelled by rank (#1-4): their channels are not adjacent.
        func label(_ start: Int, _ group: [Int]) -> String {
            if groupSize == 1 { return "\(group[0])" }
            return sort ? "#\(start + 1)-\(start + group.count)" : "\(group.first!)-\(group.last!)"
        }
        let groupStarts = Array(stride(from: 0, to: order.count, by: groupSize))
        let labels = groupStarts.map { start in label(start, Array(order[start..<min(order.count, start + groupSize)])) }
        let labelWidth = max(5, (labels + [versusName ?? "was"]).map(\.count).max() ?? 5)
        let numberWidth = 10
        let barWidth = max(10, width - labelWidth - 2 * numberWidth - 6)
        var lines: [String] = []
        let axisText = zip(states.indices, axes).map { index, axis in
            (separateAxes ? (index == 0 ? "now " : "\(versusName ?? "was") ") : "")
                + "[\(Format.number(axis.0)), \(Format.number(axis.1))]"
        }.joined(separator: ", ")
        lines.append("\(current.layer): \(current.channels.count) output channels, " + (separateAxes ? "each state on its own axis: " : "axis ")
            + axisText + (groupSize > 1 ? ", \(groupSize) channels per row" : "") + (sort ? ", sorted by range (rows by rank)" : ""))
        lines.append(String(repeating: " ", count: labelWidth + 1) + axisLine(low: axes[0].0, high: axes[0].1, width: barWidth)
                     + "  " + "min".leftPadding(to: numberWidth) + "  " + "max".leftPadding(to: numberWidth))
        for (start, rowLabel) in zip(groupStarts, labels) {
            let group = Array(order[start..<min(order.count, start + groupSize)])
            for (index, statistics) in states.enumerated() {
                let row = summarize(group.map { statistics.channels[$0] }, label: index == 0 ? rowLabel : (versusName ?? "was"))
                let (low, high) = axes[index]
                lines.append(row.label.leftPadding(to: labelWidth) + " " + bar(row, low: low, high: high, width: barWidth)
                             + "  " + Format.number(row.minimum).leftPadding(to: numberWidth)
                             + "  " + Format.number(row.maximum).leftPadding(to: numberWidth) + " " + row.mark)
            }
        }
        lines.append("")
        lines.append(contentsOf: histogram(current, width: width))
        if let versus {
            lines.append("spread (largest/smallest live range): \(Format.number(current.spread)) now, \(Format.number(versus.spread)) in \(versusName ?? "the other state")")
        } else {
            lines.append("spread (largest/smallest live range): \(Format.number(current.spread)); \(current.outlierCount) outlier, \(current.deadCount) dead")
        }
        // Trailing blanks only: leading ones are the alignment.
        return lines.map(\.withoutTrailingBlanks).joined(separator: "\n") + "\n"
    }

    static func summarize(_ channels: [RangeStatistics.Channel], label: String) -> Row {
        let mark = channels.contains(where: \.isOutlier) ? "!" : (channels.allSatisfy(\.isDead) ? "x" : "")
        return Row(label: label, minimum: channels.map(\.minimum).min()!, maximum: channels.map(\.maximum).max()!,
                   mean: channels.map(\.mean).reduce(0, +) / Float(channels.count), mark: mark)
    }

    static func position(_ value: Float, low: Float, high: Float, width: Int) -> Int {
        guard high > low, value.isFinite, low.isFinite, high.isFinite else { return 0 }
        let scaled = ((value - low) / (high - low) * Float(width - 1)).rounded()
        return scaled.isFinite ? min(width - 1, max(0, Int(scaled))) : 0
    }

    static func bar(_ row: Row, low: Float, high: Float, width: Int) -> String {
        var cells = [Character](repeating: " ", count: width)
        let from = position(row.minimum, low: low, high: high, width: width)
        let to = position(row.maximum, low: low, high: high, width: width)
        for index in from...max(from, to) { cells[index] = "=" }
        cells[position(0, low: low, high: high, width: width)] = "|"
        cells[position(row.mean, low: low, high: high, width: width)] = "*"
        return String(cells)
    }

    static func axisLine(low: Float, high: Float, width: Int) -> String {
        var cells = [Character](repeating: "-", count: width)
        cells[position(0, low: low, high: high, width: width)] = "0"
        return String(cells)
    }

    /// Channel ranges in log-scaled buckets (live channels only).
    static func histogram(_ statistics: RangeStatistics, width: Int, buckets: Int = 8) -> [String] {
        let ranges = statistics.channels.filter { !$0.isDead }.map { Double($0.range) }.filter { $0 > 0 }
        guard let smallest = ranges.min(), let largest = ranges.max() else { return ["no live channels"] }
        let lowLog = log10(smallest), highLog = log10(largest)
        let count = highLog - lowLog < 1e-9 ? 1 : buckets
        var counts = [Int](repeating: 0, count: count)
        for range in ranges {
            let fraction = (log10(range) - lowLog) / (highLog - lowLog) * Double(count)
            let slot = count == 1 || !fraction.isFinite ? 0 : min(count - 1, max(0, Int(fraction)))
            counts[slot] += 1
        }
        let most = counts.max() ?? 1
        let barWidth = max(10, width - 32)
        var lines = ["channel ranges (log-scaled buckets):"]
        for slot in 0..<count {
            let from = pow(10, lowLog + (highLog - lowLog) * Double(slot) / Double(count))
            let to = pow(10, lowLog + (highLog - lowLog) * Double(slot + 1) / Double(count))
            let length = counts[slot] == 0 ? 0 : max(1, counts[slot] * barWidth / most)
            lines.append("  [\(Format.number(from)), \(Format.number(to))] " + String(repeating: "#", count: length) + " \(counts[slot])")
        }
        return lines
    }

    /// `ranges --all`: one line per layer, its spread as a log-scaled bar; the worst is flagged.
    public static func summary(_ layers: [(String, RangeStatistics)], width: Int) -> String {
        let nameWidth = min(48, layers.map(\.0.count).max() ?? 10)
        let barWidth = max(10, width - nameWidth - 22)
        let worst = layers.max { $0.1.spread < $1.1.spread }?.0
        let largestLog = max(1, log10(layers.map(\.1.spread).max() ?? 10))
        var lines = ["layer".padding(to: nameWidth) + "  " + "spread (log scale)".padding(to: barWidth) + "  spread"]
        for (name, statistics) in layers {
            let shown = name.count > nameWidth ? "…" + name.suffix(nameWidth - 1) : name
            let share = (log10(max(1, statistics.spread)) / largestLog * Double(barWidth)).rounded()
            let length = share.isFinite ? min(barWidth, max(0, Int(share))) : 0
            let flags = (name == worst ? " <- worst" : "") + (statistics.deadCount > 0 ? " (\(statistics.deadCount) dead)" : "")
            lines.append(String(shown).padding(to: nameWidth) + "  " + String(repeating: "#", count: length).padding(to: barWidth)
                         + "  " + Format.number(statistics.spread).leftPadding(to: 9) + flags)
        }
        return lines.map(\.withoutTrailingBlanks).joined(separator: "\n") + "\n"
    }
}
