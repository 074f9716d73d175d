import Foundation
import Testing
import ONNXProto
@testable import PTQEngine

/// Models whose initializers live in an external data file beside them (how exporters write models
/// over 2 GB, and what torch's dynamo exporter may write for any model).
@Suite struct ExternalDataTests {
    static let model = fixtures.appendingPathComponent("preparation/external_data.onnx").path

    @Test func externalWeightsLoadAndMatchTheSelfContainedModel() throws {
        let external = try ONNXImport.load(path: Self.model)
        let archive = fixtures.appendingPathComponent("preparation/fixed_batch.npz").path
        let x = try NumpyArchive.read(path: archive, key: "x")
        let expected = try NumpyArchive.read(path: archive, key: "fixed_batch")
        let output = try Executor(graph: external).run(["x": x])["y"]!
        #expect(relativeError(output.floats, expected.floats) <= 1e-5)
        // Export writes a self-contained model: it loads without the weights file.
        let saved = temporaryPath("external-resaved.onnx")
        try ONNXExport.save(external, to: saved, overwrite: true)
        #expect(try Executor(graph: ONNXImport.load(path: saved)).run(["x": x])["y"]!.floats == output.floats)
    }

    /// The model with one external_data entry changed, written to a fresh folder (without the weights file
    /// unless `withWeights`).
    func variant(_ name: String, withWeights: Bool = false, change: (inout [Onnx_StringStringEntryProto]) -> Void) throws -> String {
        var model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: Self.model)))
        change(&model.graph.initializer[0].externalData)
        let folder = URL(fileURLWithPath: temporaryPath("external-\(name)"))
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if withWeights {
            try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("preparation/external_data.weights").path,
                                             toPath: folder.appendingPathComponent("external_data.weights").path)
        }
        let path = folder.appendingPathComponent("model.onnx").path
        try model.serializedData().write(to: URL(fileURLWithPath: path))
        return path
    }

    static func set(_ key: String, _ value: String) -> (inout [Onnx_StringStringEntryProto]) -> Void {
        { entries in
            entries.removeAll { $0.key == key }
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            entries.append(entry)
        }
    }

    @Test(arguments: [
        ("missing", false, "location", "external_data.weights", "is missing or unreadable"),
        ("escape", true, "location", "../../etc/passwd", "leaves the model's folder"),
        ("absolute", true, "location", "/etc/passwd", "leaves the model's folder"),
        ("offset", true, "offset", "999999", "is not a position in"),
        ("length", true, "length", "999999", "runs past the end"),
        ("garbage", true, "length", "many", "runs past the end"),
    ])
    func badExternalDataIsRefusedByName(_ name: String, _ withWeights: Bool, _ key: String, _ value: String, _ message: String) throws {
        let path = try variant(name, withWeights: withWeights, change: Self.set(key, value))
        do {
            _ = try ONNXImport.load(path: path)
            Issue.record("\(name) loaded")
        } catch let error as PTQError {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("tensor '"), "\(error.description)")
        }
    }
}
