import Foundation
import PTQEngine

/// One notebook cell: a command as typed, its words with file paths made absolute (for `save`),
/// what it printed, and whether it succeeded.
public struct Cell: Sendable {
    public var number: Int
    public var text: String
    public var words: [String]
    public var output: String
    public var succeeded: Bool
    public var isMeta: Bool
    /// The charts in `output`, with the numbers they show.
    public var figures: [PlacedFigure] = []
}

public enum Outcome: Sendable, Equatable { case success, failure, quit }

/// Runs command lines against a session. Interactive sessions, `ptq run`, `ptq -c` and piped stdin
/// all go through `execute`, so they print the same things.
public final class Interpreter {
    public var session: Session
    public var cells: [Cell] { session.cells }
    public let table: [CommandSpec]
    let write: (String) -> Void
    let writeError: (String) -> Void
    /// Nesting depth of `run` inside the session; cells are recorded at depth 0 only.
    private var depth = 0
    /// The scripts being run, outermost first (standardized paths): a script that runs itself, directly
    /// or through others, is refused with this chain instead of recursing until the stack runs out.
    private var scriptChain: [String] = []

    /// `table` is the command table; tests pass a modified one (to inject failures).
    public init(session: Session = Session(), table: [CommandSpec] = Commands.table,
                write: @escaping (String) -> Void, writeError: @escaping (String) -> Void) {
        self.session = session
        self.table = table
        self.write = write
        self.writeError = writeError
    }

    public var nextCellNumber: Int { cells.count + 1 }
    public var prompt: String { "ptq [\(nextCellNumber)]> " }

    public func command(named name: String) -> CommandSpec? {
        table.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// Runs one line. `location` ("FILE:LINE") prefixes error messages from scripts.
    @discardableResult
    public func execute(_ line: String, location: String? = nil) -> Outcome {
        let trimmed = line.trimmed()
        var output = Output()
        var words: [String] = []
        var outcome = Outcome.success
        var isMeta = false
        if session.settings.echo && depth == 0 && !trimmed.isEmpty {
            // Comments are the narration of a script: echoed as they are, not as cells.
            write(trimmed.hasPrefix("#") ? "\(trimmed)\n" : "\(prompt)\(trimmed)\n")
        }
        do {
            words = try Lexer.words(trimmed)
            guard let name = words.first else { return .success }
            guard let spec = command(named: name) else {
                throw ShellError.unknownCommand(name, suggestion: nearest(name, in: table.flatMap { [$0.name] + $0.aliases }))
            }
            isMeta = spec.isMeta
            let arguments = try spec.parse(Array(words.dropFirst()))
            words = [spec.name] + absolutePaths(spec, arguments)
            if spec.name == "quit" { return .quit }
            if spec.name == "run" {
                try runNested(session.resolve(arguments.positionals[0]), output: &output)
            } else {
                var copy = session
                let before = session.graph
                let started = DispatchTime.now()
                defer {
                    if session.settings.timing || copy.settings.timing {
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
                        output.line("time: \(Format.fixed(seconds, 3)) s")
                    }
                }
                try spec.handler(&copy, arguments, &output)
                if spec.changesState, spec.recordsUndo, copy.graph != before {
                    if let before, copy.undoStack.last != before { copy.pushUndo(before, origin: session.stateOrigin) }
                    // Inside `run`, the cell is the run's: say which script the command came from.
                    let script = depth > 0 ? scriptChain.last.map { ($0 as NSString).lastPathComponent + ": " } ?? "" : ""
                    copy.stateOrigin = "[\(nextCellNumber)] \(script)\(trimmed)"
                }
                session = copy
            }
        } catch {
            let message = render(error)
            let prefix = location.map { "\($0): " } ?? ""
            output.line("error: \(prefix)\(message)")
            outcome = .failure
        }
        if outcome == .failure {
            writeError(output.text)
        } else {
            write(output.text)
        }
        if depth == 0 {
            session.cells.append(Cell(number: cells.count + 1, text: trimmed, words: words, output: output.text,
                              succeeded: outcome == .success, isMeta: isMeta, figures: output.figures))
        }
        return outcome
    }

    /// An error's message, with paths shown relative to the session's folder as the user typed them.
    func render(_ error: Error) -> String {
        let message: String
        switch error {
        case let error as ShellError: message = error.message
        case let error as PTQError: message = error.description
        default: message = "\(error)"
        }
        let base = session.baseDirectory.hasSuffix("/") ? session.baseDirectory : session.baseDirectory + "/"
        return message.replacingOccurrences(of: base, with: "")
    }

    /// Runs script lines (joining `\` continuations); stops at the first failure unless `keepGoing`.
    /// Returns whether every command succeeded, and whether a `quit` ended it.
    public func runLines(_ lines: [String], file: String?, keepGoing: Bool) -> (succeeded: Bool, quit: Bool) {
        if depth == 0, let file {
            // `ptq run dir/a.ptq` passes the path as typed (relative to the working folder) while the
            // session's base is already the script's folder; the golden tests pass a bare name.
            let fromBase = Self.standardized(file, base: session.baseDirectory)
            let fromHere = Self.standardized(file, base: FileManager.default.currentDirectoryPath)
            scriptChain = [FileManager.default.fileExists(atPath: fromBase) ? fromBase : fromHere]
        }
        defer { if depth == 0 { scriptChain = [] } }
        return runScriptLines(lines, file: file, keepGoing: keepGoing)
    }

    static func standardized(_ path: String, base: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Where a script stopped: the failing line and how many commands before it took effect.
    private var lastStop: (line: Int, succeeded: Int)? = nil

    private func runScriptLines(_ lines: [String], file: String?, keepGoing: Bool) -> (succeeded: Bool, quit: Bool) {
        var allSucceeded = true
        var succeededCount = 0
        var pending = ""
        var firstLine = 0
        for (index, raw) in lines.enumerated() {
            if pending.isEmpty { firstLine = index + 1 }
            if raw.hasSuffix("\\") {
                pending += String(raw.dropLast()) + " "
                continue
            }
            let line = pending + raw
            pending = ""
            let location = file.map { "\($0):\(firstLine)" }
            switch execute(line, location: location) {
            case .success:
                if !line.trimmed().isEmpty && !line.trimmed().hasPrefix("#") { succeededCount += 1 }
                continue
            case .quit: return (allSucceeded, true)
            case .failure:
                allSucceeded = false
                if !keepGoing || session.isCancelled() {  // Ctrl-C stops a script, --keep-going or not
                    lastStop = (firstLine, succeededCount)
                    return (false, false)
                }
            }
        }
        if !pending.isEmpty {
            if execute(pending, location: file.map { "\($0):\(firstLine)" }) == .failure {
                allSucceeded = false
                lastStop = (firstLine, succeededCount)
            }
        }
        return (allSucceeded, false)
    }

    private func runNested(_ path: String, output: inout Output) throws {
        let key = Self.standardized(path, base: session.baseDirectory)
        if scriptChain.contains(key) {
            let chain = (scriptChain + [key]).map { ($0 as NSString).lastPathComponent }.joined(separator: " -> ")
            throw ShellError.other("script \(path) runs itself (\(chain)); a script may not include itself")
        }
        let text = try FileReading.text(of: path, expected: "a ptq script (.ptq)")
        let savedBase = session.baseDirectory
        session.baseDirectory = (path as NSString).deletingLastPathComponent
        depth += 1
        scriptChain.append(key)
        defer {
            depth -= 1
            scriptChain.removeLast()
            session.baseDirectory = savedBase
        }
        lastStop = nil
        let result = runScriptLines(text.components(separatedBy: "\n"), file: path, keepGoing: false)
        if !result.succeeded {
            let stop = lastStop ?? (0, 0)
            throw ShellError.other(
                "script \(path) stopped at its line \(stop.line); the \(stop.succeeded) command\(stop.succeeded == 1 ? "" : "s") before it took effect")
        }
    }

    /// The command's words after its name, with file arguments made absolute.
    private func absolutePaths(_ spec: CommandSpec, _ arguments: Arguments) -> [String] {
        var words: [String] = []
        for (index, value) in arguments.positionals.enumerated() {
            let isFile = index < spec.arguments.count && spec.arguments[index].isFile
            words.append(isFile ? session.resolve(value) : value)
        }
        for option in spec.options {
            if arguments.has(option.name) { words.append(option.name) }
            if let value = arguments[option.name] {
                words += [option.name, option.isFile ? session.resolve(value) : value]
            }
        }
        return words
    }
}
