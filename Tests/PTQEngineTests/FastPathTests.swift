import Foundation
import Testing
@testable import PTQEngine

/// The speed issue's fast paths against the plain definitions they replace.
@Suite struct FastPathTests {
    /// exp, sigmoid and erf without libm: within a few ulp of libm over the range activations take.
    @Test func vectorMathMatchesLibm() {
        for step in 0...4000 {
            let x = Float(step - 2000) / 100  // -20 ... 20
            #expect(abs(VectorMath.exp(x) - expf(x)) <= 4 * expf(x).ulp, "exp(\(x))")
            #expect(abs(VectorMath.sigmoid(x) - 1 / (1 + expf(-x))) <= 2e-7, "sigmoid(\(x))")
            #expect(abs(VectorMath.erf(x) - erff(x)) <= 3e-7, "erf(\(x))")
        }
        // Far outside: saturated, never NaN or infinite.
        #expect(VectorMath.sigmoid(-1000) == 0 || VectorMath.sigmoid(-1000) < 1e-37)
        #expect(VectorMath.sigmoid(1000) == 1 && VectorMath.exp(-1000) >= 0 && VectorMath.exp(1000).isFinite)
    }

    /// The pointwise ops read one buffer and write another, split in blocks over the threads: every element
    /// equals the scalar definition, across block edges.
    @Test func pointwiseOpsMatchTheirDefinitions() throws {
        let count = 3 * VectorMath.parallelThreshold + 17
        let x = Tensor(shape: [1, count], floats: (0..<count).map { Float(($0 * 7919) % 2001 - 1000) / 97 })
        let node = Node(name: "act", opType: "HardSigmoid", inputs: ["x"], outputs: ["y"], attributes: ["alpha": .float(0.25), "beta": .float(0.4)])
        let hardSigmoid = try ActivationOperators.vectorMap(node, [x], .hardSigmoid(0.25, 0.4))
        let gelu = try ActivationOperators.vectorMap(node, [x], .gelu)
        for index in stride(from: 0, to: count, by: 101) {
            let v = x.floats[index]
            #expect(hardSigmoid.floats[index] == min(max(0.25 * v + 0.4, 0), 1))
            #expect(abs(gelu.floats[index] - 0.5 * v * (1 + erff(v * 0.7071067811865476))) <= 3e-7 * max(1, abs(v)))
        }
    }

    /// A 1×1 conv on a 3×3 plane at batch 1 splits its output channels between the threads: the same
    /// values as the batch of two, which splits by image.
    @Test func smallPlaneAtBatchOneSplitsChannels() throws {
        let x = Tensor(shape: [2, 8, 3, 3], floats: (0..<144).map { Float(($0 * 31) % 17) - 8 })
        let w = Tensor(shape: [40, 8, 1, 1], floats: (0..<320).map { Float(($0 * 13) % 11) / 10 - 0.5 })
        let b = Tensor(shape: [40], floats: (0..<40).map { Float($0) / 40 })
        let node = Node(name: "pw", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"])
        let pair = try ConvolutionOperators.conv(node, [x, w, b], activation: .none, winograd: nil)
        let single = try ConvolutionOperators.conv(node, [Tensor(shape: [1, 8, 3, 3], floats: Array(x.floats[..<72])), w, b],
                                                   activation: .none, winograd: nil)
        #expect(single.floats == Array(pair.floats[..<360]))
    }

    /// Slice and Transpose copy runs directly: the same as indexing element by element.
    @Test func sliceAndTransposeCopyRuns() throws {
        let x = Tensor(shape: [2, 6, 4, 5], floats: (0..<240).map { Float($0) })
        let slice = Node(name: "half", opType: "Slice", inputs: ["x", "s", "e", "a", "t"], outputs: ["y"])
        let y = try IndexingOperators.slice(slice, [x, Tensor(shape: [2], integers: [3, 1]), Tensor(shape: [2], integers: [6, 5]),
                                                   Tensor(shape: [2], integers: [1, 3]), Tensor(shape: [2], integers: [1, 2])], opset: 13)
        #expect(y.shape == [2, 3, 4, 2])
        #expect(y.floats[0] == x.floats[3 * 20 + 1] && y.floats[1] == x.floats[3 * 20 + 3] && y.floats.last == x.floats[1 * 120 + 5 * 20 + 3 * 5 + 3])
        let t = ShapeOperators.transpose(x, [0, 2, 3, 1])
        #expect(t.shape == [2, 4, 5, 6] && t.floats[1] == x.floats[20] && t.floats[6] == x.floats[1])
    }

    /// GlobalAveragePool sums eight planes side by side: each mean has the bits of a plain sequential sum.
    @Test func globalAverageKeepsSequentialSums() throws {
        let (planes, plane) = (2 * 13, 49)
        let x = Tensor(shape: [2, 13, 7, 7], floats: (0..<(planes * plane)).map { Float(($0 * 7919) % 1009) / 37 - 13 })
        let node = Node(name: "gap", opType: "GlobalAveragePool", inputs: ["x"], outputs: ["y"])
        let y = try PoolingOperators.global(node, [x], maximum: false)
        #expect(y.shape == [2, 13, 1, 1])
        for index in 0..<planes {
            var sum: Float = 0
            for offset in 0..<plane { sum += x.floats[index * plane + offset] }
            #expect(y.floats[index] == sum / Float(plane), "plane \(index)")
        }
    }
}
