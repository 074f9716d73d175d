import Foundation
import Testing
@testable import PTQEngine

/// Load-time preparation on a model exported the way TF-ported PyTorch models are (run-time "same"
/// padding, `view(size(0), -1)` flatten, Dropout, Identity), from torch.onnx.export with a dynamic
/// batch and with torch's fixed batch of 1; the reference is ONNX Runtime on a batch of 3.
@Suite struct GraphPreparationTests {
    static let folder = fixtures.appendingPathComponent("preparation")

    func reference() throws -> (Tensor, Tensor) {
        let path = Self.folder.appendingPathComponent("same_padding.npz").path
        return (try NumpyArchive.read(path: path, key: "x"), try NumpyArchive.read(path: path, key: "y"))
    }

    @Test(arguments: ["dynamic", "batch1"])
    func preparedModelMatchesOnnxRuntimeAtAnyBatch(_ export: String) throws {
        let path = Self.folder.appendingPathComponent("same_padding.\(export).onnx").path
        let (x, y) = try reference()
        let prepared = try ONNXImport.load(path: path)
        let ops = Set(prepared.nodes.map(\.opType))
        #expect(ops.isDisjoint(with: ["Shape", "Gather", "ConstantOfShape", "Pad", "Identity", "Dropout", "Cast", "Concat"]), "\(ops.sorted())")
        #expect(prepared.inputs.map(\.name) == ["x"] && prepared.outputs.map(\.name) == ["y"])
        #expect(!prepared.preparation.isEmpty)
        let output = try Executor(graph: prepared).run(["x": x])["y"]!
        #expect(output.shape == y.shape)
        #expect(relativeError(output.floats, y.floats) <= 1e-5)
        // Folded shapes free the batch: samples run side by side again.
        let constants = prepared.initializers.merging(try prepared.constantNodeValues()) { a, _ in a }
        #expect(SampleIndependence.holds(prepared, constants: constants))
        // The prepared model is still a model: it exports and loads again with the same results.
        let saved = temporaryPath("prepared-\(export).onnx")
        try ONNXExport.save(prepared, to: saved, overwrite: true)
        let again = try Executor(graph: ONNXImport.load(path: saved)).run(["x": x])["y"]!
        #expect(again.floats == output.floats)
    }

    /// The torch.export exporter (dynamo=True) writes its own opset (20 with torch 2.15), folds BatchNorm and
    /// the "same" padding itself and keeps the weights in an external data file: it loads and matches too.
    @Test func dynamoExportWithExternalWeightsMatches() throws {
        let (x, y) = try reference()
        let graph = try ONNXImport.load(path: Self.folder.appendingPathComponent("same_padding.dynamo.onnx").path)
        #expect(graph.opsetVersion >= 18)
        #expect(!graph.nodes.contains { $0.opType == "BatchNormalization" || $0.opType == "Pad" })
        let output = try Executor(graph: graph).run(["x": x])["y"]!
        #expect(output.shape == y.shape)
        #expect(relativeError(output.floats, y.floats) <= 1e-5)
    }

    /// Unprepared, the run-time shape subgraphs execute as they are and give the same answer.
    @Test func unpreparedDynamicExportRunsToo() throws {
        let (x, y) = try reference()
        let raw = try ONNXImport.load(path: Self.folder.appendingPathComponent("same_padding.dynamic.onnx").path, prepare: false)
        #expect(raw.nodes.contains { $0.opType == "Shape" })
        #expect(relativeError(try Executor(graph: raw).run(["x": x])["y"]!.floats, y.floats) <= 1e-5)
    }

    /// After preparation the techniques see Conv -> BN -> Relu chains with no Pad between them.
    @Test func foldBatchNormFindsTheLayerBehindThePad() throws {
        let prepared = try ONNXImport.load(path: Self.folder.appendingPathComponent("same_padding.dynamic.onnx").path)
        let (folded, report) = try FoldBatchNorm().apply(prepared, options: TechniqueOptions())
        #expect(report.changed.count == 1)
        let (x, y) = try reference()
        #expect(relativeError(try Executor(graph: folded).run(["x": x])["y"]!.floats, y.floats) <= 1e-5)
    }
}
