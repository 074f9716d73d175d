/// One option of a command: a flag (no value) or `--key VALUE`.
public struct OptionSpec: Sendable {
    public var name: String
    public var valueName: String?
    public var help: String
    /// Values that are file paths: resolved against the script's folder, rewritten by `save`.
    public var isFile: Bool
    public init(_ name: String, value: String? = nil, help: String, isFile: Bool = false) {
        self.name = name
        self.valueName = value
        self.help = help
        self.isFile = isFile
    }
}

/// A positional argument of a command.
public struct ArgumentSpec: Sendable {
    public var name: String
    public var isOptional: Bool
    public var isFile: Bool
    public var completion: CompletionKind
    public init(_ name: String, optional: Bool = false, isFile: Bool = false, completion: CompletionKind = .none) {
        self.name = name
        self.isOptional = optional
        self.isFile = isFile
        self.completion = isFile ? .file : completion
    }
}

/// What tab completion offers for an argument.
public enum CompletionKind: Sendable {
    case none, file, command, layer, checkpoint, technique, settingKey
}

/// A command of the ptq language: declared once; help, completion, the docs' reference and
/// argument parsing are all generated from it.
public struct CommandSpec: Sendable {
    public var name: String
    public var aliases: [String] = []
    public var arguments: [ArgumentSpec] = []
    public var options: [OptionSpec] = []
    public var summary: String
    public var discussion: String = ""
    public var examples: [String] = []
    /// Commands that change the model or session data: recorded for `undo` and `save`.
    public var changesState: Bool = false
    /// Whether the interpreter keeps the state before this command for `undo` (off for `undo` itself,
    /// which would otherwise push back the state it just stepped away from).
    public var recordsUndo: Bool = true
    /// Commands left out of saved scripts (they describe or write the session, not build it).
    public var isMeta: Bool = false
    public var handler: @Sendable (inout Session, Arguments, inout Output) throws -> Void

    public var usage: String {
        var parts = [name]
        parts += arguments.map { $0.isOptional ? "[\($0.name)]" : $0.name }
        parts += options.map { "[\($0.name)\($0.valueName.map { " \($0)" } ?? "")]" }
        return parts.joined(separator: " ")
    }

    /// Parses words after the command name against this spec.
    public func parse(_ words: [String]) throws -> Arguments {
        var arguments = Arguments()
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") && word.count > 2 && Double(word) == nil {
                guard let option = options.first(where: { $0.name == word }) else {
                    throw ShellError.unknownOption(command: name, option: word, suggestion: nearest(word, in: options.map(\.name)))
                }
                if let valueName = option.valueName {
                    guard index + 1 < words.count else {
                        throw ShellError.missingValue(command: name, option: word, expected: valueName)
                    }
                    arguments.values[word] = words[index + 1]
                    index += 1
                } else {
                    arguments.flags.insert(word)
                }
            } else {
                arguments.positionals.append(word)
            }
            index += 1
        }
        let required = self.arguments.filter { !$0.isOptional }.count
        if arguments.positionals.count < required {
            throw ShellError.missingArgument(command: name, usage: usage)
        }
        if arguments.positionals.count > self.arguments.count {
            throw ShellError.extraArgument(command: name, argument: arguments.positionals[self.arguments.count], usage: usage)
        }
        return arguments
    }

    /// `help COMMAND`'s text.
    public var helpText: String {
        var lines = ["usage: \(usage)", "", summary]
        if !aliases.isEmpty { lines.append("aliases: \(aliases.joined(separator: ", "))") }
        if !discussion.isEmpty { lines += ["", discussion] }
        if !options.isEmpty {
            lines += ["", "options:"]
            let width = options.map { $0.name.count + ($0.valueName.map { $0.count + 1 } ?? 0) }.max() ?? 0
            for option in options {
                let left = option.name + (option.valueName.map { " \($0)" } ?? "")
                lines.append("  " + left.padding(to: width) + "  " + option.help)
            }
        }
        if !examples.isEmpty { lines += ["", "examples:"] + examples.map { "  \($0)" } }
        return lines.joined(separator: "\n")
    }
}

/// Parsed arguments of one command.
public struct Arguments: Sendable {
    public var positionals: [String] = []
    public var values: [String: String] = [:]
    public var flags: Set<String> = []

    public func has(_ flag: String) -> Bool { flags.contains(flag) }
    public subscript(option: String) -> String? { values[option] }
    public func positional(_ index: Int) -> String? { index < positionals.count ? positionals[index] : nil }

    public func integer(_ option: String, command: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = values[option] else { return nil }
        guard let value = Int(text), range.map({ $0.contains(value) }) ?? true else {
            throw ShellError.badValue(command: command, option: option, value: text,
                                      expected: range.map { "an integer in \($0.lowerBound)...\($0.upperBound)" } ?? "an integer")
        }
        return value
    }

    public func number(_ option: String, command: String) throws -> Double? {
        guard let text = values[option] else { return nil }
        guard let value = Double(text) else {
            throw ShellError.badValue(command: command, option: option, value: text, expected: "a number")
        }
        return value
    }
}

