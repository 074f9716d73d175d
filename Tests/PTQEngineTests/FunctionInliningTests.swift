import Foundation
import Testing
@testable import PTQEngine

/// A model built of local functions (a Conv+Relu function whose pads refer to the caller's
/// attribute, called directly and from another function): ptq inlines them at load and matches
/// ONNX Runtime, which runs the functions as written.
@Suite struct FunctionInliningTests {
    static let folder = fixtures.appendingPathComponent("preparation")

    @Test func inlinedFunctionsMatchOnnxRuntime() throws {
        let graph = try ONNXImport.load(path: Self.folder.appendingPathComponent("local_functions.onnx").path)
        #expect(graph.preparation.first == "inlined 4 calls of the model's 2 local functions", "\(graph.preparation)")
        #expect(graph.nodes.map(\.opType) == ["Conv", "Relu", "Conv", "Relu", "Conv", "Relu"])
        // Two top-level calls and two nested ones; the callers' pads reach the first and second Conv, the third takes the default.
        #expect(graph.nodes.filter { $0.opType == "Conv" }.map { $0.ints("pads") ?? [] } == [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
        #expect(Set(graph.nodes.map(\.name)).count == 6)
        let archive = Self.folder.appendingPathComponent("local_functions.npz").path
        let x = try NumpyArchive.read(path: archive, key: "x"), y = try NumpyArchive.read(path: archive, key: "y")
        let output = try Executor(graph: graph).run(["x": x])["y"]!
        #expect(output.shape == y.shape)
        #expect(relativeError(output.floats, y.floats) <= 1e-5)
        let saved = temporaryPath("inlined.onnx")
        try ONNXExport.save(graph, to: saved, overwrite: true)
        #expect(try Executor(graph: ONNXImport.load(path: saved)).run(["x": x])["y"]!.floats == output.floats)
    }
}
