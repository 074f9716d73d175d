import Foundation
import PTQEngine

/// help, history, save, transcript: commands about the session itself.
enum NotebookCommands {
    static let all: [CommandSpec] = [help, history, save, transcript, ReportCommands.report]

    static let help = CommandSpec(
        name: "help", arguments: [ArgumentSpec("COMMAND", optional: true, completion: .command)],
        summary: "list the commands, or describe one", isMeta: true
    ) { _, arguments, output in
        guard let name = arguments.positional(0) else {
            output.line(Commands.overview)
            return
        }
        if let technique = TechniqueCommands.technique(named: name) {
            output.line(technique.specification)
            return
        }
        guard let spec = Commands.table.first(where: { $0.name == name || $0.aliases.contains(name) }) else {
            throw ShellError.unknownCommand(name, suggestion: nearest(name, in: Commands.names + TechniqueCommands.registry.map(\.name)))
        }
        output.line(spec.helpText)
    }

    static let history = CommandSpec(
        name: "history", summary: "list this session's cells and whether each succeeded", isMeta: true
    ) { session, _, output in
        for cell in session.cells {
            output.line("[\(cell.number)]\(cell.succeeded ? " " : "!") \(cell.text)")
        }
    }

    static let save = CommandSpec(
        name: "save", arguments: [ArgumentSpec("FILE.ptq", isFile: true)],
        options: [OptionSpec("--force", help: "overwrite FILE.ptq if it exists")],
        summary: "write the commands that built this state as a replayable script",
        discussion: "Failed commands and meta commands (help, history, save, transcript) are left out; file paths are rewritten relative to FILE.ptq so the script replays from any folder. A command that wrote a file is saved with --force: the file is the session's own output, so the script replays twice.",
        isMeta: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        let folder = (path as NSString).deletingLastPathComponent
        var lines = ["# ptq script saved from a session"]
        for cell in session.cells where cell.succeeded && !cell.isMeta {
            guard let spec = Commands.table.first(where: { $0.name == cell.words.first }) else { continue }
            var words = cell.words
            // The session wrote this file itself: replaying the script must be allowed to write it again.
            if spec.options.contains(where: { $0.name == "--force" }) && !words.contains("--force") { words.append("--force") }
            lines.append(scriptLine(spec: spec, words: words, relativeTo: folder))
        }
        try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: path, overwrite: arguments.has("--force"))
        output.line("saved \(lines.count - 1) commands to \(SessionCommands.displayPath(path, session))")
    }

    static let transcript = CommandSpec(
        name: "transcript", arguments: [ArgumentSpec("FILE.md", isFile: true)],
        options: [OptionSpec("--force", help: "overwrite FILE.md if it exists")],
        summary: "write this session as a markdown notebook: every cell's command and output", isMeta: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        try writeAtomically(Data(Transcript.markdown(session: session).utf8), to: path, overwrite: arguments.has("--force"))
        output.line("wrote \(session.cells.count) cells to \(SessionCommands.displayPath(path, session))")
    }

    /// A recorded command as a script line, with its file arguments relative to `folder`.
    static func scriptLine(spec: CommandSpec, words: [String], relativeTo folder: String) -> String {
        var result = [spec.name]
        var index = 1
        var positional = 0
        while index < words.count {
            let word = words[index]
            if let option = spec.options.first(where: { $0.name == word }) {
                result.append(word)
                if option.valueName != nil, index + 1 < words.count {
                    let value = words[index + 1]
                    result.append(quote(option.isFile ? relativePath(value, from: folder) : value))
                    index += 1
                }
            } else {
                let isFile = positional < spec.arguments.count && spec.arguments[positional].isFile
                result.append(quote(isFile ? relativePath(word, from: folder) : word))
                positional += 1
            }
            index += 1
        }
        return result.joined(separator: " ")
    }

    static func quote(_ word: String) -> String {
        let special = word.isEmpty || word.contains { " \t\"'#;\\".contains($0) }
        guard special else { return word }
        return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `path` relative to `folder` (both absolute), with ../ where needed.
    static func relativePath(_ path: String, from folder: String) -> String {
        let target = path.split(separator: "/").map(String.init)
        let base = folder.split(separator: "/").map(String.init)
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let ups = [String](repeating: "..", count: base.count - common)
        let parts = ups + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}

/// The markdown notebook `transcript` writes and `ptq run --transcript` produces.
public enum Transcript {
    public static func markdown(session: Session) -> String {
        var text = "# ptq session\n\n"
        text += "- model: \(modelName(session))\n"
        text += "- data: \(dataNames(session))\n"
        for cell in session.cells where !(cell.words.first == "transcript") {
            text += "\n## [\(cell.number)] `\(cell.text)`\n\n"
            if !cell.output.isEmpty { text += "```\n\(cell.output)```\n" }
        }
        return text
    }

    /// The loaded model's file name, or "none".
    static func modelName(_ session: Session) -> String {
        session.modelPath.map { ($0 as NSString).lastPathComponent } ?? "none"
    }

    /// The attached data files' names, sorted, or "none".
    static func dataNames(_ session: Session) -> String {
        let names = [session.calibrationData, session.evaluationData].compactMap { $0 }.map { ($0.path as NSString).lastPathComponent }
        return names.isEmpty ? "none" : Array(Set(names)).sorted().joined(separator: ", ")
    }
}
