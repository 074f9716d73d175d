import PTQEngine

/// `ranges LAYER` as a plot: one column per output channel from its min to its max (outliers red, dead channels
/// an x at zero, the mean a tick), the `--vs` checkpoint's ranges as wider bars behind, hover text naming the
/// channel and its values. Channels are grouped as the terminal chart groups them, here into at most
/// `maximumColumns` columns (a group shows the union of its channels), so a 1,280-channel layer stays small.
/// When the two states' extents differ more than tenfold each gets its own panel and axis, as in the terminal.
enum ChannelRangesPlot {
    static let maximumColumns = 256
    static let width = 760.0, panelHeight = 220.0
    static let left = 64.0, right = 16.0

    static func render(_ figure: ChannelRangesFigure) -> String {
        let current = figure.current
        let order = figure.sorted ? current.channelsByRange : Array(current.channels.indices)
        let groupSize = max(1, (order.count + maximumColumns - 1) / maximumColumns)
        let groups = stride(from: 0, to: order.count, by: groupSize).map { Array(order[$0..<min(order.count, $0 + groupSize)]) }
        let states = [current, figure.versus].compactMap { $0 }
        let extents = states.map { state in
            (Double(min(0, state.channels.map(\.minimum).min() ?? 0)), Double(max(0, state.channels.map(\.maximum).max() ?? 0)))
        }
        let spans = extents.map { $0.1 - $0.0 }
        let separate = states.count == 2 && (spans.max() ?? 0) > 10 * max(spans.min() ?? 0, .leastNormalMagnitude)
        let panels = separate ? 2 : 1
        let top = 60.0
        var svg = SVGWriter(width: width, height: top + Double(panels) * (panelHeight + 44))
        let versusName = figure.versusName ?? "other state"
        svg.text(current.layer, x: left, y: 14, class: "plot-title")
        svg.text("\(current.channels.count) output channels, spread \(ReportFormat.number(current.spread))"
                 + (figure.versus.map { " (\(ReportFormat.number($0.spread)) in '\(versusName)')" } ?? "")
                 + "; \(current.outlierCount) outlier, \(current.deadCount) dead"
                 + (figure.sorted ? "; sorted by range, widest first" : "")
                 + (groupSize > 1 ? "; \(groupSize) channels per column" : ""), x: left, y: 30, class: "label")
        var legend: [(style: String, text: String)] = [("bar", "now"), ("outlier", "outlier"), ("dead-swatch", "dead")]
        if figure.versus != nil {
            legend.insert((separate ? "versus-solid" : "versus", "'\(versusName)'" + (separate ? " (lower panel)" : "")), at: 1)
        }
        PlotAxes.legend(&svg, legend, x: left, y: 48)
        let columnWidth = (width - left - right) / Double(groups.count)
        for panel in 0..<panels {
            let panelTop = top + Double(panel) * (panelHeight + 44)
            let shown = separate ? [panel] : Array(states.indices)
            let values = shown.flatMap { [extents[$0].0, extents[$0].1] }
            let scale = PlotScale.linear(values, from: panelTop + panelHeight, to: panelTop, includingZero: true)
            PlotAxes.left(&svg, scale, x: left, right: width - right,
                          label: separate ? (panel == 0 ? "weight (now)" : "weight ('\(versusName)')") : "weight")
            // Drawn back to front: the other state's wider bars, then the current ones.
            for index in shown.reversed() {
                let statistics = states[index]
                let isVersus = index == 1
                for (column, group) in groups.enumerated() {
                    let channels = group.map { statistics.channels[$0] }
                    let low = Double(channels.map(\.minimum).min()!), high = Double(channels.map(\.maximum).max()!)
                    let mean = Double(channels.map(\.mean).reduce(0, +)) / Double(channels.count)
                    let x = left + Double(column) * columnWidth
                    let name = label(group, start: column * groupSize, sorted: figure.sorted)
                    let deadCount = channels.filter(\.isDead).count, outlier = channels.contains(where: \.isOutlier)
                    let dead = deadCount == channels.count
                    let title = "\(isVersus ? "'\(versusName)' " : "")\(name): min \(ReportFormat.number(low)), max \(ReportFormat.number(high)), "
                        + "mean \(ReportFormat.number(mean))" + (outlier ? " (outlier)" : "")
                        + (dead ? " (dead)" : deadCount > 0 ? " (\(deadCount) of \(channels.count) dead)" : "")
                    let inset = isVersus && !separate ? 0.0 : min(columnWidth * 0.2, 2)
                    // A dead channel's range has collapsed, wherever it sits: the x marks its value, not zero.
                    if dead && (!isVersus || separate) {
                        let y = scale((low + high) / 2), half = max(1.5, min(4, columnWidth / 2))
                        svg.line(x1: x + columnWidth / 2 - half, y1: y - half, x2: x + columnWidth / 2 + half, y2: y + half, class: "dead", title: title)
                        svg.line(x1: x + columnWidth / 2 - half, y1: y + half, x2: x + columnWidth / 2 + half, y2: y - half, class: "dead")
                        continue
                    }
                    let style = isVersus && !separate ? "versus" : outlier ? "outlier" : isVersus ? "versus-solid" : "bar"
                    svg.rect(x: x + inset, y: scale(high), width: columnWidth - 2 * inset, height: max(0.5, scale(low) - scale(high)),
                             class: style, title: title, value: high - low)
                    if !isVersus || separate {
                        svg.line(x1: x + inset, y1: scale(mean), x2: x + columnWidth - inset, y2: scale(mean), class: "mean")
                    }
                }
            }
            let bottom = panelTop + panelHeight
            svg.line(x1: left, y1: bottom, x2: width - right, y2: bottom, class: "axis")
            let tickEvery = max(1, groups.count / 8)
            for column in stride(from: 0, to: groups.count, by: tickEvery) {
                svg.text(figure.sorted ? "#\(column * groupSize + 1)" : "\(groups[column][0])",
                         x: left + (Double(column) + 0.5) * columnWidth, y: bottom + 13, anchor: .middle, class: "tick")
            }
            svg.text(figure.sorted ? "rank by range" : "output channel", x: (left + width - right) / 2, y: bottom + 28,
                     anchor: .middle, class: "axis-label")
        }
        return svg.document(label: "per-channel weight ranges of \(current.layer)", kind: "channel-ranges")
    }

    static func label(_ group: [Int], start: Int, sorted: Bool) -> String {
        if group.count == 1 { return sorted ? "channel \(group[0]) (rank #\(start + 1))" : "channel \(group[0])" }
        return sorted ? "ranks #\(start + 1)-\(start + group.count)" : "channels \(group.first!)-\(group.last!)"
    }
}
