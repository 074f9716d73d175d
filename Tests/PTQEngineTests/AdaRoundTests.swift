import Foundation
import Testing
@testable import PTQEngine

/// AdaRound's pieces against their definitions: the hand-written gradients against finite differences of the loss, the
/// rounding variables against the paper's formulas, and the whole pass on the bundled model.
@Suite struct AdaRoundTests {
    /// A problem with random cached inputs and targets.
    func problem(_ shape: LayerReconstruction.Shape, activation: ReconstructionActivation, bias: Bool, samples: Int = 3,
                 seed: UInt64) -> (LayerReconstruction, [Float]) {
        var random = SeededGenerator(seed: seed)
        let outputs: Int
        switch shape {
        case .convolution(let g): outputs = g.outChannels
        case .linear(_, _, let outFeatures, _): outputs = outFeatures
        }
        let problem = LayerReconstruction(shape: shape, bias: bias ? (0..<outputs).map { _ in Float(random.normal()) * 0.3 } : nil,
                                          activation: activation, samples: samples, batch: samples)
        for index in 0..<(samples * problem.inputSize) { problem.inputs[index] = Float(random.normal()) }
        for index in 0..<(samples * problem.outputSize) { problem.targets[index] = Float(random.normal()) + 0.5 }
        return (problem, (0..<problem.weightCount).map { _ in Float(random.normal()) * 0.5 })
    }

    func loss(_ problem: LayerReconstruction, _ weight: [Float], batch: [Int]) -> Double {
        var scratch = [Float](repeating: 0, count: weight.count)
        return weight.withUnsafeBufferPointer { w in
            scratch.withUnsafeMutableBufferPointer { problem.gradient(weight: w.baseAddress!, batch: batch, into: $0.baseAddress!, measure: true)! }
        }
    }

    /// The gradient's projection on random directions equals the central difference of the loss along them.
    func checkGradient(_ shape: LayerReconstruction.Shape, activation: ReconstructionActivation, bias: Bool = true, seed: UInt64) {
        let (problem, weight) = problem(shape, activation: activation, bias: bias, seed: seed)
        let batch = [2, 0]
        var gradient = [Float](repeating: 0, count: weight.count)
        weight.withUnsafeBufferPointer { w in
            gradient.withUnsafeMutableBufferPointer { _ = problem.gradient(weight: w.baseAddress!, batch: batch, into: $0.baseAddress!, measure: false) }
        }
        #expect(gradient.contains { $0 != 0 })
        var random = SeededGenerator(seed: seed &+ 100)
        for _ in 0..<3 {
            let direction = (0..<weight.count).map { _ in Float(random.normal()) }
            let step: Float = 3e-4
            let plus = loss(problem, zip(weight, direction).map { $0 + step * $1 }, batch: batch)
            let minus = loss(problem, zip(weight, direction).map { $0 - step * $1 }, batch: batch)
            let numeric = (plus - minus) / Double(2 * step)
            let analytic = zip(gradient, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            // 1% and a little float noise (the step is small so that few outputs cross a Relu or Clip kink).
            #expect(abs(numeric - analytic) <= 0.01 * abs(analytic) + 1e-3, "\(shape) \(activation): \(numeric) vs \(analytic)")
        }
    }

    func geometry(channels: Int, outputs: Int, kernel: Int, stride: Int, pad: Int, groups: Int, size: Int = 7) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: 1, inChannels: channels, inHeight: size, inWidth: size + 1, outChannels: outputs, kernelHeight: kernel,
                            kernelWidth: kernel, strideHeight: stride, strideWidth: stride, dilationHeight: 1, dilationWidth: 1,
                            padTop: pad, padLeft: pad, padBottom: pad, padRight: pad, groups: groups)
    }

    @Test func convolutionGradientsMatchFiniteDifferences() {
        checkGradient(.convolution(geometry(channels: 4, outputs: 6, kernel: 3, stride: 2, pad: 1, groups: 1)), activation: .relu, seed: 1)
        checkGradient(.convolution(geometry(channels: 4, outputs: 6, kernel: 3, stride: 1, pad: 1, groups: 2)), activation: .clip(0, 1), seed: 2)
        checkGradient(.convolution(geometry(channels: 5, outputs: 5, kernel: 3, stride: 1, pad: 1, groups: 5)), activation: .none, seed: 3)
        checkGradient(.convolution(geometry(channels: 5, outputs: 5, kernel: 3, stride: 2, pad: 1, groups: 5)), activation: .clip(0, 6), seed: 4)
        checkGradient(.convolution(geometry(channels: 6, outputs: 3, kernel: 1, stride: 1, pad: 0, groups: 1)), activation: .none,
                      bias: false, seed: 5)
        checkGradient(.convolution(geometry(channels: 3, outputs: 4, kernel: 1, stride: 1, pad: 0, groups: 1)),
                      activation: .channelBound([0.5, 1, 2, 0.2]), seed: 6)
    }

    @Test func linearGradientsMatchFiniteDifferences() {
        checkGradient(.linear(rows: 1, inFeatures: 7, outFeatures: 5, transposedWeight: true), activation: .relu, seed: 7)
        checkGradient(.linear(rows: 1, inFeatures: 7, outFeatures: 5, transposedWeight: false), activation: .none, seed: 8)
        checkGradient(.linear(rows: 3, inFeatures: 4, outFeatures: 6, transposedWeight: false), activation: .sigmoid, bias: false, seed: 9)
        checkGradient(.linear(rows: 2, inFeatures: 4, outFeatures: 3, transposedWeight: true), activation: .tanh, seed: 10)
        checkGradient(.linear(rows: 2, inFeatures: 4, outFeatures: 3, transposedWeight: false), activation: .channelBound([0.3, 1, 2]), seed: 11)
    }

    /// h(V₀) is the fractional part of W/s, so the soft weight starts at W; hard rounding lands on a grid point next to W.
    @Test func variablesStartAtTheWeightAndEndOnTheGrid() {
        var random = SeededGenerator(seed: 12)
        let weight = Tensor(shape: [3, 2, 2, 2], floats: (0..<24).map { _ in Float(random.normal()) })
        let ranges = FakeQuantization.channelRanges(weight, axis: 0)
        for encodings in [[Encoding(minimum: -1.5, maximum: 1.5, bitwidth: 4, symmetric: true)],
                          ranges.map { Encoding(minimum: $0.0, maximum: $0.1, bitwidth: 3, symmetric: false) }] {
            let variables = AdaRoundVariables(weight: weight, encodings: encodings, axis: 0)
            var soft = [Float](repeating: 0, count: 24)
            soft.withUnsafeMutableBufferPointer { variables.softWeight(into: $0.baseAddress!) }
            let hard = variables.hardWeight()
            var nearest = weight
            FakeQuantization.apply(&nearest, encodings, axis: 0)
            for index in 0..<24 {
                let encoding = encodings.count == 1 ? encodings[0] : encodings[index / 8]
                let clamped = min(max(weight.floats[index], encoding.minimum), encoding.maximum)
                #expect(abs(soft[index] - clamped) <= 1e-5 * max(1, abs(clamped)), "soft \(soft[index]) vs \(clamped)")
                #expect(encoding.quantizeDequantize(hard[index]) == hard[index])
                #expect(abs(hard[index] - clamped) <= encoding.scale * 1.0001)
                // Untrained, V ≥ 0 exactly when the fraction is at least ½: rounding to nearest.
                #expect(hard[index] == nearest.floats[index])
            }
        }
    }

    @Test func betaFollowsAIMETsSchedule() {
        #expect(AdaRoundVariables.beta(iteration: 0, iterations: 1000, warmStart: 0.2) == nil)
        #expect(AdaRoundVariables.beta(iteration: 199, iterations: 1000, warmStart: 0.2) == nil)
        #expect(AdaRoundVariables.beta(iteration: 200, iterations: 1000, warmStart: 0.2) == 20)
        #expect(abs(AdaRoundVariables.beta(iteration: 600, iterations: 1000, warmStart: 0.2)! - 11) < 1e-9)
        #expect(abs(AdaRoundVariables.beta(iteration: 1000, iterations: 1000, warmStart: 0.2)! - 2) < 1e-9)
    }

    @Test func logMatchesFoundation() {
        for value: Float in [1e-30, 1e-7, 0.001, 0.25, 0.5, 0.70710677, 0.7071068, 0.9, 0.999999, 1, 3, 1e6] {
            let expected = Foundation.log(value)
            #expect(abs(VectorMath.log(value) - expected) <= 2 * expected.ulp.magnitude + 1e-7, "log \(value)")
        }
    }
}
