import Foundation
import Testing
@testable import PTQEngine

/// ReLU6 kept through cle as Relu + Min with per-channel bounds: the function is unchanged where relu6-to-relu
/// changes it, high-bias-fold moves the bounds with the bias, quantizer placement keeps Conv + Relu + Min one
/// group, and dfq chooses between the two per ReLU6.
@Suite struct ChannelBoundsTests {
    /// conv (3 → 6) → ReLU6 → depthwise (6) → ReLU6 → conv (6 → 4), 3×3 with pads 1; activations well above 6.
    static func chain(seed: UInt64, explicitPad: Bool = false) -> Graph {
        var generator = SeededGenerator(seed: seed)
        func tensor(_ shape: [Int], spread: Bool = false, scale: Float = 1) -> Tensor {
            let count = shape.reduce(1, *), perChannel = count / shape[0]
            return Tensor(shape: shape, floats: (0..<count).map { index in
                Float(generator.normal()) * scale * (spread ? Float(1 + (index / perChannel) * 4) : 1)
            })
        }
        let attributes: [String: Attribute] = ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]
        var depthwise = attributes
        depthwise["group"] = .int(6)
        // TF "same" padding as exported: an explicit zero Pad (bottom/right heavier), then an unpadded depthwise conv.
        let pad = Node(name: "pad", opType: "Pad", inputs: ["ra", "amounts"], outputs: ["pa"])
        if explicitPad { depthwise["pads"] = .ints([0, 0, 0, 0]) }
        return Graph(nodes: [
            Node(name: "expand", opType: "Conv", inputs: ["x", "w0", "b0"], outputs: ["a"], attributes: attributes),
            Node(name: "clip0", opType: "Clip", inputs: ["a", "low", "high"], outputs: ["ra"]),
        ] + (explicitPad ? [pad] : []) + [
            Node(name: "depthwise", opType: "Conv", inputs: [explicitPad ? "pa" : "ra", "w1", "b1"], outputs: ["d"], attributes: depthwise),
            Node(name: "clip1", opType: "Clip", inputs: ["d", "low", "high"], outputs: ["rd"]),
            Node(name: "project", opType: "Conv", inputs: ["rd", "w2", "b2"], outputs: ["y"], attributes: attributes),
        ], initializers: [
            "w0": tensor([6, 3, 3, 3], spread: true), "b0": tensor([6], scale: 2),
            "w1": tensor([6, 1, 3, 3], spread: true, scale: 0.5), "b1": tensor([6]),
            "w2": tensor([4, 6, 3, 3]), "b2": tensor([4]),
            "low": Tensor(shape: [], floats: [0]), "high": Tensor(shape: [], floats: [6]),
            "amounts": Tensor(shape: [8], integers: [0, 0, 0, 0, 0, 0, 2, 2]),
        ], inputs: [ValueInfo(name: "x", shape: [nil, 3, 6, 6])], outputs: [ValueInfo(name: "y", shape: [nil, 4, 6, 6])])
    }

    static func input(seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(shape: [2, 3, 6, 6], floats: (0..<216).map { _ in Float(generator.normal()) * 2 })
    }

    @Test func cleCarriesReLU6AsChannelBoundsAndKeepsTheFunction() throws {
        let graph = Self.chain(seed: 7), x = Self.input(seed: 8)
        let before = try Executor(graph: graph).run(["x": x])["y"]!
        let (scaled, report) = try CrossLayerScaling().apply(graph, options: TechniqueOptions(values: ["--iterations": "20"]))
        #expect(report.changed.first?.hasPrefix("2 ReLU6 kept as Relu + Min") == true, "\(report)")
        #expect(report.changed.contains { $0.hasPrefix("expand -> depthwise -> project") }, "\(report)")
        #expect(!scaled.nodes.contains { $0.opType == "Clip" } && scaled.nodes.filter { $0.opType == "Min" }.count == 2)
        let after = try Executor(graph: scaled).run(["x": x])["y"]!
        #expect(relativeError(after.floats, before.floats) <= 1e-5)
        // The bounds moved with the channels: no longer all 6, all positive, and the ranges met (the fixed point).
        let bounds = scaled.nodes.filter { $0.opType == "Min" }.map { scaled.initializers[$0.inputs[1]]!.floats }
        #expect(bounds.allSatisfy { $0.count == 6 && $0.allSatisfy { $0 > 0 } } && bounds[0].contains { abs($0 - 6) > 0.1 })
        let r0 = CrossLayerScaling.ranges(scaled.initializers["w0"]!, axis: 0)
        let r1 = CrossLayerScaling.ranges(scaled.initializers["w1"]!, axis: 0)
        for channel in 0..<6 { #expect(abs(r0[channel] - r1[channel]) <= 1e-3 * r0[channel]) }
        // The paper's step changes this function: its activations pass 6.
        let (relu, _) = try ReplaceRelu6().apply(graph, options: TechniqueOptions())
        #expect(relativeError(try Executor(graph: relu).run(["x": x])["y"]!.floats, before.floats) > 1e-2)
        // Saved and loaded again (the bounds are initializers of the model file), it computes the same.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("channel-bounds-\(UInt32.random(in: 0...UInt32.max)).onnx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ONNXExport.save(scaled, to: path, overwrite: false)
        let reloaded = try ONNXImport.load(path: path)
        #expect(relativeError(try Executor(graph: reloaded).run(["x": x])["y"]!.floats, before.floats) <= 1e-5)
        // A second cle finds the bounded links and leaves the equalized sets as they are.
        let (again, secondReport) = try CrossLayerScaling().apply(scaled, options: TechniqueOptions())
        #expect(secondReport.changed.isEmpty && again.nodes.filter { $0.opType == "Min" }.count == 2, "\(secondReport)")
    }

    /// An explicit zero Pad between the ReLU6 and the depthwise conv (TF "same" padding) does not end the chain.
    @Test func scalingPassesAZeroPad() throws {
        let graph = Self.chain(seed: 17, explicitPad: true), x = Self.input(seed: 18)
        let before = try Executor(graph: graph).run(["x": x])["y"]!
        #expect(before.shape == [2, 4, 6, 6])
        let (scaled, report) = try CrossLayerScaling().apply(graph, options: TechniqueOptions())
        #expect(report.changed.contains { $0.hasPrefix("expand -> depthwise -> project") }, "\(report)")
        #expect(relativeError(try Executor(graph: scaled).run(["x": x])["y"]!.floats, before.floats) <= 1e-5)
        var withStatistics = scaled
        withStatistics.foldedStatistics["expand"] = BatchNormStatistics(gamma: [Float](repeating: 0.1, count: 6), beta: [Float](repeating: 2, count: 6))
        let (_, exact) = try HighBiasFold().apply(withStatistics, options: TechniqueOptions(flags: ["--exact"]))
        #expect(exact.skipped.contains { $0.hasPrefix("expand -> depthwise: depthwise pads its input") }, "\(exact)")
    }

    /// A Min whose constant is [C] broadcasts along the width, not the channels: not a channel bound, so no link.
    @Test func aBoundMustLieOnTheChannelAxis() throws {
        var graph = try CrossLayerScaling().apply(Self.chain(seed: 19), options: TechniqueOptions()).0
        #expect(LayerSets.find(graph).count == 1)
        for minimum in graph.nodes where minimum.opType == "Min" {
            graph.initializers[minimum.inputs[1]] = Tensor(shape: [6], floats: [Float](repeating: 6, count: 6))
        }
        #expect(LayerSets.find(graph).isEmpty)
    }

    @Test func highBiasFoldMovesTheBounds() throws {
        var graph = try CrossLayerScaling().apply(Self.chain(seed: 9), options: TechniqueOptions()).0
        let beta: [Float] = [0.5, 4, 9, 20, 2, 3], gamma: [Float] = [1, 0.5, 1, 1, 0.1, 2]
        graph.foldedStatistics["expand"] = BatchNormStatistics(gamma: gamma, beta: beta)
        graph.initializers["b0"]!.floats = beta
        let boundName = graph.nodes.first { $0.opType == "Min" }!.inputs[1]
        let upper = graph.initializers[boundName]!.floats
        let (folded, report) = try HighBiasFold().apply(graph, options: TechniqueOptions())
        #expect(report.changed.contains { $0.hasPrefix("expand -> depthwise: absorbed") }, "\(report)")
        for channel in 0..<6 {
            let c = min(max(0, beta[channel] - 3 * gamma[channel]), upper[channel])
            #expect(abs(folded.initializers["b0"]!.floats[channel] - (beta[channel] - c)) <= 1e-5 * max(1, beta[channel]))
            #expect(abs(folded.initializers[boundName]!.floats[channel] - (upper[channel] - c)) <= 1e-5 * max(1, upper[channel]))
            #expect(folded.initializers[boundName]!.floats[channel] >= 0)
        }
    }

    @Test func placementQuantizesAfterTheMinOnly() throws {
        let (scaled, _) = try CrossLayerScaling().apply(Self.chain(seed: 11), options: TechniqueOptions())
        let tensors = QuantizerPlacement.activationTensors(scaled, integerTensors: [])
        let relus = scaled.nodes.filter { $0.opType == "Relu" }.flatMap(\.outputs)
        #expect(tensors == ["x", "ra", "rd", "y"], "\(tensors)")
        #expect(relus.count == 2 && !relus.contains { tensors.contains($0) })
    }

    @Test func replaceOnlyWhereSixIsNeverReached() throws {
        var graph = Self.chain(seed: 13)
        graph.foldedStatistics["expand"] = BatchNormStatistics(gamma: [Float](repeating: 1, count: 6), beta: [Float](repeating: 1, count: 6))
        graph.foldedStatistics["depthwise"] = BatchNormStatistics(gamma: [Float](repeating: 1, count: 6), beta: [1, 1, 1, 1, 1, 3])
        let (result, report) = try ReplaceRelu6().apply(graph, options: TechniqueOptions(flags: ["--unreached"]))
        #expect(report.changed == ["clip0: ReLU6 -> ReLU"], "\(report)")
        #expect(report.skipped.first?.hasPrefix("clip1: kept, BatchNorm statistics say values above 6 occur (channel 5") == true, "\(report)")
        #expect(result.nodes.filter { $0.opType == "Clip" }.map(\.name) == ["clip1"])
    }

    @Test func dfqKeepsTheFunctionUnlessAskedForThePaper() throws {
        let graph = Self.chain(seed: 15), x = Self.input(seed: 16)
        let before = try Executor(graph: graph).run(["x": x])["y"]!
        let (chosen, report) = try DataFreeQuantization().apply(graph, options: TechniqueOptions())
        #expect(report.notes.first?.hasPrefix("ReLU6 replaced only where") == true, "\(report)")
        #expect(relativeError(try Executor(graph: chosen).run(["x": x])["y"]!.floats, before.floats) <= 1e-5)
        let (paper, paperReport) = try DataFreeQuantization().apply(graph, options: TechniqueOptions(flags: ["--paper"]))
        #expect(paperReport.changed.contains("[relu6-to-relu] clip0: ReLU6 -> ReLU"), "\(paperReport)")
        #expect(relativeError(try Executor(graph: paper).run(["x": x])["y"]!.floats, before.floats) > 1e-2)
    }

    /// Analytical bias correction reads a kept ReLU6 (Relu + Min) as the clipped normal with the channel's own bound:
    /// after scaling channel i by 1/s_i (its bound 6/s_i), E[x_i] is the unscaled expectation divided by s_i.
    @Test func analyticalExpectationFollowsTheChannelBounds() throws {
        var graph = Self.chain(seed: 21)
        graph.foldedStatistics["expand"] = BatchNormStatistics(gamma: [1, 0.5, 2, 1, 3, 0.2], beta: [0.5, 4, 9, -1, 2, 5.9])
        let layer = { (graph: Graph) in WeightLayer.all(in: graph).first { $0.name == "depthwise" }! }
        let before = try #require(AnalyticalExpectation.inputMean(of: layer(graph), graph))
        let scaled = try CrossLayerScaling().apply(graph, options: TechniqueOptions()).0
        let after = try #require(AnalyticalExpectation.inputMean(of: layer(scaled), scaled))
        let bounds = scaled.initializers[scaled.nodes.first { $0.opType == "Min" }!.inputs[1]]!.floats
        #expect(bounds.contains { abs($0 - 6) > 0.1 })
        for channel in 0..<6 {
            #expect(abs(after[channel] * 6 / bounds[channel] - before[channel]) <= 1e-4 * max(1, before[channel]))
        }
    }

    /// An excluded layer's group is Conv + Relu + Min: no quantizer on the Min either.
    @Test func anExcludedLayerTakesItsBoundAlong() throws {
        let (scaled, _) = try CrossLayerScaling().apply(Self.chain(seed: 23), options: TechniqueOptions())
        let tensors = QuantizerPlacement.activationTensors(scaled, integerTensors: [], excludedLayers: ["expand"])
        #expect(tensors == ["x", "rd", "y"], "\(tensors)")
    }

    /// Below opset 8 Min does not broadcast: the ReLU6 stays a Clip and ends the chain, and cle says so.
    @Test func noChannelBoundsBeforeOpset8() throws {
        var graph = Self.chain(seed: 25)
        graph.opsetVersion = 7
        let (scaled, report) = try CrossLayerScaling().apply(graph, options: TechniqueOptions())
        #expect(!scaled.nodes.contains { $0.opType == "Min" } && scaled.nodes.filter { $0.opType == "Clip" }.count == 2)
        #expect(report.notes.contains { $0.hasPrefix("opset 7: a ReLU6 ends a chain") }, "\(report)")
    }
}
