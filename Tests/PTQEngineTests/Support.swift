import Foundation
import Testing
@testable import PTQEngine

/// The committed fixtures folder (tests read fixtures next to their sources, not from a bundle).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

/// max|a − b| / max|b|.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    let scale = b.map { abs($0) }.max() ?? 0
    let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale == 0 ? difference : difference / scale
}

func temporaryPath(_ name: String) -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ptq-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name).path
}

/// A one-node graph for operator tests.
func runSingle(_ op: String, inputs: [Tensor], attributes: [String: Attribute] = [:], constants: [Int: Tensor] = [:],
               opset: Int = 13, outputs: Int = 1) throws -> [Tensor] {
    let names = inputs.indices.map { "x\($0)" }
    var initializers: [String: Tensor] = [:]
    var inputNames = names
    for (index, tensor) in constants {
        let name = "c\(index)"
        initializers[name] = tensor
        while inputNames.count <= index { inputNames.append("") }
        inputNames[index] = name
    }
    let outputNames = (0..<outputs).map { "y\($0)" }
    let node = Node(name: "n", opType: op, inputs: inputNames, outputs: outputNames, attributes: attributes)
    let graph = Graph(nodes: [node], initializers: initializers,
                      inputs: zip(names, inputs).map { ValueInfo(name: $0.0, shape: $0.1.shape) },
                      outputs: outputNames.map { ValueInfo(name: $0, shape: []) }, opsetVersion: opset)
    let executor = try Executor(graph: graph)
    let result = try executor.run(Dictionary(uniqueKeysWithValues: zip(names, inputs)))
    return outputNames.map { result[$0]! }
}
