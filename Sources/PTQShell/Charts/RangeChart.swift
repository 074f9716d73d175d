import Foundation
import PTQEngine

/// ASCII charts of per-channel weight ranges. Pure functions of the statistics and a width: no
/// terminal queries inside, so transcripts are reproducible.
///
/// One row per output channel: the channel's [min, max] as a bar of `=` on an axis shared by the
/// whole layer (and by the `--vs` checkpoint), `|` at zero, `*` at the mean; `!` marks an outlier,
/// `x` a dead channel. Channels that do not fit are grouped (compact mode): a row then covers
/// several consecutive channels and shows their union.
public enum RangeChart {
    public static let maximumRows = 48

    struct Row {
        var label: String
        var minimum, maximum, mean: Float
        var mark: String
    }

    public static func render(_ current: RangeStatistics, versus: RangeStatistics? = nil, versusName: String? = nil,
                              width: Int, sort: Bool = false) -> String {
        var order = Array(current.channels.indices)
        if sort { order.sort { current.channels[$0].range > current.channels[$1].range || (current.channels[$0].range == current.channels[$1].range && $0 < $1) } }
        let all = current.channels + (versus?.channels ?? [])
        let low = min(0, all.map(\.minimum).min() ?? 0), high = max(0, all.map(\.maximum).max() ?? 0)
        let rowsPerChannel = versus == nil ? 1 : 2
        let groupSize = max(1, Int((Double(order.count * rowsPerChannel) / Double(maximumRows)).rounded(.up)))
        let labelWidth = max(5, String(order.count - 1).count * (groupSize > 1 ? 2 : 1) + (groupSize > 1 ? 1 : 0))
        let barWidth = max(10, width - labelWidth - 30)
        var lines: [String] = []
        lines.append("\(current.layer): \(current.channels.count) output channels, axis [\(Format.scientific(Double(low), 2)), \(Format.scientific(Double(high), 2))]"
            + (groupSize > 1 ? ", \(groupSize) channels per row" : "") + (sort ? ", sorted by range" : ""))
        lines.append(" ".padding(to: labelWidth + 1) + axisLine(low: low, high: high, width: barWidth) + "  " + "min".leftPadding(to: 10) + " " + "max".leftPadding(to: 10))
        for start in stride(from: 0, to: order.count, by: groupSize) {
            let group = Array(order[start..<min(order.count, start + groupSize)])
            let label = groupSize == 1 ? "\(group[0])" : "\(group.first!)-\(group.last!)"
            for (index, statistics) in [current, versus].compactMap({ $0 }).enumerated() {
                let row = summarize(group.map { statistics.channels[$0] }, label: index == 0 ? label : (versusName ?? "was"))
                lines.append(row.label.leftPadding(to: labelWidth) + " " + bar(row, low: low, high: high, width: barWidth)
                             + "  " + Format.scientific(Double(row.minimum), 2).leftPadding(to: 10)
                             + " " + Format.scientific(Double(row.maximum), 2).leftPadding(to: 10) + " " + row.mark)
            }
        }
        lines.append("")
        lines.append(contentsOf: histogram(current, width: width))
        if let versus {
            lines.append("spread (largest/smallest live range): \(Format.fixed(current.spread, 1)) now, \(Format.fixed(versus.spread, 1)) in \(versusName ?? "the other state")")
        } else {
            lines.append("spread (largest/smallest live range): \(Format.fixed(current.spread, 1)); \(current.outlierCount) outlier, \(current.deadCount) dead")
        }
        return lines.map { $0.trimmed() }.joined(separator: "\n") + "\n"
    }

    static func summarize(_ channels: [RangeStatistics.Channel], label: String) -> Row {
        let mark = channels.contains(where: \.isOutlier) ? "!" : (channels.allSatisfy(\.isDead) ? "x" : "")
        return Row(label: label, minimum: channels.map(\.minimum).min()!, maximum: channels.map(\.maximum).max()!,
                   mean: channels.map(\.mean).reduce(0, +) / Float(channels.count), mark: mark)
    }

    static func position(_ value: Float, low: Float, high: Float, width: Int) -> Int {
        guard high > low else { return 0 }
        return min(width - 1, max(0, Int(((value - low) / (high - low) * Float(width - 1)).rounded())))
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
            let slot = count == 1 ? 0 : min(count - 1, Int((log10(range) - lowLog) / (highLog - lowLog) * Double(count)))
            counts[slot] += 1
        }
        let most = counts.max() ?? 1
        let barWidth = max(10, width - 32)
        var lines = ["channel ranges (log-scaled buckets):"]
        for slot in 0..<count {
            let from = pow(10, lowLog + (highLog - lowLog) * Double(slot) / Double(count))
            let to = pow(10, lowLog + (highLog - lowLog) * Double(slot + 1) / Double(count))
            let length = counts[slot] == 0 ? 0 : max(1, counts[slot] * barWidth / most)
            lines.append("  [\(Format.scientific(from, 2)), \(Format.scientific(to, 2))] " + String(repeating: "#", count: length) + " \(counts[slot])")
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
            let length = Int((log10(max(1, statistics.spread)) / largestLog * Double(barWidth)).rounded())
            let flags = (name == worst ? " <- worst" : "") + (statistics.deadCount > 0 ? " (\(statistics.deadCount) dead)" : "")
            lines.append(String(shown).padding(to: nameWidth) + "  " + String(repeating: "#", count: length).padding(to: barWidth)
                         + "  " + Format.fixed(statistics.spread, 1).leftPadding(to: 6) + flags)
        }
        return lines.map { $0.trimmed() }.joined(separator: "\n") + "\n"
    }
}
