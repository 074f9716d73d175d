import Testing
@testable import PTQEngine

/// Each op on a small literal case, computed by hand (or with onnx.reference where noted).
@Suite struct OperatorTests {
    let x4 = Tensor(shape: [1, 1, 3, 3], floats: [1, 2, 3, 4, 5, 6, 7, 8, 9])

    @Test func convWithPaddingAndBias() throws {
        let w = Tensor(shape: [1, 1, 2, 2], floats: [1, 0, 0, 1])
        let y = try runSingle("Conv", inputs: [x4], attributes: ["pads": .ints([0, 0, 1, 1])],
                              constants: [1: w, 2: Tensor(shape: [1], floats: [10])])[0]
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.floats == [16, 18, 13, 22, 24, 16, 17, 18, 19])
    }

    @Test func convStrideDilationAndAutoPad() throws {
        let w = Tensor(shape: [1, 1, 2, 2], floats: [1, 1, 1, 1])
        let strided = try runSingle("Conv", inputs: [x4], attributes: ["strides": .ints([2, 2])], constants: [1: w])[0]
        #expect(strided.floats == [12])
        let dilated = try runSingle("Conv", inputs: [x4], attributes: ["dilations": .ints([2, 2])], constants: [1: w])[0]
        #expect(dilated.floats == [20])
        let same = try runSingle("Conv", inputs: [x4], attributes: ["auto_pad": .string("SAME_UPPER")], constants: [1: w])[0]
        #expect(same.shape == [1, 1, 3, 3])
        #expect(same.floats == [12, 16, 9, 24, 28, 15, 15, 17, 9])
    }

    @Test func depthwiseAndGroupedConv() throws {
        let x = Tensor(shape: [1, 2, 2, 2], floats: [1, 2, 3, 4, 10, 20, 30, 40])
        let w = Tensor(shape: [2, 1, 1, 1], floats: [2, -1])
        let y = try runSingle("Conv", inputs: [x], attributes: ["group": .int(2)], constants: [1: w])[0]
        #expect(y.floats == [2, 4, 6, 8, -10, -20, -30, -40])
        let w3 = Tensor(shape: [2, 1, 3, 3], floats: [Float](repeating: 1, count: 18))
        let padded = try runSingle("Conv", inputs: [x], attributes: ["group": .int(2), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])],
                                   constants: [1: w3])[0]
        #expect(padded.floats == [10, 100])
    }

    @Test func convTranspose() throws {
        // onnx.reference: ConvTranspose of [[1,2],[3,4]] with a 2x2 ones kernel, stride 2.
        let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
        let w = Tensor(shape: [1, 1, 2, 2], floats: [1, 1, 1, 1])
        let y = try runSingle("ConvTranspose", inputs: [x], attributes: ["strides": .ints([2, 2])], constants: [1: w])[0]
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.floats == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let overlapping = try runSingle("ConvTranspose", inputs: [x], constants: [1: w])[0]
        #expect(overlapping.floats == [1, 3, 2, 4, 10, 6, 3, 7, 4])
    }

    @Test func gemmAndMatMul() throws {
        let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], floats: [1, 0, 1, 1])
        let gemm = try runSingle("Gemm", inputs: [a], attributes: ["transB": .int(1), "alpha": .float(2)],
                                 constants: [1: b, 2: Tensor(shape: [2], floats: [1, -1])])[0]
        #expect(gemm.floats == [3, 5, 7, 13])
        let matmul = try runSingle("MatMul", inputs: [Tensor(shape: [2, 1, 2], floats: [1, 2, 3, 4])], constants: [1: b])[0]
        #expect(matmul.shape == [2, 1, 2])
        #expect(matmul.floats == [3, 2, 7, 4])
    }

    @Test func batchNormalization() throws {
        let x = Tensor(shape: [1, 2, 1, 2], floats: [1, 2, 3, 4])
        let y = try runSingle("BatchNormalization", inputs: [x], attributes: ["epsilon": .float(0)], constants: [
            1: Tensor(shape: [2], floats: [2, 1]), 2: Tensor(shape: [2], floats: [0, 1]),
            3: Tensor(shape: [2], floats: [1, 3]), 4: Tensor(shape: [2], floats: [4, 1]),
        ])[0]
        #expect(y.floats == [0, 1, 1, 2])
    }

    @Test func activations() throws {
        let x = Tensor(shape: [5], floats: [-4, -1, 0, 2, 8])
        #expect(try runSingle("Relu", inputs: [x])[0].floats == [0, 0, 0, 2, 8])
        #expect(try runSingle("Clip", inputs: [x], constants: [1: .scalar(0), 2: .scalar(6)])[0].floats == [0, 0, 0, 2, 6])
        #expect(try runSingle("Clip", inputs: [x], attributes: ["min": .float(-1), "max": .float(1)], opset: 6)[0].floats == [-1, -1, 0, 1, 1])
        #expect(try runSingle("LeakyRelu", inputs: [x], attributes: ["alpha": .float(0.5)])[0].floats == [-2, -0.5, 0, 2, 8])
        #expect(try runSingle("HardSigmoid", inputs: [x])[0].floats == [0, 0.3, 0.5, 0.9, 1])
        #expect(try runSingle("HardSwish", inputs: [x])[0].floats.map { ($0 * 1000).rounded() / 1000 } == [0, -0.333, 0, 1.667, 8])
        #expect(try runSingle("Sigmoid", inputs: [x])[0].floats[2] == 0.5)
        let prelu = try runSingle("PRelu", inputs: [Tensor(shape: [1, 2, 1, 1], floats: [-2, -2])],
                                  constants: [1: Tensor(shape: [2, 1, 1], floats: [0.5, 0.25])])[0]
        #expect(prelu.floats == [-1, -0.5])
    }

    @Test func broadcastingArithmetic() throws {
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], floats: [10, 20, 30])
        #expect(try runSingle("Add", inputs: [a, b])[0].floats == [11, 22, 33, 14, 25, 36])
        #expect(try runSingle("Sub", inputs: [b, a])[0].floats == [9, 18, 27, 6, 15, 24])
        #expect(try runSingle("Mul", inputs: [a, Tensor(shape: [2, 1], floats: [2, 3])])[0].floats == [2, 4, 6, 12, 15, 18])
        #expect(try runSingle("Div", inputs: [a, .scalar(2)])[0].floats == [0.5, 1, 1.5, 2, 2.5, 3])
        let ints = try runSingle("Div", inputs: [Tensor(shape: [2], integers: [7, -7]), Tensor(shape: [1], integers: [2])])[0]
        #expect(ints.integers == [3, -3])
        #expect(throws: PTQError.self) { try runSingle("Add", inputs: [a, Tensor(shape: [2], floats: [1, 2])]) }
    }

    @Test func pooling() throws {
        let x = Tensor(shape: [1, 1, 4, 4], floats: (1...16).map(Float.init))
        let maxPool = try runSingle("MaxPool", inputs: [x], attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "ceil_mode": .int(1)])[0]
        #expect(maxPool.shape == [1, 1, 2, 2])
        #expect(maxPool.floats == [11, 12, 15, 16])
        let average = try runSingle("AveragePool", inputs: [x], attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])[0]
        #expect(average.floats == [1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16])
        let included = try runSingle("AveragePool", inputs: [x], attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2]), "count_include_pad": .int(1)])[0]
        #expect(included.floats[0] == 0.25)
        #expect(try runSingle("GlobalAveragePool", inputs: [x])[0].floats == [8.5])
    }

    @Test func shapeOps() throws {
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        #expect(try runSingle("Transpose", inputs: [x])[0].floats == [1, 4, 2, 5, 3, 6])
        #expect(try runSingle("Reshape", inputs: [x], constants: [1: Tensor(shape: [2], integers: [3, -1])])[0].shape == [3, 2])
        #expect(try runSingle("Flatten", inputs: [Tensor(zeros: [2, 3, 4])])[0].shape == [2, 12])
        #expect(try runSingle("Unsqueeze", inputs: [x], constants: [1: Tensor(shape: [1], integers: [-1])])[0].shape == [2, 3, 1])
        #expect(try runSingle("Unsqueeze", inputs: [x], attributes: ["axes": .ints([0])], opset: 11)[0].shape == [1, 2, 3])
        #expect(try runSingle("Squeeze", inputs: [Tensor(zeros: [1, 3, 1])])[0].shape == [3])
        #expect(try runSingle("Concat", inputs: [x, x], attributes: ["axis": .int(1)])[0].floats == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        let split = try runSingle("Split", inputs: [x], attributes: ["axis": .int(1)], constants: [1: Tensor(shape: [2], integers: [1, 2])], outputs: 2)
        #expect(split[0].floats == [1, 4])
        #expect(split[1].floats == [2, 3, 5, 6])
        #expect(try runSingle("Shape", inputs: [x])[0].integers == [2, 3])
        #expect(try runSingle("Shape", inputs: [x], attributes: ["start": .int(-1)], opset: 15)[0].integers == [3])
        let gathered = try runSingle("Gather", inputs: [x], attributes: ["axis": .int(1)], constants: [1: Tensor(shape: [2], integers: [-1, 0])])[0]
        #expect(gathered.floats == [3, 1, 6, 4])
        #expect(try runSingle("Cast", inputs: [Tensor(shape: [2], floats: [1.7, -1.7])], attributes: ["to": .int(7)])[0].integers == [1, -1])
    }

    @Test func sliceAndPad() throws {
        let x = Tensor(shape: [2, 4], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let sliced = try runSingle("Slice", inputs: [x], constants: [
            1: Tensor(shape: [1], integers: [-1]), 2: Tensor(shape: [1], integers: [Int64.min]),
            3: Tensor(shape: [1], integers: [1]), 4: Tensor(shape: [1], integers: [-2]),
        ])[0]
        #expect(sliced.floats == [4, 2, 8, 6])
        let padded = try runSingle("Pad", inputs: [Tensor(shape: [1, 3], floats: [1, 2, 3])], attributes: ["mode": .string("reflect")],
                                   constants: [1: Tensor(shape: [4], integers: [0, 2, 0, 1])])[0]
        #expect(padded.floats == [3, 2, 1, 2, 3, 2])
        let edge = try runSingle("Pad", inputs: [Tensor(shape: [2], floats: [1, 2])], attributes: ["mode": .string("edge")],
                                 constants: [1: Tensor(shape: [2], integers: [1, 1])])[0]
        #expect(edge.floats == [1, 1, 2, 2])
    }

    @Test func softmaxAndReduceMean() throws {
        let x = Tensor(shape: [1, 2], floats: [0, 0])
        #expect(try runSingle("Softmax", inputs: [x])[0].floats == [0.5, 0.5])
        let y = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        #expect(try runSingle("ReduceMean", inputs: [y], attributes: ["axes": .ints([1]), "keepdims": .int(0)])[0].floats == [1.5, 3.5])
        #expect(try runSingle("ReduceMean", inputs: [y], constants: [1: Tensor(shape: [1], integers: [0])], opset: 18)[0].floats == [2, 3])
    }

    @Test func unsupportedOperatorFailsAtLoad() throws {
        let graph = Graph(nodes: [Node(name: "weird", opType: "NonMaxSuppression", inputs: ["x"], outputs: ["y"])],
                          inputs: [ValueInfo(name: "x", shape: [1])], outputs: [ValueInfo(name: "y", shape: [1])])
        #expect(throws: PTQError.self) { try Executor(graph: graph) }
        do {
            _ = try Executor(graph: graph)
        } catch let error as PTQError {
            #expect(error.description.contains("'NonMaxSuppression' at node 'weird'"))
            #expect(error.description.contains("Conv"))
        }
    }
}
