import Foundation
import Testing
@testable import PTQEngine

/// Exports that spell the batch as 1 in constant reshape targets (torch.onnx.export's default fixed
/// batch, the classic model zoo): preparation releases the batch where it can prove each sample is
/// computed on its own, and otherwise runs batches one sample at a time. The reference is ONNX
/// Runtime run one sample at a time on a batch of 3.
@Suite struct FixedBatchReleaseTests {
    static let archive = fixtures.appendingPathComponent("preparation/fixed_batch.npz").path

    func load(_ name: String) throws -> Graph {
        try ONNXImport.load(path: fixtures.appendingPathComponent("preparation/\(name).onnx").path)
    }

    @Test func releasedReshapesRunAWholeBatchAsOneSampleEach() throws {
        let graph = try load("fixed_batch")
        #expect(graph.batchLimit == nil)
        #expect(graph.preparation.contains { $0.hasPrefix("the export fixes the batch at 1 in 1 Reshape target; it now copies the batch") },
                "\(graph.preparation)")
        let x = try NumpyArchive.read(path: Self.archive, key: "x")
        let expected = try NumpyArchive.read(path: Self.archive, key: "fixed_batch")
        let output = try Executor(graph: graph).run(["x": x])["y"]!
        #expect(output.shape == expected.shape)
        #expect(relativeError(output.floats, expected.floats) <= 1e-5)
    }

    @Test func aGraphThatMayMixSamplesRunsOneSampleAtATime() throws {
        let graph = try load("fixed_batch_mixing")
        #expect(graph.batchLimit == 1)
        #expect(graph.preparation.contains { $0.contains("cannot release it (node") && $0.contains("(Transpose) may mix the samples") },
                "\(graph.preparation)")
        let x = try NumpyArchive.read(path: Self.archive, key: "x")
        let expected = try NumpyArchive.read(path: Self.archive, key: "fixed_batch_mixing")
        let output = try Batching.run(Executor(graph: graph), samples: x)["y"]!
        #expect(output.shape == expected.shape)
        #expect(relativeError(output.floats, expected.floats) <= 1e-5)
    }

    /// Without preparation the export fails on a batch of 3, as ONNX Runtime does: the release is ptq's doing.
    @Test func theUnpreparedExportRefusesABatch() throws {
        let raw = try ONNXImport.load(path: fixtures.appendingPathComponent("preparation/fixed_batch.onnx").path, prepare: false)
        let x = try NumpyArchive.read(path: Self.archive, key: "x")
        #expect(throws: PTQError.self) { try Executor(graph: raw).run(["x": x]) }
    }
}
