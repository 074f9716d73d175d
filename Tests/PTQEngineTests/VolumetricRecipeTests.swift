import Testing
@testable import PTQEngine

/// cle and high-bias-fold on audio (1-D) and video (3-D) convolutions: the channel arithmetic does not
/// depend on the number of spatial axes, so a conv → relu → depthwise → relu → conv chain is one triplet,
/// the function is kept, and each layer's channel ranges come out equal (the paper's fixed point).
@Suite struct VolumetricRecipeTests {
    /// conv (3 → 6 channels) → Relu → depthwise (6) → Relu → conv (6 → 4), kernel 3 and pads 1 on every axis.
    func chain(spatialAxes: Int, generator: inout SeededGenerator) -> Graph {
        let kernel = [Int](repeating: 3, count: spatialAxes), pads = [Int](repeating: 1, count: 2 * spatialAxes)
        func tensor(_ shape: [Int], spread: Bool = false) -> Tensor {
            let count = shape.reduce(1, *), perChannel = count / shape[0]
            return Tensor(shape: shape, floats: (0..<count).map { index in
                // Channel ranges that differ by up to 20x, as after BatchNorm folding.
                Float(generator.normal()) * (spread ? Float(1 + (index / perChannel) * 4) : 1)
            })
        }
        let attributes: [String: Attribute] = ["kernel_shape": .ints(kernel), "pads": .ints(pads)]
        var depthwise = attributes
        depthwise["group"] = .int(6)
        let graph = Graph(nodes: [
            Node(name: "expand", opType: "Conv", inputs: ["x", "w0", "b0"], outputs: ["a"], attributes: attributes),
            Node(name: "relu0", opType: "Relu", inputs: ["a"], outputs: ["ra"]),
            Node(name: "depthwise", opType: "Conv", inputs: ["ra", "w1", "b1"], outputs: ["d"], attributes: depthwise),
            Node(name: "relu1", opType: "Relu", inputs: ["d"], outputs: ["rd"]),
            Node(name: "project", opType: "Conv", inputs: ["rd", "w2", "b2"], outputs: ["y"], attributes: attributes),
        ], initializers: [
            "w0": tensor([6, 3] + kernel, spread: true), "b0": tensor([6]),
            "w1": tensor([6, 1] + kernel, spread: true), "b1": tensor([6]),
            "w2": tensor([4, 6] + kernel), "b2": tensor([4]),
        ], inputs: [ValueInfo(name: "x", shape: [nil, 3] + [Int?](repeating: 5, count: spatialAxes))],
           outputs: [ValueInfo(name: "y", shape: [nil, 4] + [Int?](repeating: 5, count: spatialAxes))])
        return graph
    }

    @Test(arguments: [1, 3])
    func tripletIsEqualizedAndTheFunctionKept(_ spatialAxes: Int) throws {
        var generator = SeededGenerator(seed: UInt64(40 + spatialAxes))
        let graph = chain(spatialAxes: spatialAxes, generator: &generator)
        let shape = [2, 3] + [Int](repeating: 5, count: spatialAxes)
        let x = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float(generator.normal()) })
        let before = try Executor(graph: graph).run(["x": x])["y"]!
        let (scaled, report) = try CrossLayerScaling().apply(graph, options: TechniqueOptions(values: ["--iterations": "20"]))
        #expect(report.changed.count == 1 && report.changed[0].hasPrefix("expand -> depthwise -> project"), "\(report)")
        let after = try Executor(graph: scaled).run(["x": x])["y"]!
        #expect(relativeError(after.floats, before.floats) <= 1e-5)
        // At the fixed point the three layers' ranges per channel are equal (r0 = rdw = r2 for every channel).
        let r0 = CrossLayerScaling.ranges(scaled.initializers["w0"]!, axis: 0)
        let r1 = CrossLayerScaling.ranges(scaled.initializers["w1"]!, axis: 0)
        let r2 = CrossLayerScaling.ranges(scaled.initializers["w2"]!, axis: 1)
        for channel in 0..<6 {
            #expect(abs(r0[channel] - r1[channel]) <= 1e-3 * r0[channel] && abs(r1[channel] - r2[channel]) <= 1e-3 * r1[channel])
        }
    }

    /// With BatchNorm statistics kept for the first layer, the high bias moves into the depthwise layer's bias.
    @Test(arguments: [1, 3])
    func highBiasIsAbsorbed(_ spatialAxes: Int) throws {
        var generator = SeededGenerator(seed: UInt64(50 + spatialAxes))
        var graph = chain(spatialAxes: spatialAxes, generator: &generator)
        graph.foldedStatistics["expand"] = BatchNormStatistics(gamma: [Float](repeating: 0.5, count: 6),
                                                            beta: graph.initializers["b0"]!.floats.map { abs($0) + 3 })
        graph.initializers["b0"]!.floats = graph.foldedStatistics["expand"]!.beta
        let (absorbed, report) = try HighBiasFold().apply(graph, options: TechniqueOptions())
        #expect(report.changed.contains { $0.hasPrefix("expand -> depthwise: absorbed 6 of 6 channels") }, "\(report)")
        #expect(absorbed.initializers["b0"]!.floats.allSatisfy { abs($0 - 1.5) < 1e-5 })  // beta - 3|gamma| left
    }
}
