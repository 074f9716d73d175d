/// Builds one inline SVG image: shapes in the order drawn, attributes in a fixed order, hover text as SVG
/// `<title>` children (the browser shows it as a tooltip), classes styled by the page's stylesheet.
struct SVGWriter {
    let width: Double, height: Double
    private(set) var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    private static func attributes(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { name, value in value.map { " \(name)=\"\(Markup.escape($0))\"" } }.joined()
    }

    private mutating func element(_ name: String, _ pairs: [(String, String?)], title: String?, value: Double?) {
        body += "<\(name)" + Self.attributes(pairs + [("data-value", value.map(Markup.value))])
        if let title {
            body += "><title>\(Markup.escape(title))</title></\(name)>\n"
        } else {
            body += "/>\n"
        }
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, class style: String,
                       title: String? = nil, value: Double? = nil) {
        element("rect", [("x", Markup.coordinate(x)), ("y", Markup.coordinate(y)), ("width", Markup.coordinate(max(0, width))),
                         ("height", Markup.coordinate(max(0, height))), ("class", style)], title: title, value: value)
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, class style: String, title: String? = nil) {
        element("line", [("x1", Markup.coordinate(x1)), ("y1", Markup.coordinate(y1)), ("x2", Markup.coordinate(x2)),
                         ("y2", Markup.coordinate(y2)), ("class", style)], title: title, value: nil)
    }

    mutating func circle(x: Double, y: Double, radius: Double, class style: String, title: String? = nil, value: Double? = nil) {
        element("circle", [("cx", Markup.coordinate(x)), ("cy", Markup.coordinate(y)), ("r", Markup.coordinate(radius)),
                           ("class", style)], title: title, value: value)
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ string: String, x: Double, y: Double, anchor: Anchor = .start, class style: String = "label",
                       rotated: Bool = false, title: String? = nil) {
        let transform = rotated ? "rotate(-90 \(Markup.coordinate(x)) \(Markup.coordinate(y)))" : nil
        body += "<text" + Self.attributes([("x", Markup.coordinate(x)), ("y", Markup.coordinate(y)), ("text-anchor", anchor.rawValue),
                                           ("class", style), ("transform", transform)]) + ">"
        body += (title.map { "<title>\(Markup.escape($0))</title>" } ?? "") + Markup.escape(string) + "</text>\n"
    }

    /// The finished image; `label` is its accessible name.
    func document(label: String, kind: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" data-plot=\"\(Markup.escape(kind))\" width=\"\(Int(width))\" "
            + "height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Markup.escape(label))\">\n"
            + body + "</svg>\n"
    }
}
