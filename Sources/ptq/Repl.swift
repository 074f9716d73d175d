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
            if interpreter.execute(line) == .quit { return 0 }
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
func writeAtomicallyForCLI(_ data: Data, to path: String) throws {
    try writeAtomically(data, to: path, overwrite: true)
}
