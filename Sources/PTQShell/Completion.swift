import Foundation

/// Tab-completion candidates for the word being typed, from the command table and session state.
/// Returns ["<file>"] when the argument is a file path (the line editor then completes file names).
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
        if let last = words.last, let option = spec.options.first(where: { $0.name == last }), option.valueName != nil {
            return option.isFile ? ["<file>"] : []
        }
        let positionalIndex = words.dropFirst().filter { !$0.hasPrefix("--") }.count
        guard positionalIndex < spec.arguments.count else { return [] }
        let session = interpreter.session
        let pool: [String]
        switch spec.arguments[positionalIndex].completion {
        case .file: return ["<file>"]
        case .command: pool = Commands.names + TechniqueCommands.registry.map(\.name)
        case .layer: pool = session.layerNames
        case .checkpoint: pool = session.checkpointOrder
        case .technique: pool = TechniqueCommands.registry.map(\.name)
        case .settingKey: pool = ["echo", "timing", "width"]
        case .none: pool = []
        }
        return pool.filter { $0.hasPrefix(word) }
    }
}
