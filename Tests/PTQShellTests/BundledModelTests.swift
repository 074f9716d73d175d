import Foundation
import Testing
import PTQEngine
import PTQShell

/// The DFQ ladder and the exports on the bundled MNIST model. Accuracy assertions only claim gaps
/// larger than 1 point (one image of 2,000 is 0.05).
@Suite struct BundledModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func session(_ lines: [String]) -> (Interpreter, String) { runShell(lines) }

    static let setup = [
        "load models/mnist_mobilenet_skewed.onnx",
        "data models/calibration.npy --labels models/calibration_labels.npy --for calibration",
        "data models/evaluation.npy --labels models/evaluation_labels.npy --for evaluation --limit 1000",
    ]

    func top1(_ interpreter: Interpreter) -> Double { (interpreter.session.lastMetrics["top1"] ?? nil) ?? -1 }

    @Test func dfqRecoversWhatFoldingBroke() {
        let (folded, _) = session(Self.setup + ["apply fold-bn", "quantize", "eval"])
        let fp32 = (folded.session.lastMetrics["fp32.top1"] ?? nil) ?? 0
        #expect(fp32 > 0.97)
        #expect(top1(folded) < fp32 - 0.5)
        let (recovered, _) = session(Self.setup + ["apply dfq", "quantize", "eval", "expect delta.top1 > -0.01"])
        #expect(top1(recovered) > top1(folded) + 0.5)
    }

    @Test func encodingsFollowTheFormats() throws {
        let folder = try temporaryFolder("ptq-export")
        let (_, text) = session(Self.setup + [
            "apply dfq", "quantize --per-channel",
            "export \(folder)/m.onnx --encodings \(folder)/m.encodings --force",
            "export \(folder)/m1.onnx --encodings \(folder)/m1.encodings --encoding-version 1.0.0 --force",
        ])
        #expect(text.contains("encodings 0.6.1"))
        let legacy = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/m.encodings"))) as! [String: Any]
        #expect(legacy["version"] as? String == "0.6.1")
        let activations = legacy["activation_encodings"] as! [String: [[String: Any]]]
        let input = activations["input"]![0]
        #expect(input["is_symmetric"] as? String == "False")
        #expect(input["dtype"] as? String == "int")
        #expect((input["offset"] as? Int) == 0)
        let params = legacy["param_encodings"] as! [String: [[String: Any]]]
        #expect(params.values.contains { $0.count > 1 })  // per-channel conv weights
        let current = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/m1.encodings"))) as! [String: Any]
        let list = current["param_encodings"] as! [[String: Any]]
        #expect(list.contains { $0["enc_type"] as? String == "PER_CHANNEL" })
        #expect(list.allSatisfy { $0["min"] == nil && ($0["is_sym"] as? Bool) == true })
        // The exported FP32 model reloads with the same weights.
        let reloaded = try ONNXImport.load(path: "\(folder)/m.onnx")
        #expect(reloaded.nodes.filter { $0.opType == "BatchNormalization" }.isEmpty)
    }

    @Test func qdqModelAgreesWithTheSimulation() throws {
        let (interpreter, _) = session(Self.setup + ["apply dfq", "quantize"])
        let state = interpreter.session.quantization!
        let qdq = try QDQExport.graph(state)
        #expect(qdq.nodes.contains { $0.opType == "QuantizeLinear" })
        #expect(qdq.initializers.values.contains { $0.onnxType == 3 })  // int8 weights
        let samples = try interpreter.session.evaluationData!.source.all(upTo: 500)
        let name = qdq.outputs[0].name
        let theirs = try Batching.run(Executor(graph: qdq), samples: samples)[name]!
        let ours = try Batching.run(state.simulation(), samples: samples)[name]!
        let classes = 10
        var agree = 0
        for sample in 0..<500 {
            let a = theirs.floats[(sample * classes)..<((sample + 1) * classes)], b = ours.floats[(sample * classes)..<((sample + 1) * classes)]
            if a.firstIndex(of: a.max()!)! - a.startIndex == b.firstIndex(of: b.max()!)! - b.startIndex { agree += 1 }
        }
        #expect(Double(agree) / 500 >= 0.99)
    }
}

/// The skewed teaching copy computes what its unskewed ReLU reference computes.
@Suite struct SkewedModelTests {
    @Test func skewedCopyKeepsTheFunction() throws {
        let models = BundledModelTests.root.appendingPathComponent("models").path
        let reference = try ONNXImport.load(path: "\(models)/mnist_mobilenet_relu.onnx")
        let skewed = try ONNXImport.load(path: "\(models)/mnist_mobilenet_skewed.onnx")
        let raw = try NumpyFile.read(path: "\(models)/evaluation.npy")
        let samples = Tensor(shape: [200, 1, 28, 28], floats: Array(raw.asFloats.prefix(200 * 784)).map { $0 / 255 })
        let a = try Batching.run(Executor(graph: reference), samples: samples)["logits"]!
        let b = try Batching.run(Executor(graph: skewed), samples: samples)["logits"]!
        let scale = a.floats.map { abs($0) }.max()!
        #expect(zip(a.floats, b.floats).map { abs($0 - $1) }.max()! <= 1e-4 * scale)
        // ... while its folded channel ranges are far apart (the point of the copy).
        let folded = try FoldBatchNorm().apply(skewed, options: TechniqueOptions()).0
        let spreads = WeightLayer.all(in: folded).map { RangeStatistics(layer: $0, graph: folded).spread }
        #expect(spreads.max()! > 100)
    }
}
