/// The one rule for printing a number that has no unit of its own (ranges, scales, shifts, spreads,
/// changes): four significant digits, in scientific notation (three decimals) below 1e-3 or from 1e5.
/// Percentages, percentage points and decibels are printed with two decimals instead; nothing else
/// picks its own format, so tables and reports read alike.
public enum ReportFormat {
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value != 0 && (abs(value) >= 1e5 || abs(value) < 1e-3) { return String(format: "%.3e", value) }
        let text = String(format: "%.4g", value)
        return text == "-0" ? "0" : text
    }

    /// Names in a report line: the first `limit`, then how many more.
    public static func list(_ names: [String], limit: Int = 3) -> String {
        let shown = names.prefix(limit).joined(separator: ", ")
        return names.count > limit ? "\(shown) and \(names.count - limit) more" : shown
    }
}
