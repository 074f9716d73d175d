import Foundation
import Testing
@testable import PTQEngine

/// The operators added for real models (math, comparisons, reductions, normalizations, shape
/// builders) against ONNX Runtime: each fixture is a one- or two-node model with ONNX Runtime's
/// outputs, made by scripts/make-operator-fixtures.
@Suite struct OperatorParityTests {
    static let folder = fixtures.appendingPathComponent("operators")

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func everyFixtureIsHere() { #expect(Self.cases.count >= 40) }

    @Test(arguments: cases)
    func matchesOnnxRuntime(_ name: String) throws {
        let graph = try ONNXImport.load(path: Self.folder.appendingPathComponent("\(name).onnx").path)
        let archive = Self.folder.appendingPathComponent("\(name).npz").path
        let keys = try NumpyArchive.keys(path: archive)
        var feeds: [String: Tensor] = [:]
        for input in graph.dataInputs { feeds[input.name] = try NumpyArchive.read(path: archive, key: input.name) }
        let results = try Executor(graph: graph).run(feeds)
        for (index, output) in graph.outputs.enumerated() {
            #expect(keys.contains("y\(index)"))
            let expected = try NumpyArchive.read(path: archive, key: "y\(index)")
            let actual = try #require(results[output.name])
            #expect(actual.shape == expected.shape, "\(name): shape \(actual.shape) vs \(expected.shape)")
            #expect(relativeError(actual.asFloats, expected.asFloats) <= 1e-5, "\(name): \(actual.asFloats.prefix(6)) vs \(expected.asFloats.prefix(6))")
        }
    }
}
