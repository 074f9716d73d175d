import Foundation

/// Tab-completion candidates for the word being typed, from the command table and session state.
/// File arguments complete to paths (resolved against the session's folder), folders with a
/// trailing `/` so the next Tab goes inside; option values complete from the choices their value
/// name lists (`--for calibration|evaluation|both`) and `--vs` from the checkpoints.
public enum Completion {
    public static func candidates(interpreter: Interpreter, linePrefix: String, word: String) -> [String] {
        let words = (try? Lexer.words(linePrefix)) ?? []
        guard let commandName = words.first else {
            return Commands.table.flatMap { [$0.name] + $0.aliases }.filter { $0.hasPrefix(word) }.sorted()
        }
        guard let spec = interpreter.command(named: commandName) else { return [] }
        if word.hasPrefix("-") {
            return spec.options.map(\.name).filter { $0.hasPrefix(word) }
        }
        if let last = words.last, let option = spec.options.first(where: { $0.name == last }), let valueName = option.valueName {
            if option.isFile { return files(word, base: interpreter.session.baseDirectory) }
            if option.name == "--vs" { return interpreter.session.checkpointOrder.filter { $0.hasPrefix(word) } }
            return choices(valueName).filter { $0.hasPrefix(word) }
        }
        let positionalIndex = words.dropFirst().filter { !$0.hasPrefix("--") }.count
        guard positionalIndex < spec.arguments.count else { return [] }
        let session = interpreter.session
        let pool: [String]
        switch spec.arguments[positionalIndex].completion {
        case .file: return files(word, base: session.baseDirectory)
        case .command: pool = Commands.names + TechniqueCommands.registry.map(\.name)
        case .layer: pool = session.layerNames
        case .checkpoint: pool = session.checkpointOrder
        case .technique: pool = TechniqueCommands.registry.map(\.name)
        case .settingKey: pool = ["echo", "timing", "width"]
        case .none: pool = []
        }
        return pool.filter { $0.hasPrefix(word) }
    }

    /// The literal choices of a value name like "empirical|analytical|hybrid" or "minmax|sqnr|percentile[:P]".
    static func choices(_ valueName: String) -> [String] {
        guard valueName.contains("|") else { return [] }
        return valueName.split(separator: "|").map { choice in
            String(choice.prefix { $0 != "[" && $0 != ":" })
        }.filter { !$0.isEmpty && $0.uppercased() != $0 }
    }

    /// Paths starting with `word`, folders ending in "/", sorted; hidden entries only when asked for.
    public static func files(_ word: String, base: String) -> [String] {
        let slash = word.lastIndex(of: "/")
        let folderPart = slash.map { String(word[...$0]) } ?? ""
        let namePart = slash.map { String(word[word.index(after: $0)...]) } ?? word
        let expanded = (folderPart as NSString).expandingTildeInPath
        let folder = folderPart.isEmpty ? base : (expanded.hasPrefix("/") ? expanded : (base as NSString).appendingPathComponent(expanded))
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.filter { $0.hasPrefix(namePart) && (namePart.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name), isDirectory: &isFolder)
            return folderPart + name + (isFolder.boolValue ? "/" : "")
        }
    }
}
