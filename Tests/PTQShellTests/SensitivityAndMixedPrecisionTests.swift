import Foundation
import Testing
import PTQEngine
import PTQShell

/// `sensitivity` and `mixed-precision` on the bundled skewed model, checked against the commands that compute the same
/// figures the long way (`eval`, `quantize --exclude`).
@Suite struct SensitivityAndMixedPrecisionTests {
    func session(_ lines: [String], succeeds: Bool = true) -> (Interpreter, String) { runShell(lines, succeeds: succeeds) }

    static let setup = [
        "load models/mnist_mobilenet_skewed.onnx",
        "data models/calibration.npy --labels models/calibration_labels.npy --for calibration",
        "data models/evaluation.npy --labels models/evaluation_labels.npy --for evaluation --limit 256",
        "apply fold-bn",
    ]

    /// A metric of the last `eval`, as a fraction (the session keeps accuracies in percent).
    func metric(_ interpreter: Interpreter, _ name: String) -> Double { ((interpreter.session.lastMetrics[name] ?? nil) ?? -.infinity) / 100 }

    @Test func sensitivityAgreesWithEvalAndExclude() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-sensitivity-\(getpid()).json").path
        let (_, text) = session(Self.setup + ["quantize", "sensitivity --sort --json \(path) --force"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.count == 26 && json["metric"] as? String == "top1")
        let (quantized, _) = session(Self.setup + ["quantize", "eval"])
        #expect(abs((json["quantized"] as? Double ?? -1) - metric(quantized, "top1")) < 1e-12)
        #expect(abs((json["fp32"] as? Double ?? -1) - metric(quantized, "fp32.top1")) < 1e-12)
        // The layer cle would fix, quantized alone, costs most; every view of it agrees with the long way round.
        #expect(text.contains("most sensitive first"))
        let worst = try #require(layers.min { ($0["only_quantized"] as! Double) < ($1["only_quantized"] as! Double) })
        let name = try #require(worst["layer"] as? String)
        #expect(name.hasPrefix("/features/features.3/"), "\(text)")
        let (excluded, _) = session(Self.setup + ["quantize --exclude \(name)", "eval"])
        #expect(abs((worst["all_but_quantized"] as? Double ?? -1) - metric(excluded, "top1")) < 1e-12)
    }

    @Test func mixedPrecisionMeetsItsTargetAndExports() throws {
        let folder = try temporaryFolder("ptq-amp")
        let (interpreter, text) = session(Self.setup + [
            "quantize", "eval",
            "mixed-precision --target-drop 1 --candidates W4A8,W8A8,W8A16,float",
            "eval", "export \(folder)/m.onnx --encodings \(folder)/m.encodings --force",
        ])
        // The configuration kept is one the search measured on these 256 samples.
        #expect(metric(interpreter, "delta.top1") >= -0.01, "\(text)")  // within 1 point
        let configuration = try #require(interpreter.session.quantizationConfiguration)
        #expect(!configuration.layerPrecisions.isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/m.encodings"))) as? [String: Any])
        let parameters = try #require(json["param_encodings"] as? [String: [[String: Any]]])
        let widths = Set(parameters.values.flatMap { $0.compactMap { $0["bitwidth"] as? Int } })
        #expect(widths.count >= 2, "\(widths)")
        #expect(text.contains("cost (bit-operations, 1 = W8A8 everywhere); o = chosen"))
        // A second search starts from the user's configuration, not from the first one's choice: the same result.
        let again = interpreter.runLines(["mixed-precision --target-drop 1 --candidates W4A8,W8A8,W8A16,float"], file: nil, keepGoing: false)
        #expect(again.succeeded)
        #expect(interpreter.session.quantizationConfiguration == configuration)
    }

    @Test func badCandidatesAreRefused() {
        for (candidates, message) in [("W4A8", "at least two different candidates"), ("W4A8,W99A8", "'W99A8' is not valid"),
                                      ("W4A8,W4A8", "at least two different candidates"), ("W4,float", "'W4' is not valid")] {
            let (_, text) = session(Self.setup + ["mixed-precision --target-drop 1 --candidates \(candidates)"], succeeds: false)
            #expect(text.contains(message), "\(candidates): \(text)")
        }
        let (_, text) = session(Self.setup + ["mixed-precision"], succeeds: false)
        #expect(text.contains("--target-drop P is required"))
        let (_, quantizeFirst) = session(Self.setup + ["sensitivity"], succeeds: false)
        #expect(quantizeFirst.contains("quantization is off"))
    }
}
