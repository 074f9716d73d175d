/// Every error the engine raises. Each message names the input, what was wrong and what was expected.
public enum PTQError: Error, Equatable, CustomStringConvertible, Sendable {
    case fileNotFound(path: String)
    case invalidModel(String)
    case unsupportedOperator(op: String, node: String, supported: [String])
    case invalidData(file: String, problem: String)
    case shapeMismatch(String)
    case execution(node: String, op: String, problem: String)
    case io(path: String, problem: String)
    /// A technique's option value out of range: the message names the technique, the option and what it takes.
    case invalidOption(String)
    case cancelled

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "no such file: \(path)"
        case .invalidModel(let message):
            return "invalid model: \(message)"
        case .unsupportedOperator(let op, let node, let supported):
            return "unsupported operator '\(op)' at node '\(node)'; supported: \(supported.joined(separator: ", "))"
        case .invalidData(let file, let problem):
            return "\(file): \(problem)"
        case .shapeMismatch(let message):
            return message
        case .execution(let node, let op, let problem):
            return "node '\(node)' (\(op)): \(problem)"
        case .io(let path, let problem):
            return "\(path): \(problem)"
        case .invalidOption(let message):
            return message
        case .cancelled:
            return "cancelled"
        }
    }
}
