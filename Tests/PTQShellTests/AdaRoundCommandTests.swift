import Foundation
import Testing
import PTQEngine
import PTQShell

/// `apply adaround` on the bundled MNIST model: it lowers the quantization error where rounding to nearest hurts,
/// its encodings stay frozen through `quantize` and `export`, and a later pass that changes the weights drops them.
@Suite struct AdaRoundCommandTests {
    final class Box { var text = "" }

    func session(_ lines: [String]) -> (Interpreter, String) { runShell(lines) }

    static let setup = [
        "load models/mnist_mobilenet.onnx",
        "data models/calibration.npy --labels models/calibration_labels.npy --for calibration",
        "data models/evaluation.npy --labels models/evaluation_labels.npy --for evaluation --limit 1000",
        "apply fold-bn",
    ]

    func metric(_ interpreter: Interpreter, _ name: String) -> Double { (interpreter.session.lastMetrics[name] ?? nil) ?? -.infinity }

    @Test func adaRoundBeatsRoundingToNearestAtFourBits() {
        let (nearest, _) = session(Self.setup + ["quantize --weights 4", "eval"])
        let (learnt, text) = session(Self.setup + ["quantize --weights 4", "apply adaround --iterations 200 --samples 256", "eval"])
        // Measured: 10.4 dB -> 18.5 dB, top-1 96.4% -> 99.0%.
        #expect(metric(learnt, "sqnr") > metric(nearest, "sqnr") + 5, "\(text)")
        #expect(metric(learnt, "top1") >= metric(nearest, "top1"))
        #expect(text.contains("adaround: 26 changed, 0 skipped"))
        #expect(text.contains("200 iterations per layer, batches of 32 from 256 samples, seed 0"))
    }

    @Test func encodingsStayFrozenUntilTheWeightsChange() throws {
        let folder = try temporaryFolder("ptq-adaround")
        let (interpreter, text) = session(Self.setup + [
            "quantize --weights 4 --per-channel", "apply adaround --iterations 20 --samples 64",
            "quantize", "export \(folder)/a.onnx --encodings \(folder)/a.encodings --force",
            "apply cle",
        ])
        #expect(text.contains("26 weight tensors keep the encodings AdaRound froze (W4), whatever this configuration says"))
        // `quantize` asked for 8-bit weights; the export keeps AdaRound's 4-bit grids, one per channel.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/a.encodings"))) as? [String: Any]
        let parameters = try #require(json?["param_encodings"] as? [String: [[String: Any]]])
        #expect(parameters.count == 26)
        #expect(parameters.values.allSatisfy { $0.allSatisfy { $0["bitwidth"] as? Int == 4 } })
        #expect(parameters.values.contains { $0.count > 1 })
        #expect(text.contains("warning: cle changed"), "\(text)")
        let graph = try #require(interpreter.session.graph)
        #expect(graph.frozenWeightEncodings.count < 26)
        // The weights cle left alone keep theirs, and they still sit on their grids.
        for (name, frozen) in graph.frozenWeightEncodings {
            #expect(graph.initializers[name] == frozen.weight)
        }
    }

    @Test func theSameSeedGivesTheSameWeights() {
        let lines = Self.setup + ["quantize --weights 4", "apply adaround --iterations 30 --samples 64 --seed 3"]
        let (first, _) = session(lines)
        let (second, _) = session(lines)
        let (other, _) = session(Self.setup + ["quantize --weights 4", "apply adaround --iterations 30 --samples 64 --seed 4"])
        #expect(first.session.graph == second.session.graph)
        #expect(first.session.graph != other.session.graph)
    }

    /// --layers (AIMET's nodes_to_include): only the named layers are learnt and frozen; the others keep nearest rounding.
    @Test func onlyTheLayersAskedForAreLearnt() throws {
        let layers = ["/features/features.0/Conv", "/classifier/Gemm"]
        let (interpreter, text) = session(Self.setup + ["quantize --weights 4",
                                                        "apply adaround --iterations 20 --samples 64 --layers \(layers.joined(separator: ","))"])
        let graph = try #require(interpreter.session.graph)
        let frozen = graph.frozenWeightEncodings.keys.compactMap { weight in WeightLayer.all(in: graph).first { $0.weightName == weight }?.name }
        #expect(frozen.sorted() == layers.sorted(), "\(text)")
        #expect(text.contains("adaround: 2 changed, 24 skipped") && text.contains("not among the layers asked for"), "\(text)")
    }

    @Test func badOptionsAreRefusedWithTheStateKept() {
        let box = Box()
        let interpreter = Interpreter(session: Session(baseDirectory: BundledModelTests.root.path), write: { box.text += $0 },
                                      writeError: { box.text += $0 })
        _ = interpreter.runLines(["load models/mnist_mobilenet.onnx"], file: nil, keepGoing: false)
        _ = interpreter.runLines(["apply adaround"], file: nil, keepGoing: false)
        #expect(box.text.contains("calibration"), "\(box.text)")
        _ = interpreter.runLines(["data models/calibration.npy --for calibration", "apply adaround --batch 0"], file: nil, keepGoing: false)
        #expect(box.text.contains("adaround: --batch '0' is not valid; expected an integer from 1 to 4096"), "\(box.text)")
        _ = interpreter.runLines(["apply adaround --layers /features/features.0/Conv,nosuch"], file: nil, keepGoing: false)
        #expect(box.text.contains("adaround: 'nosuch' is not a weight layer of the model"), "\(box.text)")
        _ = interpreter.runLines(["apply adaround --layers ,"], file: nil, keepGoing: false)
        #expect(box.text.contains("adaround: --layers ',' names no layer"), "\(box.text)")
        #expect(interpreter.session.graph?.frozenWeightEncodings.isEmpty == true)
    }
}
