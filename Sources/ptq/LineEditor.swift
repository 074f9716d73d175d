@preconcurrency import CLibEdit
import Foundation
import PTQShell

/// Reads one line at a prompt. Returns nil at end of input; `.interrupted` after Ctrl-C.
enum LineResult { case line(String), interrupted, endOfInput }

protocol LineEditor {
    func readLine(prompt: String) -> LineResult
    func addHistory(_ line: String)
    func close()
}

/// Ctrl-C bumps this counter; readline() then returns and long commands poll it to cancel.
nonisolated(unsafe) var interruptCount: sig_atomic_t = 0

func installInterruptHandler() {
    var action = sigaction()
    #if os(Linux)
    action.__sigaction_handler.sa_handler = { _ in interruptCount += 1 }
    #else
    action.__sigaction_u.__sa_handler = { _ in interruptCount += 1 }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0  // no SA_RESTART: readline() must return on Ctrl-C
    sigaction(SIGINT, &action, nil)
}

/// Completion candidates, computed by the shell from the current line.
nonisolated(unsafe) var completionProvider: ((String, String) -> [String])? = nil
nonisolated(unsafe) var pendingCompletions: [String] = []

/// libedit through its readline-compatible API: editing, persistent history, tab completion.
final class LibEditLineEditor: LineEditor {
    let historyPath: String

    init(historyPath: String) {
        self.historyPath = historyPath
        if setlocale(LC_CTYPE, "") == nil || !(String(cString: nl_langinfo(nl_item(CODESET))).uppercased().contains("UTF")) {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        using_history()
        stifle_history(2000)
        try? FileManager.default.createDirectory(atPath: (historyPath as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        read_history(historyPath)
        rl_attempted_completion_function = { text, start, _ in
            guard let text else { return nil }
            let word = String(cString: text)
            let line = rl_line_buffer.map { String(cString: $0) } ?? ""
            let prefix = String(line.utf8.prefix(Int(start))) ?? ""
            pendingCompletions = completionProvider?(prefix, word) ?? []
            rl_attempted_completion_over = 1
            // A folder completes with its "/" and no space, so the next Tab goes inside it.
            rl_completion_append_character = pendingCompletions.count == 1 && pendingCompletions[0].hasSuffix("/") ? 0 : 32
            return rl_completion_matches(text) { _, state in
                if state == 0 { completionIndex = 0 }
                guard completionIndex < pendingCompletions.count else { return nil }
                defer { completionIndex += 1 }
                return strdup(pendingCompletions[completionIndex])
            }
        }
    }

    func readLine(prompt: String) -> LineResult {
        let before = interruptCount
        guard let raw = CLibEdit.readline(prompt) else {
            return interruptCount != before ? .interrupted : .endOfInput
        }
        defer { free(raw) }
        if interruptCount != before { return .interrupted }
        return .line(String(cString: raw))
    }

    func addHistory(_ line: String) {
        add_history(line)
        write_history(historyPath)
    }

    func close() { write_history(historyPath) }
}

nonisolated(unsafe) var completionIndex = 0

/// Plain stdin reading, for pipes and terminals without libedit's help.
final class PlainLineEditor: LineEditor {
    func readLine(prompt: String) -> LineResult {
        if !prompt.isEmpty { FileHandle.standardOutput.write(Data(prompt.utf8)) }
        guard let line = Swift.readLine(strippingNewline: true) else { return .endOfInput }
        return .line(line)
    }
    func addHistory(_ line: String) {}
    func close() {}
}

func defaultHistoryPath() -> String {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["PTQ_HISTORY"], !path.isEmpty { return path }
    if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/ptq/history" }
    return NSHomeDirectory() + "/.ptq_history"
}
