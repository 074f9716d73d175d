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

    /// A lesson on a real pretrained model names it in a `# needs PATH` line: the model is fetched by a script,
    /// not committed, so that lesson replays only where it has been fetched.
    static func requirement(_ name: String) -> String? {
        let script = (try? String(contentsOfFile: folder.appendingPathComponent("\(name).ptq").path, encoding: .utf8)) ?? ""
        return script.components(separatedBy: "\n").first { $0.hasPrefix("# needs ") }
            .map { String($0.dropFirst("# needs ".count).split(separator: " ")[0]) }
    }

    static var lessons: [String] { allLessons.filter { requirement($0) == nil } }
    static var realModelLessons: [String] { allLessons.filter { requirement($0) != nil } }
    static var realModelsPresent: Bool {
        realModelLessons.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent(requirement($0)!).path) }
    }

    @Test(.enabled(if: TutorialTests.realModelsPresent,
                   "the real pretrained model a lesson needs is absent: run scripts/recipe-check to fetch it, then test again"),
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
