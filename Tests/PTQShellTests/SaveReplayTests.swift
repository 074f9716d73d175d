import Foundation
import Testing
import PTQEngine
import PTQShell

/// `save` then replaying the script from another folder rebuilds the same state and prints the same.
@Suite struct SaveReplayTests {
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

    final class TextBox { var text = "" }

    func interpreter(base: String, into box: TextBox) -> Interpreter {
        Interpreter(session: Session(baseDirectory: base), write: { box.text += $0 }, writeError: { box.text += $0 })
    }

    @Test func savedScriptReplaysElsewhere() throws {
        let first = TextBox()
        let session = interpreter(base: golden, into: first)
        #expect(session.runLines([
            "load ../../PTQEngineTests/Fixtures/parity/resnet18.bn.onnx",
            "lyers",  // fails: not saved
            "checkpoint a",
            "data ../../PTQEngineTests/Fixtures/parity/resnet18.input.npy --for evaluation",
            "ranges --all",
        ], file: nil, keepGoing: true).succeeded == false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-save-\(getpid())/deep/er")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = folder.appendingPathComponent("session.ptq").path
        #expect(session.execute("save \(script) --force") == .success)
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(!text.contains("lyers"))
        #expect(text.contains("load ../../"))
        #expect(!text.contains("save "))

        let second = TextBox()
        let replay = interpreter(base: "/", into: second)
        #expect(replay.execute("run \(script)") == .success)
        #expect(replay.session.graph == session.session.graph)
        #expect(try replay.session.evaluationData?.source.all() == session.session.evaluationData?.source.all())
        let firstOutputs = session.session.cells.filter { $0.succeeded && !$0.isMeta }.map(\.output)
        #expect(second.text.contains(firstOutputs.last!))
    }

    @Test func failedCommandLeavesStateIntact() throws {
        let text = TextBox()
        let session = interpreter(base: golden, into: text)
        session.execute("load ../../PTQEngineTests/Fixtures/parity/resnet18.bn.onnx")
        session.execute("checkpoint a")
        let before = session.session
        #expect(session.execute("data ../../PTQEngineTests/Fixtures/parity/mobilenet_v2.bn.expected.npy") == .failure)
        #expect(session.execute("restore missing") == .failure)
        #expect(session.session.graph == before.graph)
        #expect(session.session.checkpointOrder == before.checkpointOrder)
        #expect(session.session.evaluationData == nil)
    }
}
