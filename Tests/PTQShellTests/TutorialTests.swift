import Foundation
import Testing
import PTQShell

/// Every lesson in tutorials/ is replayed: NAME.ptq runs (with echo, as `ptq run --echo`) and its
/// transcript must equal the ```session block in NAME.md. Re-record on purpose with PTQ_RECORD=1,
/// which rewrites that block. A failing `expect` in a lesson fails the test too.
@Suite struct TutorialTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tutorials")

    static var allLessons: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".ptq") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// A lesson on a real pretrained model names what it needs in a `# needs PATH... (how to fetch them)` line: the
    /// model and data are fetched by a script, not committed, so that lesson replays only where they have been.
    static func requirements(_ name: String) -> [String] {
        let script = (try? String(contentsOfFile: folder.appendingPathComponent("\(name).ptq").path, encoding: .utf8)) ?? ""
        guard let line = script.components(separatedBy: "\n").first(where: { $0.hasPrefix("# needs ") }) else { return [] }
        return line.dropFirst("# needs ".count).split(separator: " ").prefix { !$0.hasPrefix("(") }.map(String.init)
    }

    static var lessons: [String] { allLessons.filter { requirements($0).isEmpty } }
    static var realModelLessons: [String] { allLessons.filter { !requirements($0).isEmpty } }
    static var realModelsPresent: Bool {
        realModelLessons.flatMap(requirements).allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    @Test(.enabled(if: TutorialTests.realModelsPresent,
                   "skipped: the real pretrained model or photographs a lesson needs are absent; run scripts/fetch-lesson-data, then test again"),
          arguments: realModelLessons)
    func realModelLessonReplays(_ name: String) throws { try lessonReplays(name) }

    static let open = "```session\n", close = "```\n"

    @Test(arguments: lessons)
    func lessonReplays(_ name: String) throws {
        let script = Self.folder.appendingPathComponent("\(name).ptq").path
        let markdownPath = Self.folder.appendingPathComponent("\(name).md").path
        var transcript = ""
        var session = Session(baseDirectory: Self.folder.path)
        session.settings.echo = true
        let interpreter = Interpreter(session: session, write: { transcript += $0 }, writeError: { transcript += $0 })
        var lines = try String(contentsOfFile: script, encoding: .utf8).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let result = interpreter.runLines(lines, file: "\(name).ptq", keepGoing: false)
        #expect(result.succeeded, "\(name).ptq stopped:\n\(transcript.suffix(600))")
        let markdown = try String(contentsOfFile: markdownPath, encoding: .utf8)
        guard let start = markdown.range(of: Self.open),
              let end = markdown.range(of: "\n" + Self.close, range: start.upperBound..<markdown.endIndex) else {
            Issue.record("\(name).md has no ```session block")
            return
        }
        let shown = String(markdown[start.upperBound..<end.lowerBound]) + "\n"
        if ProcessInfo.processInfo.environment["PTQ_RECORD"] == "1" {
            try (String(markdown[..<start.upperBound]) + transcript + Self.close + String(markdown[end.upperBound...]))
                .write(toFile: markdownPath, atomically: true, encoding: .utf8)
            return
        }
        #expect(shown == transcript, "\(name).md shows a different session than \(name).ptq prints\n\(LineDiff.render(expected: shown, actual: transcript))")
    }
}
