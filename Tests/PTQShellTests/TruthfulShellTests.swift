import Foundation
import Testing
import PTQEngine
@testable import PTQShell

/// The shell's habits: settings that act, saved scripts that replay twice, options from their owners.
@Suite struct TruthfulShellTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    final class TextBox { var text = "" }

    func shell(_ box: TextBox, base: String? = nil) -> Interpreter {
        Interpreter(session: Session(baseDirectory: base ?? root), write: { box.text += $0 }, writeError: { box.text += $0 })
    }

    @Test func timingPrintsEachCommandsWallTime() {
        let box = TextBox()
        let interpreter = shell(box)
        #expect(interpreter.execute("techniques") == .success)
        #expect(!box.text.contains("time: "))
        #expect(interpreter.execute("set timing on") == .success)
        box.text = ""
        #expect(interpreter.execute("techniques") == .success)
        #expect(box.text.split(separator: "\n").last?.hasPrefix("time: ") == true)
        #expect(interpreter.execute("set seed 3") == .failure)  // no seed: nothing samples at random
    }

    /// A saved session writes its own outputs with --force, so the script replays twice.
    @Test func savedScriptsReplayTwice() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-twice-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let box = TextBox()
        let interpreter = shell(box)
        let output = folder.appendingPathComponent("out.onnx").path
        #expect(interpreter.runLines(["load models/mnist_mobilenet.onnx", "export \(output)"], file: nil, keepGoing: false).succeeded)
        let script = folder.appendingPathComponent("again.ptq").path
        #expect(interpreter.execute("save \(script)") == .success)
        #expect(try String(contentsOfFile: script, encoding: .utf8).contains("export out.onnx --force"))
        for _ in 0..<2 {
            let replay = shell(TextBox(), base: folder.path)
            #expect(replay.execute("run again.ptq") == .success)
        }
    }

    /// `apply`'s options are exactly those the techniques declare, and each technique takes only its own.
    @Test func applyOptionsComeFromTheTechniques() {
        let apply = Commands.table.first { $0.name == "apply" }!
        let declared = Set(TechniqueCommands.registry.flatMap { $0.options.map(\.0) })
        #expect(Set(apply.options.map(\.name)) == declared)
        let box = TextBox()
        let interpreter = shell(box)
        #expect(interpreter.execute("load models/mnist_mobilenet.onnx") == .success)
        #expect(interpreter.execute("apply cle --mode hybrid") == .failure)
        #expect(box.text.contains("cle takes --iterations, not --mode"))
    }

    @Test func completionOffersFoldersFilesAndOptionValues() {
        let interpreter = shell(TextBox())
        #expect(Completion.candidates(interpreter: interpreter, linePrefix: "data ", word: "mod") == ["models/"])
        #expect(Completion.candidates(interpreter: interpreter, linePrefix: "data ", word: "models/calibration.n") == ["models/calibration.npy"])
        #expect(Completion.candidates(interpreter: interpreter, linePrefix: "data x.npy --for ", word: "cal") == ["calibration"])
        #expect(Completion.candidates(interpreter: interpreter, linePrefix: "apply bias-correction --mode ", word: "")
                == ["empirical", "analytical", "hybrid"])
        #expect(Completion.candidates(interpreter: interpreter, linePrefix: "quantize --scheme ", word: "p") == ["percentile"])
    }

    /// Every layer name in help's examples exists in the bundled model.
    @Test func helpExamplesNameRealLayers() throws {
        let box = TextBox()
        let interpreter = shell(box)
        #expect(interpreter.execute("load models/mnist_mobilenet.onnx") == .success)
        let layers = Set(interpreter.session.layerNames)
        for spec in Commands.table {
            for example in spec.examples {
                for word in example.split(separator: " ") where word.hasPrefix("/") {
                    #expect(layers.contains(String(word)), "help \(spec.name): '\(word)' is not a layer of the bundled model")
                }
            }
        }
    }
}
