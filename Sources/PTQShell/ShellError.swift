import PTQEngine

/// Every error a command can raise, rendered in one place (`message`). None ends the session.
public enum ShellError: Error, Equatable {
    case syntax(String)
    case unknownCommand(String, suggestion: String?)
    case unknownOption(command: String, option: String, suggestion: String?)
    case missingValue(command: String, option: String, expected: String)
    case badValue(command: String, option: String, value: String, expected: String)
    case missingArgument(command: String, usage: String)
    case extraArgument(command: String, argument: String, usage: String)
    case noModel(command: String)
    case noData(command: String, purpose: String)
    case unknownLayer(String, suggestion: String?)
    case unknownCheckpoint(String, available: [String])
    case expectationFailed(String)
    case engine(PTQError)
    case other(String)

    public var message: String {
        switch self {
        case .syntax(let text): return "syntax error: \(text)"
        case .unknownCommand(let name, let suggestion):
            return "unknown command '\(name)'" + didYouMean(suggestion) + "; `help` lists the commands"
        case .unknownOption(let command, let option, let suggestion):
            return "\(command): unknown option '\(option)'" + didYouMean(suggestion) + "; see `help \(command)`"
        case .missingValue(let command, let option, let expected):
            return "\(command): option \(option) needs a value (\(expected))"
        case .badValue(let command, let option, let value, let expected):
            return "\(command): \(option) '\(value)' is not valid; expected \(expected)"
        case .missingArgument(let command, let usage):
            return "\(command): missing argument; usage: \(usage)"
        case .extraArgument(let command, let argument, let usage):
            return "\(command): unexpected argument '\(argument)'; usage: \(usage)"
        case .noModel(let command):
            return "\(command): no model loaded; use `load MODEL.onnx` first"
        case .noData(let command, let purpose):
            return "\(command): no \(purpose) data attached; use `data FILE.npy [--labels LABELS.npy]` first"
        case .unknownLayer(let name, let suggestion):
            return "no layer named '\(name)'" + didYouMean(suggestion) + "; `layers` lists them"
        case .unknownCheckpoint(let name, let available):
            return "no checkpoint named '\(name)'; checkpoints: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        case .expectationFailed(let text): return "expectation failed: \(text)"
        case .engine(let error): return error.description
        case .other(let text): return text
        }
    }

    private func didYouMean(_ suggestion: String?) -> String {
        suggestion.map { " (did you mean '\($0)'?)" } ?? ""
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a plausible typo.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}

func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous = Array(0...y.count)
    for i in 1...x.count {
        var current = [i] + [Int](repeating: 0, count: y.count)
        for j in 1...y.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[y.count]
}
