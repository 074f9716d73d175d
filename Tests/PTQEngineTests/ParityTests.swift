import Foundation
import Testing
@testable import PTQEngine

/// ptq against ONNX Runtime on torchvision architectures (random weights, randomized BN statistics),
/// exported with BatchNormalization kept and folded. References made by scripts/make-parity-fixtures.
@Suite struct ParityTests {
    static let cases: [String] = [
        "mobilenet_v2.bn", "mobilenet_v2.folded", "mnasnet0_5.bn", "mnasnet0_5.folded", "resnet18.bn", "resnet18.folded",
        "squeezenet1_1.folded", "efficientnet_b0.bn", "efficientnet_b0.folded", "shufflenet_v2_x0_5.bn",
        "shufflenet_v2_x0_5.folded",
    ]

    @Test(arguments: cases)
    func matchesOnnxRuntime(_ name: String) throws {
        let model = String(name.split(separator: ".")[0])
        let graph = try ONNXImport.load(path: fixture("parity/\(name).onnx"))
        let input = try NumpyFile.read(path: fixture("parity/\(model).input.npy"))
        let expected = try NumpyFile.read(path: fixture("parity/\(name).expected.npy"))
        let output = try Executor(graph: graph).run([graph.dataInputs[0].name: input])[graph.outputs[0].name]!
        #expect(output.shape == expected.shape)
        #expect(relativeError(output.floats, expected.floats) <= 1e-4)
    }

    @Test func batchNormSurvivedWhereIntended() throws {
        let kept = try ONNXImport.load(path: fixture("parity/mobilenet_v2.bn.onnx"))
        let folded = try ONNXImport.load(path: fixture("parity/mobilenet_v2.folded.onnx"))
        #expect(kept.nodes.filter { $0.opType == "BatchNormalization" }.count == 52)
        #expect(folded.nodes.filter { $0.opType == "BatchNormalization" }.isEmpty)
    }

    @Test(arguments: ["mobilenet_v2.bn", "efficientnet_b0.bn", "shufflenet_v2_x0_5.folded"])
    func exportRoundTripKeepsOutputs(_ name: String) throws {
        let model = String(name.split(separator: ".")[0])
        let graph = try ONNXImport.load(path: fixture("parity/\(name).onnx"))
        let path = temporaryPath("\(name).roundtrip.onnx")
        try ONNXExport.save(graph, to: path, overwrite: true)
        let reloaded = try ONNXImport.load(path: path)
        #expect(reloaded.nodes.map(\.opType) == graph.nodes.map(\.opType))
        #expect(reloaded.initializers == graph.initializers)
        #expect(reloaded.opsetVersion == graph.opsetVersion)
        let input = try NumpyFile.read(path: fixture("parity/\(model).input.npy"))
        let a = try Executor(graph: graph).run([graph.dataInputs[0].name: input])
        let b = try Executor(graph: reloaded).run([reloaded.dataInputs[0].name: input])
        #expect(a == b)
    }

    @Test func batchSizeDoesNotChangeResults() throws {
        let graph = try ONNXImport.load(path: fixture("parity/resnet18.bn.onnx"))
        let input = try NumpyFile.read(path: fixture("parity/resnet18.input.npy"))
        let executor = try Executor(graph: graph)
        let together = try Batching.run(executor, samples: input, batchSize: 2)[graph.outputs[0].name]!
        let apart = try Batching.run(executor, samples: input, batchSize: 1)[graph.outputs[0].name]!
        #expect(relativeError(apart.floats, together.floats) <= 1e-6)
    }
}
