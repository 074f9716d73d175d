import Foundation
import Testing
import PTQEngine
@testable import PTQShell

/// The shell's side of the robustness review: atomic commands, `run` chains, `undo`, bad data.
@Suite struct ShellRobustnessTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    final class TextBox { var text = "" }

    func interpreter(_ box: TextBox, base: String? = nil, table: [CommandSpec] = Commands.table) -> Interpreter {
        Interpreter(session: Session(baseDirectory: base ?? root), table: table,
                    write: { box.text += $0 }, writeError: { box.text += $0 })
    }

    static let setup = [
        "load models/mnist_mobilenet.onnx",
        "data models/calibration.npy --labels models/calibration_labels.npy --limit 16",
        "quantize --samples 16",
        "checkpoint start",
    ]

    /// What a failed command must leave exactly as it was.
    func fingerprint(_ session: Session) -> String {
        var parts = [session.modelPath ?? "-", "\(session.graph.map { $0.nodes.count } ?? -1)",
                     "\(session.undoStack.count)", session.checkpointOrder.joined(separator: ","),
                     session.calibrationData?.path ?? "-", "\(session.calibrationData.map { [$0.source.count] + $0.source.sampleShape } ?? [])",
                     session.evaluationData?.path ?? "-", "\(session.settings)",
                     session.quantizationConfiguration?.summary ?? "-", "\(session.quantization != nil)"]
        parts.append("\(session.graph.map { Array($0.initializers.keys).sorted().joined() }.map(\.count) ?? 0)")
        if let graph = session.graph { parts.append("\(graph == session.checkpoints["start"])") }
        return parts.joined(separator: "|")
    }

    /// Every state-changing command, run with a failure injected after its handler has changed the
    /// session's copy: the session stays exactly as it was.
    static let stateChanging: [String: String] = [
        "load": "load models/mnist_mobilenet_relu.onnx", "data": "data models/evaluation.npy --limit 8",
        "checkpoint": "checkpoint other", "restore": "restore loaded", "undo": "undo",
        "quantize": "quantize --per-channel --samples 8", "apply": "apply relu6-to-relu", "set": "set width 80",
        "mixed-precision": "mixed-precision --target-drop 5 --candidates W8A8,float --samples 8",
    ]

    final class Switch: @unchecked Sendable { var on = false }

    @Test func failedCommandsLeaveTheSessionAsItWas() throws {
        struct Injected: Error {}
        let injecting = Switch()
        let table = Commands.table.map { spec -> CommandSpec in
            var wrapped = spec
            wrapped.handler = { session, arguments, output in
                try spec.handler(&session, arguments, &output)
                if injecting.on { throw Injected() }
            }
            return wrapped
        }
        let covered = Set(Commands.table.filter(\.changesState).map(\.name)).subtracting(["run"])
        #expect(covered.isSubset(of: Set(Self.stateChanging.keys)), "a state-changing command has no injected-failure case")
        for (name, line) in Self.stateChanging.sorted(by: { $0.key < $1.key }) {
            let box = TextBox()
            let shell = interpreter(box, table: table)
            injecting.on = false
            #expect(shell.runLines(Self.setup + ["apply fold-bn"], file: nil, keepGoing: false).succeeded, "\(box.text)")
            let before = fingerprint(shell.session)
            injecting.on = true
            #expect(shell.execute(line) == .failure, "\(name)")
            #expect(fingerprint(shell.session) == before, "\(name) changed the session although it failed")
        }
    }

    @Test func undoStepsFurtherBackEachTime() {
        let box = TextBox()
        let shell = interpreter(box)
        #expect(shell.runLines(["load models/mnist_mobilenet.onnx", "apply fold-bn", "apply relu6-to-relu", "undo", "undo"],
                               file: nil, keepGoing: false).succeeded)
        #expect(shell.session.graph == shell.session.checkpoints["loaded"])
        #expect(shell.execute("undo") == .failure)
        #expect(box.text.contains("nothing to undo"))
    }

    @Test func undoStackIsBounded() {
        var session = Session()
        let graph = Graph(nodes: [], inputs: [], outputs: [])
        for _ in 0..<(Session.undoDepth + 5) { session.pushUndo(graph) }
        #expect(session.undoStack.count == Session.undoDepth)
    }

    @Test func aScriptThatRunsItselfFailsWithTheChain() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-chain-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "set width 90\nrun b.ptq\n".write(to: folder.appendingPathComponent("a.ptq"), atomically: true, encoding: .utf8)
        try "run a.ptq\n".write(to: folder.appendingPathComponent("b.ptq"), atomically: true, encoding: .utf8)
        let box = TextBox()
        let shell = interpreter(box, base: folder.path)
        #expect(shell.execute("run a.ptq") == .failure)
        #expect(box.text.contains("a.ptq -> b.ptq -> a.ptq"))
        #expect(box.text.contains("stopped at its line 2; the 1 command before it took effect"))
        #expect(shell.session.settings.width == 90)  // the command before the failure stays
    }

    @Test func badSamplesAreRefusedWithWhereAndWhat() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-data-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try NumpyFile.encode(Tensor(shape: [], floats: [1])).write(to: folder.appendingPathComponent("scalar.npy"))
        var values = [Float](repeating: 0, count: 2 * 28 * 28)
        values[800] = .nan
        values[900] = .infinity
        try NumpyFile.encode(Tensor(shape: [2, 1, 28, 28], floats: values)).write(to: folder.appendingPathComponent("nan.npy"))
        let box = TextBox()
        let shell = interpreter(box, base: folder.path)
        #expect(shell.execute("data scalar.npy") == .failure)
        #expect(box.text.contains("holds a single value"))
        #expect(shell.execute("data nan.npy") == .failure)
        #expect(box.text.contains("2 values are NaN or infinite (the first at flat index 800, sample 1)"))
        #expect(shell.execute("data nan.npy --allow-nonfinite") == .success)
        box.text = ""
        #expect(shell.execute("data nan.npy --allow-nonfinite --std 0") == .failure)
        #expect(box.text.contains("--std '0' is not valid"))
    }

    @Test func nonFiniteNumbersBecomeNullInJSON() throws {
        let object = JSONOutput.sanitized(["sqnr": Double.infinity, "rows": [["v": Double.nan], ["v": 1.5]]] as [String: Any])
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        #expect(String(decoding: data, as: UTF8.self) == #"{"rows":[{"v":null},{"v":1.5}],"sqnr":null}"#)
    }
}
