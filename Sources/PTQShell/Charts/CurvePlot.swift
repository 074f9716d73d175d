/// A scatter of (x, y) points on a character grid with labelled axes: the accuracy-versus-cost curve of mixed
/// precision. Points falling in one cell show once; `highlight` marks one point with `o` instead of `*`.
enum CurvePlot {
    static func render(_ points: [(x: Double, y: Double)], highlight: Int?, width: Int = 56, height: Int = 12,
                       xLabel: String, yLabel: String, format: (Double) -> String) -> String {
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(),
              let minY = points.map(\.y).min(), let maxY = points.map(\.y).max() else { return "" }
        let spanX = maxX > minX ? maxX - minX : 1, spanY = maxY > minY ? maxY - minY : 1
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        for (index, point) in points.enumerated() {
            let column = Int(((point.x - minX) / spanX * Double(width - 1)).rounded())
            let row = height - 1 - Int(((point.y - minY) / spanY * Double(height - 1)).rounded())
            if grid[row][column] != "o" { grid[row][column] = index == highlight ? "o" : "*" }
        }
        let top = format(maxY), bottom = format(minY)
        let margin = max(top.count, bottom.count)
        var lines = ["\(yLabel)"]
        for (row, cells) in grid.enumerated() {
            let tick = row == 0 ? top : (row == height - 1 ? bottom : "")
            // Trailing blanks only: leading ones place the points.
            lines.append((tick.leftPadding(to: margin) + " |" + String(cells)).withoutTrailingBlanks)
        }
        lines.append(String(repeating: " ", count: margin) + " +" + String(repeating: "-", count: width))
        let left = Format.fixed(minX, 2), right = Format.fixed(maxX, 2)
        lines.append(String(repeating: " ", count: margin + 2) + left + String(repeating: " ", count: max(1, width - left.count - right.count)) + right)
        lines.append(String(repeating: " ", count: margin + 2) + xLabel)
        return lines.joined(separator: "\n") + "\n"
    }
}
