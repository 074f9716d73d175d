import Foundation

/// Text made safe for the report's XHTML-compatible markup. Only numeric character references are written
/// (named ones such as `&nbsp;` break XML parsers), every character outside printable ASCII becomes one, and
/// characters XML 1.0 forbids even as references (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, so any
/// command a user typed, or any bytes a model's names hold, still give a well-formed page.
enum Markup {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x26, 0x3C, 0x3E, 0x22, 0x27: result += "&#\(scalar.value);"
            case 0x09, 0x0A: result.unicodeScalars.append(scalar)
            case 0x0D: result += "&#13;"
            case 0x20..<0x7F: result.unicodeScalars.append(scalar)
            case 0x00..<0x20, 0xFFFE, 0xFFFF: result += "&#65533;"
            default: result += "&#\(scalar.value);"
            }
        }
        return result
    }

    /// A coordinate or length: one decimal, no "-0.0", so the page is the same bytes on every machine.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = String(format: "%.1f", value)
        return text == "-0.0" ? "0.0" : text
    }

    /// A plotted value in a `data-value` attribute: six significant digits, for tests and tools to read back.
    static func value(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%.6g", value)
    }
}
