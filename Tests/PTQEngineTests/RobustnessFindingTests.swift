import Foundation
import Testing
import ZIPFoundation
@testable import PTQEngine

/// One test per finding of the robustness review: each failed (or trapped) before its fix.
@Suite struct RobustnessFindingTests {
    func run(_ graph: Graph, _ x: Tensor) throws -> Tensor {
        let outputs = try Executor(graph: graph).run([graph.dataInputs[0].name: x])
        return outputs[graph.outputs[0].name]!
    }

    func samples(_ shape: [Int], seed: Int = 1) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, floats: (0..<count).map { sin(Float($0 * 37 + seed)) })
    }

    /// Bias correction on a MatMul: no third input is appended (invalid ONNX, ignored by the
    /// executor); the layer is skipped, and the graph still validates.
    @Test func biasCorrectionSkipsAMatMulWithoutBias() throws {
        let graph = Graph(nodes: [Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"])],
                          initializers: ["w": samples([4, 3])],
                          inputs: [ValueInfo(name: "x", shape: [nil, 4])], outputs: [ValueInfo(name: "y", shape: [nil, 3])])
        let (result, report) = try BiasCorrection().apply(graph, options: TechniqueOptions(samples: TensorSamples(samples([8, 4]))))
        #expect(result.nodes[0].inputs == ["x", "w"])
        #expect(report.skipped.contains { $0.contains("mm") && $0.contains("MatMul") })
        try result.validate()
    }

    /// A MatMul followed by an Add of a per-channel constant: the correction goes into that constant.
    @Test func biasCorrectionUsesTheAddAfterAMatMul() throws {
        let graph = Graph(nodes: [Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["m"]),
                                  Node(name: "add", opType: "Add", inputs: ["m", "b"], outputs: ["y"])],
                          initializers: ["w": samples([4, 3]), "b": Tensor(shape: [3], floats: [0, 0, 0])],
                          inputs: [ValueInfo(name: "x", shape: [nil, 4])], outputs: [ValueInfo(name: "y", shape: [nil, 3])])
        var configuration = QuantizationConfiguration()
        configuration.weightBits = 4
        let (result, report) = try BiasCorrection().apply(graph, options: TechniqueOptions(samples: TensorSamples(samples([16, 4])), configuration: configuration))
        #expect(report.changed.count == 1)
        #expect(result.nodes[0].inputs == ["x", "w"])
        #expect(result.initializers["b"]!.floats != [0, 0, 0])
        try result.validate()
    }

    /// Gemm computes alpha·A·B + beta·C: folding a BatchNorm keeps the function for any alpha, beta.
    @Test func foldBatchNormHonoursGemmAlphaAndBeta() throws {
        let graph = Graph(nodes: [
            Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "c"], outputs: ["g"],
                 attributes: ["alpha": .float(2), "beta": .float(0.5), "transB": .int(1)]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["g", "s", "o", "m", "v"], outputs: ["y"]),
        ], initializers: [
            "w": samples([3, 4]), "c": Tensor(shape: [3], floats: [1, -2, 3]),
            "s": Tensor(shape: [3], floats: [1.5, 0.5, 2]), "o": Tensor(shape: [3], floats: [0.1, 0.2, 0.3]),
            "m": Tensor(shape: [3], floats: [0.3, -0.1, 1]), "v": Tensor(shape: [3], floats: [1, 2, 0.5]),
        ], inputs: [ValueInfo(name: "x", shape: [nil, 4])], outputs: [ValueInfo(name: "y", shape: [nil, 3])])
        let (folded, report) = try FoldBatchNorm().apply(graph, options: TechniqueOptions())
        #expect(report.changed.count == 1)
        let x = samples([5, 4])
        #expect(relativeError(try run(folded, x).floats, try run(graph, x).floats) < 1e-5)
    }

    /// A strided ConvTranspose as the second layer: a constant input shift reaches different output
    /// positions through different taps, so high-bias fold skips the link.
    @Test func highBiasFoldSkipsAStridedConvTranspose() throws {
        var graph = Graph(nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w1", "b1"], outputs: ["c"]),
            Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
            Node(name: "up", opType: "ConvTranspose", inputs: ["r", "w2"], outputs: ["y"], attributes: ["strides": .ints([2, 2])]),
        ], initializers: [
            "w1": samples([2, 1, 1, 1]), "b1": Tensor(shape: [2], floats: [5, 6]), "w2": samples([2, 1, 2, 2]),
        ], inputs: [ValueInfo(name: "x", shape: [nil, 1, 3, 3])], outputs: [ValueInfo(name: "y", shape: [nil, 1, 6, 6])])
        graph.foldedStatistics["conv"] = BatchNormStatistics(gamma: [0.1, 0.1], beta: [5, 6])
        let (result, report) = try HighBiasFold().apply(graph, options: TechniqueOptions())
        #expect(report.changed.isEmpty)
        #expect(report.skipped.contains { $0.contains("strided ConvTranspose") })
        #expect(result.initializers == graph.initializers)
    }

    /// Analytical bias correction for a strided ConvTranspose uses the position average of the
    /// kernel sum: kernel sum / (stride_h × stride_w), which equals the mean output shift.
    @Test func analyticalShiftOfAStridedConvTransposeIsThePositionAverage() throws {
        let node = Node(name: "up", opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attributes: ["strides": .ints([2, 2])])
        let weight = Tensor(shape: [1, 1, 2, 2], floats: [0, 0, 0, 0])
        let quantized = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
        let graph = Graph(nodes: [node], initializers: ["w": weight], inputs: [ValueInfo(name: "x", shape: [nil, 1, 2, 2])],
                          outputs: [ValueInfo(name: "y", shape: [nil, 1, 4, 4])])
        let layer = WeightLayer.make(node, index: 0, graph: graph)!
        let shift = BiasCorrection.analyticalShift(layer, weight: weight, quantized: quantized, expectation: [2], graph: graph)
        // Error taps sum to 10, each output position of the 4x4 output sees exactly one tap: mean 10/4 per unit input.
        #expect(shift == [10 * 2 / 4])
        let error = Graph(nodes: [node], initializers: ["w": quantized], inputs: graph.inputs, outputs: graph.outputs)
        let output = try run(error, Tensor(shape: [1, 1, 2, 2], floats: [2, 2, 2, 2]))
        #expect(abs(output.floats.reduce(0, +) / Float(output.count) - shift[0]) < 1e-5)
    }

    @Test func nonFiniteRangesGiveFiniteEncodings() {
        for (low, high) in [(-Float.infinity, Float.infinity), (Float.nan, 1), (0, Float.nan), (-1e38, 1e38)] {
            let encoding = Encoding(minimum: low, maximum: high, bitwidth: 8, symmetric: false)
            #expect(encoding.scale.isFinite && encoding.scale > 0)
            #expect(encoding.quantizeDequantize(1e30).isFinite)
        }
        #expect(FiniteRange.of([1, .nan, -.infinity, 3, .infinity]) == (1, 3))
        var histogram = Histogram(minimum: -.infinity, maximum: .infinity)
        histogram.add([1, .nan, .infinity, 2])
        #expect(histogram.counts.reduce(0, +) == 2)
    }

    /// Calibration skips non-finite weights and activations (an -inf constant, say) instead of trapping.
    @Test func calibrationSkipsNonFiniteValues() throws {
        var weight = samples([2, 1, 1, 1])
        weight.floats[1] = -.infinity
        let graph = Graph(nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"])],
                          initializers: ["w": weight], inputs: [ValueInfo(name: "x", shape: [nil, 1, 2, 2])],
                          outputs: [ValueInfo(name: "y", shape: [nil, 2, 2, 2])])
        let state = try Calibration.calibrate(graph, configuration: QuantizationConfiguration(), samples: samples([3, 1, 2, 2]))
        #expect(state.weightEncodings["w"]!.allSatisfy { $0.scale.isFinite })
        #expect(state.activationEncodings.values.allSatisfy { $0.scale.isFinite })
        #expect(graph.nonFiniteConstants().map(\.name) == ["w"])
    }

    /// An integer Clip with a missing bound, and QuantizeLinear of NaN or infinity, on valid models.
    @Test func integerConversionsSaturate() throws {
        let clipped = try runSingle("Clip", inputs: [Tensor(shape: [3], integers: [-5, 0, 5])], constants: [2: Tensor(shape: [], integers: [3])])
        #expect(clipped[0].integers == [-5, 0, 3])
        let quantized = try runSingle("QuantizeLinear", inputs: [Tensor(shape: [3], floats: [.nan, .infinity, -.infinity])],
                                      constants: [1: Tensor.scalar(0.1), 2: Tensor(shape: [], integers: [0], onnxType: 3)])
        #expect(quantized[0].integers == [0, 127, -128])
        #expect(Tensor(shape: [2], floats: [.nan, 1e30]).asIntegers == [0, Int64.max])
    }

    @Test func labelsOutsideTheClassesAreAnError() {
        let logits = Tensor(shape: [2, 3], floats: [1, 2, 3, 3, 2, 1])
        #expect(throws: PTQError.self) { _ = try Evaluation.topK(logits, labels: [0, 3], k: 1) }
        #expect(throws: PTQError.self) { _ = try Evaluation.topK(logits, labels: [0, -1], k: 1) }
        #expect(throws: PTQError.self) { _ = try Evaluation.topK(Tensor(shape: [3], floats: [1, 2, 3]), labels: [0, 1], k: 1) }
        #expect((try? Evaluation.topK(logits, labels: [2, 0], k: 1)) == 1)
    }

    @Test func unsqueezeRefusesRepeatedAxes() {
        #expect(throws: PTQError.self) {
            _ = try runSingle("Unsqueeze", inputs: [Tensor(shape: [2], floats: [1, 2])], constants: [1: Tensor(shape: [2], integers: [0, 0])])
        }
    }

    /// The .npz member's CRC-32 is checked: a flipped byte in a stored member is an error, not data.
    @Test func corruptNpzMemberIsRefused() throws {
        let path = temporaryPath("corrupt.npz")
        try? FileManager.default.removeItem(atPath: path)
        let member = NumpyFile.encode(Tensor(shape: [4], floats: [1, 2, 3, 4]))
        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            try archive.addEntry(with: "x.npy", type: .file, uncompressedSize: Int64(member.count), compressionMethod: .none) { position, size in
                member.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        #expect(try NumpyArchive.read(path: path, key: "x").floats == [1, 2, 3, 4])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let start = bytes.firstRange(of: [UInt8](member))!.lowerBound
        bytes[start + member.count - 2] ^= 0x40  // inside the last float: still a well-formed .npy
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { _ = try NumpyArchive.read(path: path, key: "x") } throws: { "\($0)".contains("CRC-32") }
    }

    /// Found by ptq-fuzz (seed 11, case 6853): a flipped byte in a deflated member made extraction
    /// run without end. Now it stops at the size the member declares, or earlier where zlib itself finds
    /// the stream damaged (which of the two comes first varied between runs: both are the right answer).
    @Test func corruptDeflateStopsAtTheDeclaredSize() {
        let path = fixture("fuzz/hang-seed11-case6853.npz")
        #expect { _ = try NumpyArchive.read(path: path, key: "x") } throws: { error in
            let text = "\(error)"
            return text.contains("hang-seed11-case6853.npz") && text.contains("cannot extract 'x'")
                && (text.contains("expands past") || text.contains("damaged"))
        }
    }

    /// Found by ptq-fuzz (seed 1, on the 'sequence' model): a 12x12 zero tensor fed to ReduceMean as its axes
    /// named axis 0 144 times, and the reduced count overflowed. Repeated axes are an error now.
    @Test func repeatedReductionAxesAreRefused() {
        let node = Node(name: "pool", opType: "ReduceMean", inputs: ["x", "axes"], outputs: ["y"])
        #expect {
            _ = try ReductionOperators.reduce(node, [Tensor(zeros: [4, 3]), Tensor(shape: [3], integers: [0, 0, -2])], .mean)
        } throws: { "\($0)".contains("pool") && "\($0)".contains("name an axis more than once") }
    }

    /// Found by ptq-fuzz (seed 30, on the 'volume' model): a declared batch of 0 reached the 3-D Conv's
    /// all-padding path, which read a plane of the empty input. Empty batches give empty outputs, for every
    /// operator that lifts to 2-D.
    @Test func emptyBatchesThroughLiftedOperators() throws {
        let cube: [String: Attribute] = ["kernel_shape": .ints([3, 3, 3]), "pads": .ints([1, 1, 1, 1, 1, 1])]
        let cases: [(Node, [Tensor?], [Int])] = [
            (Node(name: "c3", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: cube),
             [Tensor(zeros: [0, 2, 4, 5, 5]), Tensor(zeros: [3, 2, 3, 3, 3])], [0, 3, 4, 5, 5]),
            (Node(name: "t3", opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"], attributes: ["kernel_shape": .ints([2, 2, 2])]),
             [Tensor(zeros: [0, 2, 4, 5, 5]), Tensor(zeros: [2, 3, 2, 2, 2])], [0, 3, 5, 6, 6]),
            (Node(name: "p3", opType: "MaxPool", inputs: ["x"], outputs: ["y"], attributes: ["kernel_shape": .ints([2, 2, 2]), "strides": .ints([2, 2, 2])]),
             [Tensor(zeros: [0, 2, 4, 6, 6])], [0, 2, 2, 3, 3]),
            (Node(name: "c1", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["kernel_shape": .ints([3]), "pads": .ints([1, 1])]),
             [Tensor(zeros: [0, 2, 7]), Tensor(zeros: [3, 2, 3])], [0, 3, 7]),
        ]
        for (node, inputs, expected) in cases {
            let operation = try #require(OperatorRegistry.table[node.opType])
            let outputs: [Tensor] = try operation(node, inputs, 13)
            #expect(outputs[0].shape == expected, "\(node.name): \(outputs[0].shape)")
        }
    }
}
