import Testing
@testable import PTQEngine

/// The executor's sample-parallel mode: which graphs may run sample by sample, and that doing so
/// gives exactly what the whole batch gives.
@Suite struct SampleParallelTests {
    static func graph(_ op: String, attributes: [String: Attribute] = [:], constants: [String: Tensor] = [:],
                      inputShape: [Int] = [2, 3, 4, 4]) -> Graph {
        let node = Node(name: "n", opType: op, inputs: ["x"] + constants.keys.sorted(), outputs: ["y"], attributes: attributes)
        return Graph(nodes: [node], initializers: constants, inputs: [ValueInfo(name: "x", shape: inputShape)],
                     outputs: [ValueInfo(name: "y", shape: [])], opsetVersion: 13)
    }

    @Test(arguments: [
        ("Relu", [:], [:], true),
        ("Flatten", ["axis": Attribute.int(1)], [:], true),
        ("Flatten", ["axis": .int(0)], [:], false),
        ("Softmax", ["axis": .int(-1)], [:], true),
        ("Softmax", ["axis": .int(-4)], [:], false),
        ("Transpose", ["perm": .ints([0, 2, 3, 1])], [:], true),
        ("Transpose", ["perm": .ints([1, 0, 2, 3])], [:], false),
        ("Unsqueeze", [:], ["axes": Tensor(shape: [1], integers: [1])], true),
        ("Unsqueeze", [:], ["axes": Tensor(shape: [1], integers: [0])], false),
        ("ReduceMean", ["axes": .ints([2, 3])], [:], true),
        ("ReduceMean", ["axes": .ints([0])], [:], false),
        ("Add", [:], ["b": Tensor(shape: [3, 1, 1], floats: [1, 2, 3])], true),
        ("Add", [:], ["b": Tensor(shape: [2, 3, 1, 1], floats: [1, 2, 3, 4, 5, 6])], false),
        ("Reshape", [:], ["shape": Tensor(shape: [2], integers: [2, -1])], false),
        ("Shape", [:], [:], false),
    ] as [(String, [String: Attribute], [String: Tensor], Bool)])
    func independence(op: String, attributes: [String: Attribute], constants: [String: Tensor], expected: Bool) {
        let graph = Self.graph(op, attributes: attributes, constants: constants)
        #expect(SampleIndependence.holds(graph, constants: constants) == expected)
    }

    @Test(.enabled(if: Parallel.workers > 1, "sample-parallel mode needs two cores"))
    func sampleBySampleEqualsWholeBatch() throws {
        for name in ["resnet18.bn", "mobilenet_v2.folded", "efficientnet_b0.bn"] {
            let graph = try ONNXImport.load(path: fixture("parity/\(name).onnx"))
            let input = try NumpyFile.read(path: fixture("parity/\(name.split(separator: ".")[0]).input.npy"))
            let executor = try Executor(graph: graph)
            #expect(executor.samplesIndependent, "\(name)")
            let feeds = [graph.dataInputs[0].name: input]
            let parallel = try #require(try executor.runSampleParallel(feeds, isCancelled: nil))
            let whole = try executor.runBatch(feeds, keep: [], hook: nil, isCancelled: nil)
            #expect(parallel == whole, "\(name)")
        }
    }

    @Test func graphsThatMixSamplesRunWhole() throws {
        let graph = Self.graph("ReduceMean", attributes: ["axes": .ints([0]), "keepdims": .int(1)])
        let executor = try Executor(graph: graph)
        let x = Tensor(shape: [2, 3, 4, 4], floats: (0..<96).map(Float.init))
        let y = try executor.run(["x": x])["y"]!
        #expect(y.shape == [1, 3, 4, 4])
        #expect(y.floats[0] == 24)
    }
}
