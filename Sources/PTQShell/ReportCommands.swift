import Foundation
import PTQEngine

/// report and evals: the session as a page with plots, and its experiment log.
enum ReportCommands {
    static let report = CommandSpec(
        name: "report", arguments: [ArgumentSpec("FILE.html", isFile: true)],
        options: [OptionSpec("--force", help: "overwrite FILE.html if it exists")],
        summary: "write this session as one self-contained HTML page: every cell, its charts drawn as plots",
        discussion: """
        The page holds every cell's command and output as `transcript` writes them; where a cell printed a chart \
        (ranges, ranges --all, ranges --activations, sqnr, sensitivity, mixed-precision, evals) the page draws it \
        as an inline SVG plot instead, with each channel's or layer's numbers in its hover text, and it opens with \
        the accuracy ladder of every `eval`. No scripts, no network, no timestamps: the same session writes the \
        same bytes, and the markup parses as XML. `ptq run FILE.ptq --report OUT.html` writes it for a script.
        """,
        examples: ["report session.html", "report ../out/report.html --force"], isMeta: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        let page = HTMLReport.page(session: session)
        try writeAtomically(Data(page.utf8), to: path, overwrite: arguments.has("--force"))
        output.line("wrote \(HTMLReport.shownCells(session).count) cells and \(HTMLReport.plotCount(session)) plots to \(SessionCommands.displayPath(path, session)) "
                    + "(\(ReportFormat.number(Double(page.utf8.count) / 1024)) KiB)")
    }

    static let evals = CommandSpec(
        name: "evals", summary: "every eval of this session as one table: state, quantization, top-1, top-5, delta, SQNR",
        discussion: """
        One row per `eval`, in order: the cell it ran in; the state evaluated (the checkpoint the model equals, else \
        the cell whose command last changed it); the quantization configuration (FP32 when off); the samples; top-1 \
        and top-5 in percent, the top-1 delta in points against that eval's FP32 reference; the output SQNR against \
        it in dB. The experiment log, kept by the session rather than by hand; `report` draws it as a ladder.
        """,
        isMeta: true
    ) { session, _, output in
        guard !session.evaluations.isEmpty else {
            output.line("no evals yet: `eval` measures the current model and adds a row here")
            return
        }
        let percent = { (value: Double?) in value.map { Format.fixed($0, 2) + "%" } ?? "-" }
        let rows = session.evaluations.map { record -> [String] in
            ["[\(record.cell)]", record.state, record.quantization, "\(record.samples)", percent(record.top1), percent(record.top5),
             record.deltaTop1.map { Format.signed($0, 2) } ?? "-",
             record.sqnr.map { Format.fixed($0, 2) } ?? "-"]
        }
        // A model column only when the session loaded more than one.
        let models = Set(session.evaluations.map(\.model)).count > 1
        output.write(Table.render(headers: (models ? ["model"] : []) + ["cell", "state", "quantization", "samples", "top-1", "top-5", "delta", "SQNR dB"],
                                  rows: zip(session.evaluations, rows).map { (models ? [$0.model] : []) + $1 },
                                  rightAligned: Set((3...7).map { $0 + (models ? 1 : 0) })))
        let references = Array(Set(session.evaluations.map(\.reference))).sorted()
        output.line("\(session.evaluations.count) evals; delta and SQNR against FP32 (\(references.joined(separator: ", ")))")
        if HTMLReport.hasLadder(session) { output.chart("", .accuracyLadder(session.evaluations)) }
    }

    /// The record `eval` keeps: which state it measured, under which quantization.
    static func record(_ session: Session, graph: Graph, configuration: QuantizationConfiguration?, reference: String,
                       metrics: [String: Double?]) -> EvaluationRecord {
        let state = session.checkpointOrder.first { session.checkpoints[$0] == graph } ?? session.stateOrigin.map { "after " + $0 } ?? "current"
        let value = { (key: String) in metrics[key] ?? nil }
        return EvaluationRecord(cell: session.cells.count + 1, model: Transcript.modelName(session), state: state, quantization: configuration.map(shortSummary) ?? "FP32",
                                reference: reference, samples: Int(value("samples") ?? 0), top1: value("top1"), top5: value("top5"),
                                fp32Top1: value("fp32.top1"), deltaTop1: value("delta.top1"), sqnr: value("sqnr"))
    }

    /// "W8A8 per-channel minmax", with mixed precision and exclusions counted: a table cell, not the full summary.
    static func shortSummary(_ configuration: QuantizationConfiguration) -> String {
        "W\(configuration.weightBits)A\(configuration.activationBits) \(configuration.perChannel ? "per-channel" : "per-tensor") \(configuration.scheme)"
            + (configuration.layerPrecisions.isEmpty ? "" : " mixed")
            + (configuration.excludedLayers.isEmpty ? "" : " (\(configuration.excludedLayers.count) in float)")
    }
}
