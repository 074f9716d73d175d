import Foundation
import PTQShell

// The ptq executable: argv, TTY detection and the line editor. Everything else lives in PTQShell.

let version = "ptq 0.1.0"
let usage = """
usage: ptq                                  interactive shell (reads a script from stdin when it is not a terminal)
       ptq run FILE.ptq [--keep-going] [--transcript OUT.md] [--report OUT.html] [--force] [--echo]
       ptq -c 'CMD; CMD; ...' [--keep-going] [--echo]
       ptq --help | --version | --reference
options: --width N   output width (default: the terminal's, else 100)

"""

/// The progress line on the terminal's stderr (nil when stderr is not a terminal). Whatever else is written clears it
/// first, so output, errors and Ctrl-C's message start on a clean line.
let progressBar: ProgressBar? = isatty(STDERR_FILENO) != 0
    ? ProgressBar { FileHandle.standardError.write(Data($0.utf8)) } : nil

func writeOut(_ text: String) {
    progressBar?.clear()
    FileHandle.standardOutput.write(Data(text.utf8))
}

func writeErr(_ text: String) {
    progressBar?.clear()
    FileHandle.standardError.write(Data(text.utf8))
}

func usageError(_ message: String) -> Never {
    writeErr("ptq: \(message)\n\(usage)")
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var width: Int? = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
if let index = arguments.firstIndex(of: "--width") {
    guard index + 1 < arguments.count, let value = Int(arguments[index + 1]), (40...400).contains(value) else {
        usageError("--width needs an integer in 40...400")
    }
    width = value
    arguments.removeSubrange(index...(index + 1))
}
let isTerminal = isatty(STDIN_FILENO) != 0
if width == nil && isatty(STDOUT_FILENO) != 0 {
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col >= 40 { width = Int(size.ws_col) }
}

@MainActor func makeInterpreter(echo: Bool = false) -> Interpreter {
    var session = Session()
    if let width { session.settings.width = min(max(width, 40), 400) }
    session.settings.echo = echo
    session.isCancelled = { interruptCount > 0 }
    if let progressBar {
        // Long work shows a bar on the terminal's stderr: never in transcripts or piped output.
        let columns = session.settings.width
        session.progress = { label, done, total in progressBar.update(label, done: done, total: total, width: columns) }
    }
    return Interpreter(session: session, write: writeOut, writeError: writeErr)
}

switch arguments.first {
case "--help", "-h":
    writeOut(usage)
    exit(0)
case "--version":
    writeOut(version + "\n")
    exit(0)
case "--reference":
    writeOut(Commands.markdownReference)
    exit(0)
case "-c":
    guard arguments.count >= 2 else { usageError("-c takes one argument: the commands") }
    var keepGoing = false, echo = false
    for option in arguments.dropFirst(2) {
        switch option {
        case "--keep-going": keepGoing = true
        case "--echo": echo = true
        default: usageError("unexpected argument '\(option)' after -c's commands")
        }
    }
    let interpreter = makeInterpreter(echo: echo)
    if isTerminal { installInterruptHandler() }  // Ctrl-C cancels the running command and stops, with a clean message
    let result = interpreter.runLines(Lexer.splitCommands(arguments[1]), file: nil, keepGoing: keepGoing)
    exit(result.succeeded ? 0 : 1)
case "run":
    var keepGoing = false, echo = false, force = false
    var transcriptPath: String?, reportPath: String?
    var scriptPath: String?
    var index = 1
    while index < arguments.count {
        switch arguments[index] {
        case "--keep-going": keepGoing = true
        case "--echo": echo = true
        case "--force": force = true
        case "--transcript":
            guard index + 1 < arguments.count else { usageError("--transcript needs a file") }
            transcriptPath = arguments[index + 1]
            index += 1
        case "--report":
            guard index + 1 < arguments.count else { usageError("--report needs a file (OUT.html)") }
            reportPath = arguments[index + 1]
            index += 1
        default:
            if arguments[index].hasPrefix("-") || scriptPath != nil { usageError("unexpected argument '\(arguments[index])'") }
            scriptPath = arguments[index]
        }
        index += 1
    }
    guard let scriptPath else { usageError("run needs a script file") }
    if let transcriptPath, let reportPath, URL(fileURLWithPath: transcriptPath).standardizedFileURL == URL(fileURLWithPath: reportPath).standardizedFileURL {
        usageError("--transcript and --report name the same file (\(reportPath)); give each its own")
    }
    for path in [transcriptPath, reportPath].compactMap({ $0 }) where !force && FileManager.default.fileExists(atPath: path) {
        writeErr("ptq: \(path) exists; add --force to overwrite it\n")
        exit(2)
    }
    guard let text = try? String(contentsOfFile: scriptPath, encoding: .utf8) else {
        writeErr("ptq: cannot read script \(scriptPath)\n")
        exit(2)
    }
    let interpreter = makeInterpreter(echo: echo)
    if isTerminal { installInterruptHandler() }
    let scriptURL = URL(fileURLWithPath: scriptPath)
    interpreter.session.baseDirectory = scriptURL.deletingLastPathComponent().standardizedFileURL.path
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    let result = interpreter.runLines(lines, file: scriptPath, keepGoing: keepGoing)
    let outputs: [(path: String?, kind: String, contents: (Session) -> String)] = [
        (transcriptPath, "transcript", { Transcript.markdown(session: $0) }), (reportPath, "report", { HTMLReport.page(session: $0) }),
    ]
    for (path, kind, contents) in outputs {
        guard let path else { continue }
        do {
            // Without --force, a file the script itself wrote meanwhile is kept too.
            try writeAtomicallyForCLI(Data(contents(interpreter.session).utf8), to: path, overwrite: force)
        } catch {
            writeErr("ptq: cannot write \(kind) \(path): \(error)\n")
            exit(1)
        }
    }
    exit(result.succeeded ? 0 : 1)
case nil:
    let interpreter = makeInterpreter()
    if !isTerminal {
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) { lines.append(line) }
        let result = interpreter.runLines(lines, file: nil, keepGoing: false)
        exit(result.succeeded ? 0 : 1)
    }
    exit(Repl(interpreter: interpreter).run())
default:
    usageError("unknown argument '\(arguments[0])'")
}
