import Foundation
import PTQEngine
import PTQShell

/// The interactive loop, as a few named steps: read a (possibly continued) line, run it, repeat.
struct Repl {
    let interpreter: Interpreter

    func run() -> Int32 {
        installInterruptHandler()
        let editor: LineEditor = LibEditLineEditor(historyPath: defaultHistoryPath())
        completionProvider = { prefix, word in Completion.candidates(interpreter: interpreter, linePrefix: prefix, word: word) }
        writeOut("\(version) — type `help` for commands, Ctrl-D to leave\n")
        defer { editor.close() }
        while true {
            guard let line = readCommand(editor) else { writeOut("\n"); return 0 }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            editor.addHistory(line)
            interruptCount = 0
            // While the command runs, keys typed ahead are not echoed (they would land inside the progress bar);
            // they stay queued and the line editor shows them at the next prompt.
            let echo = TerminalEcho.pause()
            let outcome = interpreter.execute(line)
            echo.resume()
            if outcome == .quit { return 0 }
            if interruptCount > 0 { interruptCount = 0 }
        }
    }

    /// Reads one command, joining `\` continuations. Ctrl-C clears the line; nil means Ctrl-D.
    private func readCommand(_ editor: LineEditor) -> String? {
        var pending = ""
        while true {
            let prompt = pending.isEmpty ? interpreter.prompt : "...> "
            switch editor.readLine(prompt: prompt) {
            case .endOfInput: return pending.isEmpty ? nil : pending
            case .interrupted:
                interruptCount = 0
                writeOut("^C\n")
                pending = ""
            case .line(let line):
                if line.hasSuffix("\\") {
                    pending += String(line.dropLast()) + " "
                } else {
                    return pending + line
                }
            }
        }
    }
}

/// Writes a file through a temporary beside it, then renames it into place.
func writeAtomicallyForCLI(_ data: Data, to path: String, overwrite: Bool) throws {
    try writeAtomically(data, to: path, overwrite: overwrite)
}

/// The terminal's echo turned off for a while, and back on as it was.
struct TerminalEcho {
    private let saved: termios?

    static func pause() -> TerminalEcho {
        var settings = termios()
        guard isatty(STDIN_FILENO) != 0, tcgetattr(STDIN_FILENO, &settings) == 0 else { return TerminalEcho(saved: nil) }
        var quiet = settings
        quiet.c_lflag &= ~tcflag_t(ECHO)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        return TerminalEcho(saved: settings)
    }

    func resume() {
        guard var settings = saved else { return }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}
