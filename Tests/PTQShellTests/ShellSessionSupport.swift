import Foundation
import Testing
import PTQShell

/// Runs `lines` in a new session rooted at the repository (so `models/...` paths resolve) and returns the interpreter and
/// everything it wrote; records an issue when the run's success is not `succeeds`.
func runShell(_ lines: [String], succeeds: Bool = true) -> (Interpreter, String) {
    final class Box: @unchecked Sendable { var text = "" }
    let box = Box()
    let interpreter = Interpreter(session: Session(baseDirectory: BundledModelTests.root.path), write: { box.text += $0 },
                                  writeError: { box.text += $0 })
    let result = interpreter.runLines(lines, file: nil, keepGoing: false)
    #expect(result.succeeded == succeeds, "\(box.text)")
    return (interpreter, box.text)
}

/// A folder for one test's files under the system's temporary folder, created if missing (`name` and the process id).
func temporaryFolder(_ name: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}
