import Foundation
import Testing
@testable import PTQEngine

/// Techniques: input → expected on hand-built graphs, invariance on torchvision fixtures, skip rules.
@Suite struct TechniqueTests {
    func conv(_ name: String, _ input: String, _ output: String, weight: String, bias: String? = nil, attributes: [String: Attribute] = [:]) -> Node {
        Node(name: name, opType: "Conv", inputs: [input, weight] + (bias.map { [$0] } ?? []), outputs: [output], attributes: attributes)
    }

    func batchNormGraph(extraReader: Bool = false) -> Graph {
        var nodes = [
            conv("conv", "x", "c", weight: "w"),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "g", "b", "m", "v"], outputs: ["y"], attributes: ["epsilon": .float(1)]),
        ]
        if extraReader { nodes.append(Node(name: "tap", opType: "Relu", inputs: ["c"], outputs: ["t"])) }
        return Graph(nodes: nodes, initializers: [
            "w": Tensor(shape: [2, 1, 1, 1], floats: [1, 2]), "g": Tensor(shape: [2], floats: [4, 3]),
            "b": Tensor(shape: [2], floats: [0.5, -1]), "m": Tensor(shape: [2], floats: [1, 0]), "v": Tensor(shape: [2], floats: [3, 0]),
        ], inputs: [ValueInfo(name: "x", shape: [1, 1, 2, 2])],
           outputs: [ValueInfo(name: "y", shape: [1, 2, 2, 2])] + (extraReader ? [ValueInfo(name: "t", shape: [1, 2, 2, 2])] : []))
    }

    @Test func foldBackwardLiteral() throws {
        let (graph, report) = try FoldBatchNorm().apply(batchNormGraph(), options: TechniqueOptions())
        // sigma = sqrt(var + 1) = [2, 1]; gamma/sigma = [2, 3]
        #expect(graph.initializers["w"]!.floats == [2, 6])
        let biasName = graph.nodes[0].inputs[2]
        #expect(graph.initializers[biasName]!.floats == [-1.5, -1])
        #expect(graph.nodes.map(\.opType) == ["Conv"])
        // The BN's output was the graph output: the folded layer now writes it, so the name survives export.
        #expect(graph.nodes[0].outputs == ["y"])
        #expect(graph.outputs[0].name == "y")
        #expect(graph.foldedStatistics["conv"] == BatchNormStatistics(gamma: [4, 3], beta: [0.5, -1]))
        #expect(report.changed.count == 1)
    }

    @Test func foldSkipsSharedOutputs() throws {
        let (graph, report) = try FoldBatchNorm().apply(batchNormGraph(extraReader: true), options: TechniqueOptions())
        #expect(graph.nodes.contains { $0.opType == "BatchNormalization" })
        #expect(report.skipped.count == 1)
        #expect(report.skipped[0].contains("other readers"))
    }

    @Test func foldForwardIntoUnpaddedConv() throws {
        let graph = Graph(nodes: [
            Node(name: "bn", opType: "BatchNormalization", inputs: ["x", "g", "b", "m", "v"], outputs: ["n"], attributes: ["epsilon": .float(0)]),
            conv("conv", "n", "y", weight: "w"),
        ], initializers: ["w": Tensor(shape: [1, 2, 1, 1], floats: [1, 1]), "g": Tensor(shape: [2], floats: [2, 1]),
                          "b": Tensor(shape: [2], floats: [1, 0]), "m": Tensor(shape: [2], floats: [0, 1]), "v": Tensor(shape: [2], floats: [1, 1])],
           inputs: [ValueInfo(name: "x", shape: [1, 2, 1, 1])], outputs: [ValueInfo(name: "y", shape: [1, 1, 1, 1])])
        let x = Tensor(shape: [1, 2, 1, 1], floats: [3, 5])
        let before = try Executor(graph: graph).run(["x": x])["y"]!
        let (folded, report) = try FoldBatchNorm().apply(graph, options: TechniqueOptions())
        #expect(report.changed.first?.contains("forward") == true)
        #expect(folded.nodes.map(\.opType) == ["Conv"])
        #expect(try Executor(graph: folded).run(["x": x])["y"]!.floats == before.floats)  // 2·3+1 + (5−1) = 11
        #expect(before.floats == [11])
    }

    func loadFixture(_ name: String) throws -> (Graph, Tensor) {
        let graph = try ONNXImport.load(path: fixture("parity/\(name).onnx"))
        let model = String(name.split(separator: ".")[0])
        return (graph, try NumpyFile.read(path: fixture("parity/\(model).input.npy")))
    }

    func output(_ graph: Graph, _ x: Tensor) throws -> [Float] {
        try Executor(graph: graph).run([graph.dataInputs[0].name: x])[graph.outputs[0].name]!.floats
    }

    @Test(arguments: ["mobilenet_v2.bn", "resnet18.bn", "mnasnet0_5.bn"])
    func foldAndScalingPreserveTheFunction(_ name: String) throws {
        let (graph, x) = try loadFixture(name)
        let reference = try output(graph, x)
        let (folded, report) = try FoldBatchNorm().apply(graph, options: TechniqueOptions())
        #expect(!folded.nodes.contains { $0.opType == "BatchNormalization" }, "\(report.skipped)")
        #expect(relativeError(try output(folded, x), reference) <= 1e-4)
        let (relu, _) = try ReplaceRelu6().apply(folded, options: TechniqueOptions())
        let beforeScaling = try output(relu, x)
        let (scaled, scaleReport) = try CrossLayerScaling().apply(relu, options: TechniqueOptions(values: ["--iterations": "5"]))
        #expect(!scaleReport.changed.isEmpty)
        #expect(relativeError(try output(scaled, x), beforeScaling) <= 1e-4)
        // Every pass leaves a model that passes load-time validation, as a loaded one must.
        let (absorbed, _) = try HighBiasFold().apply(scaled, options: TechniqueOptions())
        let (corrected, _) = try BiasCorrection().apply(absorbed, options: TechniqueOptions(values: ["--mode": "analytical"]))
        for pass in [folded, relu, scaled, absorbed, corrected] {
            try pass.validate()
            _ = try Executor(graph: pass).inferShapes()
        }
    }

    @Test func pairScalingLiteral() throws {
        let graph = Graph(nodes: [
            conv("a", "x", "h", weight: "w1", bias: "b1"),
            Node(name: "relu", opType: "Relu", inputs: ["h"], outputs: ["r"]),
            conv("b", "r", "y", weight: "w2"),
        ], initializers: ["w1": Tensor(shape: [2, 1, 1, 1], floats: [1, 4]), "b1": Tensor(shape: [2], floats: [1, 1]),
                          "w2": Tensor(shape: [1, 2, 1, 1], floats: [1, -2])],
           inputs: [ValueInfo(name: "x", shape: [1, 1, 1, 1])], outputs: [ValueInfo(name: "y", shape: [1, 1, 1, 1])])
        let (scaled, _) = try CrossLayerScaling().apply(graph, options: TechniqueOptions())
        let s = Float(2).squareRoot()  // sqrt(r1/r2) = [1, sqrt(4/2)]
        #expect(abs(scaled.initializers["w1"]!.floats[1] - 4 / s) < 1e-6)
        #expect(abs(scaled.initializers["b1"]!.floats[1] - 1 / s) < 1e-6)
        #expect(abs(scaled.initializers["w2"]!.floats[1] + 2 * s) < 1e-6)
    }

    @Test func eachSetHasEqualRangesAfterItsScaling() throws {
        let (graph, _) = try loadFixture("mobilenet_v2.bn")
        var (current, _) = try ReplaceRelu6().apply(try FoldBatchNorm().apply(graph, options: TechniqueOptions()).0, options: TechniqueOptions())
        let sets = LayerSets.find(current)
        #expect(sets.contains { $0.layers.count == 3 })
        for set in sets {
            _ = CrossLayerScaling().scale(&current, set)
            let nodes = set.layers.map { current.node(named: $0)! }
            let first = CrossLayerScaling.ranges(current.initializers[nodes[0].inputs[1]]!, axis: 0)
            let last = CrossLayerScaling.ranges(current.initializers[nodes.last!.inputs[1]]!, axis: 1)
            if nodes.count == 2 {
                #expect(zip(first, last).allSatisfy { $0 == 0 || abs($0 - $1) <= 1e-4 * $1 })
            } else {
                let middle = CrossLayerScaling.ranges(current.initializers[nodes[1].inputs[1]]!, axis: 0)
                #expect(zip(first, middle).allSatisfy { $0 == 0 || abs($0 - $1) <= 1e-4 * $1 })
                #expect(zip(middle, last).allSatisfy { $0 == 0 || abs($0 - $1) <= 1e-4 * $1 })
            }
        }
    }

    @Test func highBiasFoldLiteral() throws {
        var graph = Graph(nodes: [
            conv("a", "x", "h", weight: "w1", bias: "b1"),
            Node(name: "relu", opType: "Relu", inputs: ["h"], outputs: ["r"]),
            conv("b", "r", "y", weight: "w2"),
        ], initializers: ["w1": Tensor(shape: [1, 1, 1, 1], floats: [1]), "b1": Tensor(shape: [1], floats: [10]),
                          "w2": Tensor(shape: [1, 1, 3, 3], floats: [Float](repeating: 1, count: 9))],
           inputs: [ValueInfo(name: "x", shape: [1, 1, 3, 3])], outputs: [ValueInfo(name: "y", shape: [1, 1, 1, 1])])
        graph.foldedStatistics["a"] = BatchNormStatistics(gamma: [1], beta: [5])
        let (folded, report) = try HighBiasFold().apply(graph, options: TechniqueOptions())
        // c = max(0, 5 − 3·1) = 2; b1 = 10 − 2; b2 = 9 · 2
        #expect(folded.initializers["b1"]!.floats == [8])
        #expect(folded.initializers[folded.nodes[2].inputs[2]]!.floats == [18])
        #expect(folded.foldedStatistics["a"]!.beta == [3])
        #expect(report.changed.count == 1)
        let x = Tensor(shape: [1, 1, 3, 3], floats: [0.5, 1, 2, 0, 1, 3, 2, 1, 0])
        #expect(try output(folded, x) == output(graph, x))
        var bare = graph
        bare.foldedStatistics = [:]
        #expect(try HighBiasFold().apply(bare, options: TechniqueOptions()).1.skipped.count == 1)
    }

    @Test func analyticalExpectationsMatchSampling() {
        var generator = SeededGenerator(seed: 7)
        for (mean, std) in [(0.5, 1.0), (-1.0, 2.0), (3.0, 2.5), (7.0, 1.0)] {
            var relu = 0.0, relu6 = 0.0
            let count = 400_000
            for _ in 0..<count {
                let x = mean + std * generator.normal()
                relu += max(x, 0)
                relu6 += min(max(x, 0), 6)
            }
            #expect(abs(relu / Double(count) - AnalyticalExpectation.relu(mean: mean, std: std)) < 0.01 * max(1, std))
            #expect(abs(relu6 / Double(count) - AnalyticalExpectation.relu6(mean: mean, std: std)) < 0.01 * max(1, std))
        }
        // Any bounds, one side open or both finite.
        for (mean, std, low, high) in [(1.0, 2.0, -1.0, 2.5), (0.0, 1.0, -.infinity, 0.5), (2.0, 0.5, 1.0, Double.infinity)] {
            var sum = 0.0
            let count = 400_000
            for _ in 0..<count { sum += min(max(mean + std * generator.normal(), low), high) }
            #expect(abs(sum / Double(count) - AnalyticalExpectation.clipped(mean: mean, std: std, low: low, high: high)) < 0.01 * std)
        }
    }

    /// Mean of (a − b) over every axis but `axis`: the error bias correction removes, measured directly.
    static func channelMeans(_ a: Tensor, minus b: Tensor, axis: Int) -> [Float] {
        var sums = [Double](repeating: 0, count: a.shape[axis])
        a.forEachChannelRun(axis: axis) { channel, run in
            for index in run { sums[channel] += Double(a.floats[index] - b.floats[index]) }
        }
        let perChannel = Double(max(1, a.count / max(1, a.shape[axis])))
        return sums.map { Float($0 / perChannel) }
    }

    @Test func empiricalBiasCorrectionRemovesTheMeanError() throws {
        var generator = SeededGenerator(seed: 3)
        let weights: [Float] = (0..<(4 * 3 * 3 * 3)).map { index in Float(generator.normal()) * (index % 7 == 0 ? 3 : 0.1) }
        let graph = Graph(nodes: [conv("c", "x", "y", weight: "w", attributes: ["pads": .ints([1, 1, 1, 1])])],
                          initializers: ["w": Tensor(shape: [4, 3, 3, 3], floats: weights)],
                          inputs: [ValueInfo(name: "x", shape: [nil, 3, 6, 6])], outputs: [ValueInfo(name: "y", shape: [nil, 4, 6, 6])])
        let samples = Tensor(shape: [64, 3, 6, 6], floats: (0..<(64 * 108)).map { _ in Float(generator.normal()) + 1 })
        var configuration = QuantizationConfiguration()
        configuration.weightBits = 3
        configuration.quantizeInput = false
        let (corrected, report) = try BiasCorrection().apply(graph, options: TechniqueOptions(samples: TensorSamples(samples), configuration: configuration))
        #expect(report.changed.count == 1)
        func meanError(_ model: Graph) throws -> [Float] {
            let quantized = try Calibration.calibrate(model, configuration: configuration, samples: samples).quantizedGraph()
            let y = try Executor(graph: graph).run(["x": samples])["y"]!
            let q = try Executor(graph: quantized).run(["x": samples])["y"]!
            return Self.channelMeans(q, minus: y, axis: 1)
        }
        let before = try meanError(graph).map { abs($0) }.max()!
        let after = try meanError(corrected).map { abs($0) }.max()!
        #expect(before > 1e-3)
        #expect(after < before * 0.01)
    }
}

/// A seeded SplitMix64 generator with Box–Muller normals, for reproducible test data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func normal() -> Double {
        let u = max(Double.leastNonzeroMagnitude, Double.random(in: 0..<1, using: &self))
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
