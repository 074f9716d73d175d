import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import PTQEngine
@testable import PTQShell

/// The HTML report: it must parse as XML, be the same bytes every time, and plot the session's own numbers.
@Suite struct ReportTests {
    /// Every element of a page in document order, with its attributes and (for `title`) its text.
    final class Elements: NSObject, XMLParserDelegate {
        var all: [(name: String, attributes: [String: String])] = []
        var titles: [String] = []
        private var title: String?
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            all.append((name, attributes))
            if name == "title" { title = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { title? += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "title", let text = title { titles.append(text); title = nil }
        }
        /// The plotted values (`data-value`) of `element`s inside the plots of `kind`, in order.
        func values(_ kind: String, _ element: String) -> [Double] {
            var inside = false, result: [Double] = []
            for (name, attributes) in all {
                if name == "svg" { inside = attributes["data-plot"] == kind }
                if inside, name == element, let value = attributes["data-value"] { result.append(Double(value) ?? .nan) }
            }
            return result
        }
        func plots(_ kind: String) -> Int { all.filter { $0.name == "svg" && $0.attributes["data-plot"] == kind }.count }
    }

    static func parse(_ page: String) throws -> Elements {
        let parser = XMLParser(data: Data(page.utf8))
        let elements = Elements()
        parser.delegate = elements
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        return elements
    }

    static let session = [
        "load models/mnist_mobilenet_skewed.onnx",
        "data models/calibration.npy --labels models/calibration_labels.npy --for calibration",
        "data models/evaluation.npy --labels models/evaluation_labels.npy --for evaluation --limit 300",
        "apply fold-bn", "checkpoint folded", "ranges --all",
        "ranges /features/features.8/conv/conv.3/Conv --sort",
        "quantize", "eval", "ranges --activations", "sqnr --top 8",
        "apply dfq", "ranges /features/features.8/conv/conv.3/Conv --vs folded", "eval", "evals",
    ]

    @Test func pageIsWellFormedRepeatableAndPlotsTheSessionsNumbers() throws {
        let (interpreter, text) = runShell(Self.session)
        let page = HTMLReport.page(session: interpreter.session)
        // Byte for byte the same from a second run of the same commands; ASCII only, numeric references only.
        #expect(page == HTMLReport.page(session: runShell(Self.session).0.session))
        #expect(page.utf8.allSatisfy { $0 < 0x80 })
        #expect(page.range(of: "&[A-Za-z]", options: .regularExpression) == nil)
        let elements = try Self.parse(page)
        #expect(elements.all.first?.name == "html")
        for kind in ["spreads", "channel-ranges", "activation-ranges", "bars", "accuracy-ladder"] {
            #expect(elements.plots(kind) >= 1, "no \(kind) plot")
        }
        #expect(elements.plots("channel-ranges") == 2 && elements.plots("accuracy-ladder") == 2)  // the summary's and evals'

        // ranges --all: one bar per layer, its spread as RangeStatistics computes it on the folded model.
        let folded = try #require(interpreter.session.checkpoints["folded"])
        let spreads = WeightLayer.all(in: folded).map { RangeStatistics(layer: $0, graph: folded).spread }
        expectClose(elements.values("spreads", "rect"), spreads)
        // The sorted chart: one column per channel (192 fit), widest range first, as the channels' statistics say.
        let layer = try #require(WeightLayer.all(in: folded).first { $0.name == "/features/features.8/conv/conv.3/Conv" })
        let ranges = RangeStatistics(layer: layer, graph: folded).channels.map { Double($0.range) }.sorted(by: >)
        expectClose(Array(elements.values("channel-ranges", "rect").prefix(ranges.count)), ranges)
        // Hover text names the channel and its values.
        #expect(elements.titles.contains { $0.hasPrefix("channel ") && $0.contains("(rank #1): min ") })

        // The ladder: FP32 and each eval's top-1, as the session recorded them and `eval` printed them.
        let records = interpreter.session.evaluations
        #expect(records.count == 2 && records[0].state == "folded" && records[1].state.hasPrefix("after [12] apply dfq"))
        let ladder = elements.values("accuracy-ladder", "circle")
        expectClose(Array(ladder.prefix(3)), [records[0].fp32Top1!, records[0].top1!, records[1].top1!])
        #expect(text.contains(Format.fixed(records[1].top1!, 2) + "%"))
        // sqnr: the bars are the table's rows, worst first.
        let sqnr = elements.values("bars", "rect")
        #expect(sqnr.count == 8 && sqnr == sqnr.sorted())
    }

    @Test func sensitivityAndMixedPrecisionPlotTheirResults() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-report-sensitivity-\(getpid()).json").path
        let (interpreter, _) = runShell(Array(Self.session.prefix(4)) + ["quantize --per-channel", "sensitivity --samples 64 --json \(path) --force",
                                                                   "mixed-precision --target-drop 2 --samples 64"])
        let elements = try Self.parse(HTMLReport.page(session: interpreter.session))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let layers = try #require(json["layers"] as? [[String: Any]])
        let bars = elements.values("sensitivity", "rect")
        #expect(bars.count == 2 * layers.count)
        // The bars are the loss against FP32 with only that layer quantized, and the gain over all quantized without it.
        let (fp32, quantized) = (json["fp32"] as? Double ?? .nan, json["quantized"] as? Double ?? .nan)
        expectClose(Array(bars.prefix(layers.count)), layers.map { max(0, fp32 - ($0["only_quantized"] as! Double)) * 100 })
        expectClose(Array(bars.suffix(layers.count)), layers.map { max(0, ($0["all_but_quantized"] as! Double) - quantized) * 100 })
        #expect(bars.contains { $0 > 0 })
        let points = elements.values("accuracy-versus-cost", "circle")
        #expect(points.count >= 2)
        #expect(elements.all.contains { $0.name == "circle" && $0.attributes["class"] == "chosen" })
    }

    @Test func thousandsOfChannelsAreAggregatedAndTheSizeIsBounded() throws {
        let weight = Tensor(shape: [1280, 8, 1, 1], floats: (0..<(1280 * 8)).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 })
        let statistics = RangeStatistics(name: "wide", weight: weight, axis: 0)
        let svg = ChannelRangesPlot.render(ChannelRangesFigure(current: statistics, versus: statistics, versusName: "before", sorted: false))
        let elements = try Self.parse(svg)
        #expect(elements.values("channel-ranges", "rect").count == 2 * 256)
        #expect(svg.utf8.count < 200_000)
        #expect(elements.titles.contains { $0.hasPrefix("channels 0-4: min ") })
    }

    /// What a user typed or a model named reaches the page escaped, as numeric references only.
    @Test(arguments: [
        ("a & b", "a &#38; b"), ("<tag attr=\"x\">", "&#60;tag attr=&#34;x&#34;&#62;"), ("it's", "it&#39;s"),
        ("caf\u{E9} \u{2026}", "caf&#233; &#8230;"), ("bell\u{7}", "bell&#65533;"), ("tab\tnew\nline", "tab\tnew\nline"),
        ("\u{1F600}", "&#128512;"),
    ])
    func markupEscapes(input: String, expected: String) {
        #expect(Markup.escape(input) == expected)
    }

    @Test func failedAndOddCellsStillGiveAWellFormedPage() throws {
        let folder = try temporaryFolder("ptq-report")
        let (interpreter, text) = runShell(["load models/mnist_mobilenet_skewed.onnx", "ranges \"<&\u{7}caf\u{E9}]]>\""], succeeds: false)
        #expect(text.contains("error: "))
        try? FileManager.default.removeItem(atPath: "\(folder)/page.html")
        #expect(interpreter.execute("report \(folder)/page.html") == .success)
        let page = try String(contentsOfFile: "\(folder)/page.html", encoding: .utf8)
        _ = try Self.parse(page)
        #expect(page.contains("class=\"cell failed\""))
        // An existing page is kept unless --force.
        #expect(interpreter.execute("report \(folder)/page.html") == .failure)
        #expect(interpreter.execute("report \(folder)/page.html --force") == .success)
        #expect(interpreter.execute("evals") == .success)
        #expect(interpreter.session.cells.last?.output.hasPrefix("no evals yet") == true)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/release/ptq").path

    /// `ptq run FILE --report OUT` writes the page the session itself would, and keeps an existing one unless --force.
    /// It runs the release binary, which scripts/test builds; a debug-only `swift test` skips it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: ReportTests.binary), "needs .build/release/ptq (swift build -c release)"))
    func runWritesTheSamePageAsTheSession() throws {
        let (root, binary) = (Self.root, Self.binary)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-run-report-\(getpid()).html").path
        try? FileManager.default.removeItem(atPath: output)
        let script = root.appendingPathComponent("tutorials/01-first-session.ptq").path
        func run(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try run(["run", script, "--report", output]) == 0)
        let written = try String(contentsOfFile: output, encoding: .utf8)
        let interpreter = Interpreter(session: Session(baseDirectory: root.appendingPathComponent("tutorials").path), write: { _ in }, writeError: { _ in })
        let lines = try String(contentsOfFile: script, encoding: .utf8).components(separatedBy: "\n").filter { !$0.isEmpty }
        #expect(interpreter.runLines(lines, file: script, keepGoing: false).succeeded)
        #expect(written == HTMLReport.page(session: interpreter.session))
        _ = try Self.parse(written)
        #expect(try run(["run", script, "--report", output]) == 2)
        #expect(try run(["run", script, "--report", output, "--force"]) == 0)
        #expect(try run(["run", script, "--report", output, "--transcript", output, "--force"]) == 2)
    }

    /// Plots of awkward numbers still parse, put infinities at the axis' ends and write no non-finite coordinate.
    @Test(arguments: [
        Figure.bars(BarsFigure(title: "sqnr", unit: "dB", rows: [.init(label: "same", value: .infinity, detail: "Conv"),
                                                                   .init(label: "zero", value: -.infinity, detail: "Relu"),
                                                                   .init(label: "bad", value: -3, detail: "Add")])),
        Figure.bars(BarsFigure(title: "none", unit: "dB", rows: [])),
        Figure.spreads([LayerSpread(layer: "a", spread: 1, outliers: 0, dead: 0), LayerSpread(layer: "b", spread: 1, outliers: 0, dead: 2)]),
        Figure.spreads([]),
        Figure.intervals([NamedInterval(name: "x", minimum: 0, maximum: 0, detail: "")]),
        Figure.accuracyVersusCost(AccuracyVersusCostFigure(points: [], chosen: nil, fp32: 0.9, targetDrop: 0.01)),
        Figure.accuracyLadder([EvaluationRecord(cell: 1, model: "m.onnx", state: "loaded", quantization: "FP32", reference: "loaded",
                                                samples: 4, top1: nil, top5: nil, fp32Top1: nil, deltaTop1: nil, sqnr: .infinity)]),
        Figure.channelRanges(ChannelRangesFigure(current: RangeStatistics(name: "one", weight: Tensor(shape: [1, 3], floats: [0.5, 0.5, 0.5]), axis: 0),
                                                 versus: nil, versusName: nil, sorted: true)),
        Figure.channelRanges(ChannelRangesFigure(current: RangeStatistics(name: "dead", weight: Tensor(shape: [4, 2], floats: [Float](repeating: 0, count: 8)), axis: 0),
                                                 versus: RangeStatistics(name: "dead", weight: Tensor(shape: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 900]), axis: 0),
                                                 versusName: "before", sorted: false)),
    ])
    func awkwardValuesGiveWellFormedPlots(_ figure: Figure) throws {
        let svg = FigurePlots.render(figure)
        let elements = try Self.parse(svg)
        for (_, attributes) in elements.all {
            for key in ["x", "y", "width", "height", "cx", "cy", "x1", "x2", "y1", "y2"] {
                if let value = attributes[key] { #expect(Double(value)?.isFinite == true, "\(key)=\(value) in \(svg.prefix(200))") }
            }
        }
        if case .bars = figure, let infinite = elements.all.first(where: { $0.attributes["data-value"] == "inf" }) {
            let ends = elements.all.compactMap { element -> Double? in
                guard element.name == "rect", element.attributes["data-value"] != nil, let x = Double(element.attributes["x"] ?? ""),
                      let width = Double(element.attributes["width"] ?? "") else { return nil }
                return x + width
            }
            // The best SQNR reaches furthest right, past every finite bar.
            #expect(Double(infinite.attributes["x"]!)! + Double(infinite.attributes["width"]!)! == ends.max())
        }
    }

    func expectClose(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(actual.count) plotted, \(expected.count) expected", sourceLocation: sourceLocation)
        for (a, e) in zip(actual, expected) {
            #expect(abs(a - e) <= 1e-5 * max(1, abs(e)), "plotted \(a), expected \(e)", sourceLocation: sourceLocation)
        }
    }
}
