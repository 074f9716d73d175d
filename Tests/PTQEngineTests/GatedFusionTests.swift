import Testing
@testable import PTQEngine

/// Gated activations (x · gate(x)) fused into the Conv before them, in runs that observe only outputs:
/// the same bits as the unfused ops, and never where a tensor in between must stay observable.
@Suite struct GatedFusionTests {
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 + seed) * 7919) % 1999 - 999) / 333 }
    }

    /// Conv (of the given shape) → gate → Mul, or → HardSwish.
    static func graph(gate: String, group: Int = 1, kernel: Int = 3, stride: Int = 1, productFirst: Bool = false,
                      gateIsOutput: Bool = false) -> Graph {
        let channels = 6
        var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["t"],
                          attributes: ["group": .int(group), "strides": .ints([stride, stride]),
                                       "pads": .ints([kernel / 2, kernel / 2, kernel / 2, kernel / 2])])]
        if gate == "HardSwish" {
            nodes.append(Node(name: "act", opType: "HardSwish", inputs: ["t"], outputs: ["y"]))
        } else {
            let attributes: [String: Attribute] = gate == "HardSigmoid" ? ["alpha": .float(1 / 6), "beta": .float(0.5)] : [:]
            nodes.append(Node(name: "gate", opType: gate, inputs: ["t"], outputs: ["s"], attributes: attributes))
            nodes.append(Node(name: "product", opType: "Mul", inputs: productFirst ? ["s", "t"] : ["t", "s"], outputs: ["y"]))
        }
        let weightCount = channels * (channels / group) * kernel * kernel
        var outputs = [ValueInfo(name: "y", shape: [])]
        if gateIsOutput { outputs.append(ValueInfo(name: "s", shape: [])) }
        return Graph(nodes: nodes,
                     initializers: ["w": Tensor(shape: [channels, channels / group, kernel, kernel], floats: values(weightCount, seed: 1).map { $0 / 4 }),
                                    "b": Tensor(shape: [channels], floats: values(channels, seed: 2))],
                     inputs: [ValueInfo(name: "x", shape: [nil, channels, 11, 11])], outputs: outputs, opsetVersion: 14)
    }

    @Test(arguments: [
        ("HardSigmoid", 1, 3, 2, false), ("Sigmoid", 6, 5, 1, true), ("Sigmoid", 6, 5, 2, false),
        ("HardSwish", 1, 1, 1, false), ("HardSigmoid", 6, 3, 1, true), ("Sigmoid", 1, 3, 1, false),
    ] as [(String, Int, Int, Int, Bool)])
    func fusedEqualsUnfused(gate: String, group: Int, kernel: Int, stride: Int, productFirst: Bool) throws {
        let graph = Self.graph(gate: gate, group: group, kernel: kernel, stride: stride, productFirst: productFirst)
        let executor = try Executor(graph: graph)
        #expect(executor.outputPlan.steps.count == 1, "the gate is fused into the Conv")
        #expect(executor.observedPlan.steps.count == (gate == "HardSwish" ? 2 : 3), "observing runs see every tensor")
        let x = Tensor(shape: [1, 6, 11, 11], floats: Self.values(726, seed: 3))
        let fused = try executor.run(["x": x])["y"]!
        var seen: [String] = []
        let unfused = try executor.run(["x": x]) { name, _ in seen.append(name) }["y"]!
        #expect(seen.contains("t"))
        #expect(fused == unfused)
        #expect(fused.floats.contains { $0 < 0 } && fused.floats.contains { $0 > 1 })
    }

    @Test func observedTensorsAreNotFusedAway() throws {
        let exposed = try Executor(graph: Self.graph(gate: "Sigmoid", gateIsOutput: true))
        #expect(exposed.outputPlan.steps.count == 3)
        let encoding = Encoding(minimum: -4, maximum: 4, bitwidth: 8, symmetric: false, strict: false)
        let quantized = try Executor(graph: Self.graph(gate: "HardSigmoid"), activationEncodings: ["t": encoding])
        #expect(quantized.outputPlan.steps.count == 3)
        let unfusedEverywhere = try Executor(graph: Self.graph(gate: "Sigmoid"), fuseActivations: false)
        #expect(unfusedEverywhere.outputPlan.steps.count == 3)
    }

    /// Gemm's A·Bᵀ as dot products: each row the same bits alone as in a batch, and the sums right.
    @Test func linearRowsKeepTheirBitsInABatch() throws {
        let (m, n, k) = (5, 23, 70)
        let a = Tensor(shape: [m, k], floats: Self.values(m * k, seed: 4))
        let b = Tensor(shape: [n, k], floats: Self.values(n * k, seed: 5))
        let c = Tensor(shape: [n], floats: Self.values(n, seed: 6))
        let node = Node(name: "fc", opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"], attributes: ["transB": .int(1), "alpha": .float(0.5)])
        let batch = try LinearOperators.gemm(node, [a, b, c])
        for row in 0..<m {
            let single = try LinearOperators.gemm(node, [Tensor(shape: [1, k], floats: Array(a.floats[(row * k)..<((row + 1) * k)])), b, c])
            #expect(single.floats == Array(batch.floats[(row * n)..<((row + 1) * n)]))
            for column in 0..<n {
                let exact = (0..<k).reduce(0.0) { $0 + Double(a.floats[row * k + $1]) * Double(b.floats[column * k + $1]) } * 0.5
                    + Double(c.floats[column])
                #expect(abs(Double(single.floats[column]) - exact) <= 1e-4 * max(1, abs(exact)))
            }
        }
    }
}
