import Foundation
import Testing
import PTQShell

/// Golden transcripts: each Golden/NAME.ptq is replayed through the interpreter (as `ptq run
/// --keep-going --echo` would) and its output compared with Golden/NAME.expected.
/// Re-record on purpose with PTQ_RECORD=1.
@Suite struct GoldenTranscriptTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var scripts: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".ptq") }.map { String($0.dropLast(4)) }.sorted()
    }

    static func replay(_ scriptPath: String) -> String {
        var transcript = ""
        var session = Session(baseDirectory: (scriptPath as NSString).deletingLastPathComponent)
        session.settings.echo = true
        let interpreter = Interpreter(session: session, write: { transcript += $0 }, writeError: { transcript += $0 })
        let text = (try? String(contentsOfFile: scriptPath, encoding: .utf8)) ?? ""
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        _ = interpreter.runLines(lines, file: (scriptPath as NSString).lastPathComponent, keepGoing: true)
        return transcript
    }

    @Test(arguments: scripts)
    func transcriptMatches(_ name: String) throws {
        let script = Self.folder.appendingPathComponent("\(name).ptq").path
        let expectedPath = Self.folder.appendingPathComponent("\(name).expected").path
        let actual = Self.replay(script)
        if ProcessInfo.processInfo.environment["PTQ_RECORD"] == "1" {
            try actual.write(toFile: expectedPath, atomically: true, encoding: .utf8)
            return
        }
        let expected = (try? String(contentsOfFile: expectedPath, encoding: .utf8)) ?? "(no expected file: record with PTQ_RECORD=1)"
        #expect(actual == expected, "\(name): transcript differs\n\(LineDiff.render(expected: expected, actual: actual))")
    }
}

/// A small line diff for failure messages: the first differing lines with context.
enum LineDiff {
    static func render(expected: String, actual: String) -> String {
        let a = expected.components(separatedBy: "\n"), b = actual.components(separatedBy: "\n")
        guard let first = (0..<max(a.count, b.count)).first(where: { $0 >= a.count || $0 >= b.count || a[$0] != b[$0] }) else { return "" }
        var lines: [String] = []
        for index in max(0, first - 2)..<min(max(a.count, b.count), first + 6) {
            let left = index < a.count ? a[index] : "<end>", right = index < b.count ? b[index] : "<end>"
            lines.append(left == right ? "  \(left)" : "- \(left)\n+ \(right)")
        }
        return lines.joined(separator: "\n")
    }
}
