/// Padding and trimming for the fixed-column text of tables and charts.
extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
    func leftPadding(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
    /// Trailing blanks removed; leading ones kept, as they align the line.
    var withoutTrailingBlanks: String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
