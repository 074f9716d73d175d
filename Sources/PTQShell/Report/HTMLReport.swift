import Foundation

/// The session as one self-contained page: every cell's command and output as `transcript` writes them, each
/// chart drawn as an inline SVG plot in place of its ASCII form, and the accuracy ladder of all `eval`s on top.
/// No scripts, no fonts or images fetched, no timestamps: the same session gives the same bytes. The markup is
/// XHTML-compatible (every element closed, numeric character references only) so XML tools can read it.
public enum HTMLReport {
    public static func page(session: Session) -> String {
        let model = Transcript.modelName(session)
        let cells = shownCells(session)
        var html = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        html += "<title>ptq session: \(Markup.escape(model))</title>\n<style>\n\(stylesheet)</style>\n</head>\n<body>\n"
        html += "<header>\n<h1>ptq session</h1>\n<ul class=\"facts\">\n"
        html += "<li>model: <code>\(Markup.escape(model))</code></li>\n"
        html += "<li>data: \(Markup.escape(Transcript.dataNames(session)))</li>\n"
        html += "<li>\(cells.count) cells, \(cells.filter { !$0.succeeded }.count) failed; \(session.evaluations.count) evals</li>\n"
        html += "</ul>\n</header>\n"
        if hasLadder(session) {
            html += "<section class=\"summary\" id=\"accuracy\">\n<h2>Accuracy across the session</h2>\n"
            html += figure(.accuracyLadder(session.evaluations)) + "</section>\n"
        }
        html += "<main>\n"
        for cell in cells { html += section(cell) }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// The cells the page shows: all but `report`'s own.
    static func shownCells(_ session: Session) -> [Cell] { session.cells.filter { $0.words.first != "report" } }

    /// Whether the page opens with the accuracy ladder: some eval has a value it can draw.
    static func hasLadder(_ session: Session) -> Bool { !AccuracyPlots.ladderRows(session.evaluations).rows.isEmpty }

    /// How many plots the page draws: every cell's charts and the ladder.
    static func plotCount(_ session: Session) -> Int {
        shownCells(session).reduce(0) { $0 + $1.figures.count } + (hasLadder(session) ? 1 : 0)
    }

    static func figure(_ figure: Figure) -> String { "<figure>\n" + FigurePlots.render(figure) + "</figure>\n" }

    /// One cell: its command, then its output with each chart's text replaced by the chart's plot.
    static func section(_ cell: Cell) -> String {
        var html = "<section class=\"cell\(cell.succeeded ? "" : " failed")\" id=\"cell-\(cell.number)\">\n"
        html += "<h3><span class=\"number\">[\(cell.number)]</span> <code>\(Markup.escape(cell.text))</code></h3>\n"
        let bytes = Array(cell.output.utf8)
        var position = 0
        func text(upTo end: Int) {
            guard end > position else { return }
            let piece = String(decoding: bytes[position..<end], as: UTF8.self)
            if !piece.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                // HTML drops a newline right after <pre> and XML keeps it: one always written there reads the same in both.
                html += "<pre>\n\(Markup.escape(piece.hasSuffix("\n") ? String(piece.dropLast()) : piece))</pre>\n"
            }
        }
        for placed in cell.figures where placed.textRange.lowerBound >= position && placed.textRange.upperBound <= bytes.count {
            text(upTo: placed.textRange.lowerBound)
            html += figure(placed.figure)
            position = placed.textRange.upperBound
        }
        text(upTo: bytes.count)
        return html + "</section>\n"
    }

    static let stylesheet = """
        body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 820px; padding: 16px; color: #222; }
        h1 { font-size: 22px; margin: 8px 0; }
        h2 { font-size: 17px; margin: 20px 0 8px; }
        h3 { font-size: 14px; margin: 0 0 6px; font-weight: normal; }
        .facts { margin: 0; padding-left: 18px; font-size: 13px; color: #444; }
        .cell { border-top: 1px solid #ddd; padding: 10px 0; }
        .cell.failed h3 code { color: #b00020; }
        .number { color: #888; font-family: monospace; }
        code, pre { font-family: ui-monospace, DejaVu Sans Mono, monospace; font-size: 12px; }
        pre { background: #f7f7f7; padding: 6px 8px; margin: 4px 0; overflow-x: auto; }
        .failed pre { background: #fdecee; }
        figure { margin: 6px 0; }
        svg.plot { max-width: 100%; height: auto; background: #fff; }
        svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333; }
        svg .plot-title { font-size: 12px; font-weight: 600; }
        svg .panel-title { font-size: 11px; font-weight: 600; }
        svg .row-label { font-family: ui-monospace, DejaVu Sans Mono, monospace; font-size: 11px; }
        svg .tick, svg .note { font-size: 10px; fill: #555; }
        svg .axis { stroke: #333; stroke-width: 1; }
        svg .grid { stroke: #e6e6e6; stroke-width: 1; }
        svg .zero { stroke: #999; stroke-width: 1; }
        svg .bar { fill: #4c78a8; }
        svg .outlier { fill: #e45756; }
        svg .versus { fill: #f58518; opacity: 0.5; }
        svg .versus-solid { fill: #f58518; }
        svg .mean { stroke: #fff; stroke-width: 1; }
        svg .dead { stroke: #555; stroke-width: 1.5; }
        svg .dead-swatch { fill: none; stroke: #555; }
        svg .point { fill: #4c78a8; }
        svg .chosen { fill: #e45756; stroke: #222; }
        svg .reference-point { fill: #54a24b; }
        svg .reference { stroke: #54a24b; stroke-width: 2; }
        svg .reference-swatch { fill: #54a24b; }
        svg .target { stroke: #e45756; stroke-width: 1; stroke-dasharray: 5 3; }
        svg .clipped { fill: #9d755d; }
        svg .target-swatch { fill: #e45756; opacity: 0.4; }
        svg .delta-line { stroke: #bbb; stroke-width: 2; }
        svg rect:hover, svg circle:hover { stroke: #000; stroke-width: 1; }

        """
}
