import Foundation
import ONNXProto
import Testing
@testable import PTQEngine

/// Load-time validation: each broken model fails with a message naming the node or tensor and the
/// field, never a trap. Table-driven: a mutation of a small valid graph → the words the error must hold.
@Suite struct ModelValidationTests {
    static func base() -> Graph {
        Graph(nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: ["pads": .ints([1, 1, 1, 1]), "strides": .ints([1, 1])]),
            Node(name: "pool", opType: "MaxPool", inputs: ["c"], outputs: ["p"], attributes: ["kernel_shape": .ints([2, 2])]),
            Node(name: "flat", opType: "Flatten", inputs: ["p"], outputs: ["y"]),
        ], initializers: [
            "w": Tensor(shape: [2, 1, 3, 3], floats: [Float](repeating: 0.1, count: 18)),
            "b": Tensor(shape: [2], floats: [0, 1]),
        ], inputs: [ValueInfo(name: "x", shape: [nil, 1, 4, 4])], outputs: [ValueInfo(name: "y", shape: [nil, 18])])
    }

    static let cases: [(String, @Sendable (inout Graph) -> Void, [String])] = [
        ("short pads", { $0.nodes[0].attributes["pads"] = .ints([1, 1, 1]) }, ["'conv'", "'pads'", "has 3 values", "expected 4"]),
        ("zero stride", { $0.nodes[0].attributes["strides"] = .ints([0, 1]) }, ["'strides'", "holds 0"]),
        ("negative kernel", { $0.nodes[1].attributes["kernel_shape"] = .ints([2, -2147483648]) }, ["'pool'", "'kernel_shape'"]),
        ("group as float", { $0.nodes[0].attributes["group"] = .float(1) }, ["'group'", "is a float; expected an int"]),
        ("bad auto_pad", { $0.nodes[0].attributes["auto_pad"] = .string("bogus") }, ["'auto_pad'", "'bogus'"]),
        ("ceil_mode 2", { $0.nodes[1].attributes["ceil_mode"] = .int(2) }, ["'ceil_mode'", "expected 0 or 1"]),
        ("too many inputs", { $0.nodes[2].inputs.append("b") }, ["'flat'", "has 2 inputs; expected 1"]),
        ("negative input dim", { $0.inputs[0].shape[2] = -4 }, ["input 'x'", "dimension -4"]),
        ("huge input", { $0.inputs[0].shape[2] = 1 << 40 }, ["input 'x'", "more than"]),
        ("integer input", { $0.inputs[0].onnxType = 7 }, ["input 'x'", "int64"]),
        ("output nobody computes", { $0.outputs[0].name = "w" }, ["graph output 'w'", "not computed by any node"]),
        ("missing output", { $0.nodes.removeLast() }, ["graph output 'y'"]),
        ("two producers", { $0.nodes[1].outputs = ["c"] }, ["'pool'", "writes 'c'", "another node"]),
        ("writes an initializer", { $0.nodes[1].outputs = ["b"] }, ["writes 'b'", "already an initializer"]),
        ("duplicate input", { $0.inputs.append($0.inputs[0]) }, ["graph input 'x' is declared twice"]),
        ("dangling input", { $0.nodes[1].inputs = ["nothing"] }, ["'pool'", "reads 'nothing'"]),
        ("bad perm", { $0.nodes.insert(Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["tx"], attributes: ["perm": .ints([0, 0, 1, 2])]), at: 0) },
         ["'perm'", "permutation"]),
        ("unknown op", { $0.nodes[2].opType = "NoSuchOp" }, ["unsupported operator 'NoSuchOp'"]),
    ]

    @Test(arguments: cases.indices)
    func brokenModelFailsValidation(_ index: Int) {
        let (_, mutate, words) = Self.cases[index]
        var graph = Self.base()
        mutate(&graph)
        do {
            try graph.validate()
            Issue.record("case '\(Self.cases[index].0)' passed validation")
        } catch {
            let message = "\(error)"
            for word in words { #expect(message.contains(word), "'\(message)' lacks '\(word)'") }
        }
    }

    @Test func baseGraphIsValidAndRuns() throws {
        try Self.base().validate()
        _ = try Executor(graph: Self.base()).inferShapes()
    }

    /// The geometry is checked where the kernels are called too, so a graph built in code (not loaded)
    /// gets an error, not an out-of-range read.
    @Test func operatorsCheckSpatialAttributesThemselves() {
        var graph = Self.base()
        graph.nodes[0].attributes["pads"] = .ints([1, 1])
        #expect(throws: PTQError.self) { _ = try Executor(graph: graph).inferShapes() }
    }

    @Test func hugeDimensionsFailWithoutOverflow() {
        var proto = Onnx_TensorProto()
        proto.name = "big"
        proto.dataType = 1
        proto.dims = [Int64.max / 2, 4]
        #expect(throws: PTQError.self) { _ = try ONNXTensorCoding.decode(proto, context: "initializer") }
        proto.dims = [-1]
        #expect(throws: PTQError.self) { _ = try ONNXTensorCoding.decode(proto, context: "initializer") }
    }

    @Test func duplicateInitializersFailTheLoad() throws {
        var model = try ONNXExport.modelProto(Self.base())
        model.graph.initializer.append(model.graph.initializer[0])
        let path = temporaryPath("duplicate.onnx")
        try (try model.serializedBytes() as Data).write(to: URL(fileURLWithPath: path))
        #expect { _ = try ONNXImport.load(path: path) } throws: { "\($0)".contains("is defined twice") }
    }

    @Test func aFolderIsNamedAsOne() {
        #expect { _ = try ONNXImport.load(path: NSTemporaryDirectory()) } throws: { "\($0)".contains("is a folder") }
    }

    /// A Conv reading an int32 bias would read an empty float buffer.
    @Test func integerWeightsAreRefusedWhenTheNodeRuns() {
        var graph = Self.base()
        graph.initializers["b"] = Tensor(shape: [2], integers: [0, 1], onnxType: 6)
        #expect { _ = try Executor(graph: graph).inferShapes() } throws: { "\($0)".contains("holds int32 values; expected float") }
    }
}

/// Traps a second reader found after the first fixes: each is now an error.
@Suite struct SecondReviewTests {
    @Test func scalarAxisIsOutOfRange() {
        #expect(throws: PTQError.self) {
            _ = try runSingle("Gather", inputs: [Tensor.scalar(1)], constants: [1: Tensor(shape: [], integers: [0])])
        }
    }

    @Test func reshapeTargetsAreChecked() {
        let x = Tensor(shape: [4], floats: [1, 2, 3, 4])
        for target: [Int64] in [[1 << 32, 1 << 32], [-2, -2], [-1, -1]] {
            #expect(throws: PTQError.self) { _ = try runSingle("Reshape", inputs: [x], constants: [1: Tensor(shape: [2], integers: target)]) }
        }
    }

    @Test func splitSizesAreChecked() {
        let x = Tensor(shape: [6], floats: [1, 2, 3, 4, 5, 6])
        for sizes: [Int64] in [[-1, 7], [Int64.max, 1]] {
            #expect(throws: PTQError.self) {
                _ = try runSingle("Split", inputs: [x], constants: [1: Tensor(shape: [2], integers: sizes)], outputs: 2)
            }
        }
    }

    @Test func integerDivisionOverflowsQuietly() throws {
        let result = try runSingle("Div", inputs: [], constants: [0: Tensor(shape: [1], integers: [Int64.min]), 1: Tensor(shape: [1], integers: [-1])])
        #expect(result[0].integers == [Int64.min])
    }

    @Test func graphsNeedOutputsInputsAndUniqueNodeNames() {
        var graph = ModelValidationTests.base()
        graph.outputs = []
        #expect { try graph.validate() } throws: { "\($0)".contains("declares no outputs") }
        graph = ModelValidationTests.base()
        graph.nodes[1].name = "conv"
        #expect { try graph.validate() } throws: { "\($0)".contains("two nodes are named 'conv'") }
    }
}
