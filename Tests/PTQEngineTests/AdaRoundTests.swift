import Foundation
import Testing
@testable import PTQEngine

/// AdaRound's pieces against their definitions: the hand-written gradients against finite differences of the loss, the
/// rounding variables against the paper's formulas, and the whole pass on the bundled model.
@Suite struct AdaRoundTests {
    /// A problem with random cached inputs and targets (also returned as the model would produce them).
    func problem(_ shape: LayerReconstruction.Shape, activation: ReconstructionActivation, bias: Bool, samples: Int = 3,
                 seed: UInt64) -> (LayerReconstruction, [Float], inputs: [Float], targets: [Float]) {
        var random = SeededGenerator(seed: seed)
        let (outputs, weightCount): (Int, Int)
        switch shape {
        case .convolution(let g): (outputs, weightCount) = (g.outChannels, g.outChannels * g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth)
        case .linear(_, let inFeatures, let outFeatures, _): (outputs, weightCount) = (outFeatures, inFeatures * outFeatures)
        }
        // The layer's FP32 weight, and another weight at which the tests evaluate the loss.
        let reference = (0..<weightCount).map { _ in Float(random.normal()) * 0.5 }
        let problem = LayerReconstruction(shape: shape, weight: reference, bias: bias ? (0..<outputs).map { _ in Float(random.normal()) * 0.3 } : nil,
                                          activation: activation, samples: samples, batch: samples)
        let inputs = (0..<(samples * problem.inputSize)).map { _ in Float(random.normal()) }
        let targets = (0..<(samples * problem.outputSize)).map { _ in Float(random.normal()) + 0.5 }
        store(inputs, targets, in: problem)
        return (problem, (0..<weightCount).map { _ in Float(random.normal()) * 0.5 }, inputs, targets)
    }

    func store(_ inputs: [Float], _ targets: [Float], in problem: LayerReconstruction) {
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
                for sample in 0..<problem.samples {
                    problem.store(input: x.baseAddress! + sample * problem.inputSize, target: t.baseAddress! + sample * problem.outputSize, sample: sample)
                }
            }
        }
    }

    func loss(_ problem: LayerReconstruction, _ weight: [Float], batch: [Int]) -> Double {
        var scratch = [Float](repeating: 0, count: weight.count)
        return weight.withUnsafeBufferPointer { w in
            scratch.withUnsafeMutableBufferPointer { problem.gradient(weight: w.baseAddress!, batch: batch, into: $0.baseAddress!, measure: true)! }
        }
    }

    /// The gradient's projection on random directions equals the central difference of the loss along them.
    func checkGradient(_ shape: LayerReconstruction.Shape, activation: ReconstructionActivation, bias: Bool = true, seed: UInt64) {
        let (problem, weight, _, _) = problem(shape, activation: activation, bias: bias, seed: seed)
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

    /// The problem's loss against the executor's forward pass followed by the activation, and its gradient against the
    /// loss's finite differences and against dW by its definition (dL/dz at every output times the input each tap
    /// reads there), for any convolution.
    func checkAgainstDefinition(_ g: ConvolutionGeometry, _ activation: ReconstructionActivation, bias: Bool = true, seed: UInt64) {
        checkGradient(.convolution(g), activation: activation, bias: bias, seed: seed)
        let (problem, weight, inputs, targets) = problem(.convolution(g), activation: activation, bias: bias, seed: seed)
        let batch = [1, 2]
        let plane = g.outHeight * g.outWidth
        var expected = 0.0
        var output = [Float](repeating: 0, count: problem.outputSize)
        var expectedGradient = [Float](repeating: 0, count: weight.count)
        for sample in batch {
            output.withUnsafeMutableBufferPointer { out in
                problem.bias.withOptionalPointer { bias in
                    inputs.withUnsafeBufferPointer { input in
                        ConvolutionKernel.run(input: input.baseAddress! + sample * problem.inputSize, weight: weight, bias: bias,
                                              output: out.baseAddress!, geometry: g, activation: .none)
                    }
                }
            }
            for (offset, z) in output.enumerated() {
                let difference = Double(activation.apply(z, channel: offset / plane) - targets[sample * problem.outputSize + offset])
                expected += difference * difference / Double(batch.count * plane)
            }
            let input = inputs[(sample * problem.inputSize)...]
            for channel in 0..<g.outChannels {
                output.withUnsafeMutableBufferPointer { z in
                    targets.withUnsafeBufferPointer { t in
                        activation.gradient(z.baseAddress! + channel * plane, target: t.baseAddress! + sample * problem.outputSize + channel * plane,
                                            count: plane, channel: channel, scale: 1 / Float(batch.count * plane))
                    }
                }
                let firstInput = channel / g.outChannelsPerGroup * g.inChannelsPerGroup
                for inChannel in 0..<g.inChannelsPerGroup {
                    for kh in 0..<g.kernelHeight {
                        for kw in 0..<g.kernelWidth {
                            var sum: Float = 0
                            for oh in 0..<g.outHeight {
                                for ow in 0..<g.outWidth {
                                    let ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop
                                    let iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft
                                    guard ih >= 0 && ih < g.inHeight && iw >= 0 && iw < g.inWidth else { continue }
                                    sum += output[channel * plane + oh * g.outWidth + ow]
                                        * input[input.startIndex + ((firstInput + inChannel) * g.inHeight + ih) * g.inWidth + iw]
                                }
                            }
                            expectedGradient[((channel * g.inChannelsPerGroup + inChannel) * g.kernelHeight + kh) * g.kernelWidth + kw] += sum
                        }
                    }
                }
            }
        }
        var gradient = [Float](repeating: 0, count: weight.count)
        weight.withUnsafeBufferPointer { w in
            gradient.withUnsafeMutableBufferPointer { _ = problem.gradient(weight: w.baseAddress!, batch: batch, into: $0.baseAddress!, measure: false) }
        }
        let largest = expectedGradient.map(abs).max()!
        #expect(largest > 0)
        for (analytic, reference) in zip(gradient, expectedGradient) {
            #expect(abs(analytic - reference) <= 1e-5 * largest, "\(g) \(activation): \(analytic) vs \(reference)")
        }
        let measured = weight.withUnsafeBufferPointer { problem.gradient(weight: $0.baseAddress!, batch: batch, into: nil, measure: true)! }
        #expect(abs(measured - expected) <= 1e-5 * expected, "\(g) \(activation): \(measured) vs \(expected)")
    }

    func convolution(_ inChannels: Int, _ outChannels: Int, _ height: Int, _ width: Int, kernel: Int, stride: Int,
                     pads: (Int, Int, Int, Int), dilation: Int = 1, groups: Int = 1) -> ConvolutionGeometry {
        ConvolutionGeometry(batch: 1, inChannels: inChannels, inHeight: height, inWidth: width, outChannels: outChannels, kernelHeight: kernel,
                            kernelWidth: kernel, strideHeight: stride, strideWidth: stride, dilationHeight: dilation,
                            dilationWidth: dilation, padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3, groups: groups)
    }

    /// Depthwise layers take a kernel of their own (forward, loss and gradient fused), over kernel sizes, strides, odd
    /// sizes and uneven padding; a dilated kernel takes the plain path.
    @Test func depthwiseStepsMatchTheirDefinition() {
        func depthwise(_ channels: Int, _ height: Int, _ width: Int, kernel: Int, stride: Int, pads: (Int, Int, Int, Int),
                       dilation: Int = 1) -> ConvolutionGeometry {
            convolution(channels, channels, height, width, kernel: kernel, stride: stride, pads: pads, dilation: dilation, groups: channels)
        }
        checkAgainstDefinition(depthwise(3, 9, 11, kernel: 3, stride: 1, pads: (1, 1, 1, 1)), .clip(0, 6), seed: 20)
        checkAgainstDefinition(depthwise(2, 9, 10, kernel: 3, stride: 2, pads: (0, 0, 1, 1)), .relu, seed: 21)
        // Wide enough for the sixteen-column split of stride-2 rows.
        checkAgainstDefinition(depthwise(2, 7, 41, kernel: 3, stride: 2, pads: (1, 1, 1, 1)), .clip(0, 6), bias: false, seed: 26)
        checkAgainstDefinition(depthwise(3, 13, 7, kernel: 5, stride: 2, pads: (2, 2, 2, 2)), .sigmoid, seed: 22)
        checkAgainstDefinition(depthwise(2, 8, 8, kernel: 5, stride: 1, pads: (2, 1, 2, 3)), .channelBound([3, 4]), seed: 23)
        checkAgainstDefinition(depthwise(2, 20, 17, kernel: 3, stride: 1, pads: (1, 1, 1, 1)), .none, seed: 24)
        checkAgainstDefinition(depthwise(2, 9, 9, kernel: 3, stride: 1, pads: (2, 2, 2, 2), dilation: 2), .tanh, seed: 25)
    }

    /// Convolutions with no activation after them and K ≤ 3P take the loss as a quadratic from per-sample sums
    /// (`QuadraticReconstruction`); the others a forward pass and SGEMM.
    @Test func convolutionStepsMatchTheirDefinition() {
        // The last two have more positions than a block of the sums (256).
        let quadratic = [convolution(6, 4, 7, 9, kernel: 1, stride: 1, pads: (0, 0, 0, 0)),
                         convolution(3, 5, 11, 10, kernel: 3, stride: 1, pads: (1, 1, 1, 1)),
                         convolution(2, 3, 12, 13, kernel: 3, stride: 2, pads: (0, 1, 1, 0)),
                         convolution(5, 3, 20, 17, kernel: 1, stride: 1, pads: (0, 0, 0, 0)),
                         convolution(2, 3, 18, 19, kernel: 3, stride: 1, pads: (1, 1, 1, 1))]
        for (index, g) in quadratic.enumerated() {
            #expect(QuadraticReconstruction.applies(g, .none))
            checkAgainstDefinition(g, .none, bias: index != 1, seed: UInt64(30 + index))
        }
        let direct: [(ConvolutionGeometry, ReconstructionActivation)] = [
            (convolution(6, 4, 7, 9, kernel: 1, stride: 1, pads: (0, 0, 0, 0)), .clip(0, 6)),
            (convolution(100, 4, 5, 6, kernel: 1, stride: 1, pads: (0, 0, 0, 0)), .none),
            // K ≤ 3P, but its sums would take eleven times the floats of its input and target.
            (convolution(16, 16, 8, 8, kernel: 3, stride: 1, pads: (1, 1, 1, 1)), .none),
            (convolution(4, 6, 8, 7, kernel: 3, stride: 2, pads: (1, 1, 1, 1), groups: 2), .none),
        ]
        for (index, (g, activation)) in direct.enumerated() {
            #expect(!QuadraticReconstruction.applies(g, activation))
            checkAgainstDefinition(g, activation, seed: UInt64(43 + index))
        }
    }

    /// Near a fit, as at 8 bits (targets the FP32 weight's outputs plus noise of 1e-4, the loss taken 1e-3 away from
    /// that weight), the quadratic form keeps the loss's digits: it equals the direct loss, summed in Double from the
    /// executor's forward pass, to 1e-3 (written around zero rather than the FP32 weight it was off by 3e-3 here, and by
    /// more the closer the fit).
    @Test func quadraticLossKeepsItsDigitsNearAFit() {
        let g = convolution(24, 8, 16, 16, kernel: 1, stride: 1, pads: (0, 0, 0, 0))
        var random = SeededGenerator(seed: 50)
        let samples = 4
        let weight = (0..<(8 * 24)).map { _ in Float(random.normal()) * 0.3 }, bias = (0..<8).map { _ in Float(random.normal()) }
        let problem = LayerReconstruction(shape: .convolution(g), weight: weight, bias: bias, activation: .none, samples: samples, batch: samples)
        let inputs = (0..<(samples * problem.inputSize)).map { _ in Float(random.normal()) + 1 }
        func forward(_ weight: [Float], sample: Int) -> [Float] {
            var output = [Float](repeating: 0, count: problem.outputSize)
            output.withUnsafeMutableBufferPointer { out in
                inputs.withUnsafeBufferPointer { x in
                    ConvolutionKernel.run(input: x.baseAddress! + sample * problem.inputSize, weight: weight, bias: bias, output: out.baseAddress!,
                                          geometry: g, activation: .none)
                }
            }
            return output
        }
        let targets = (0..<samples).flatMap { forward(weight, sample: $0) }.map { $0 + Float(random.normal()) * 1e-4 }
        store(inputs, targets, in: problem)
        let learnt = weight.map { $0 + Float(random.normal()) * 1e-3 }
        var expected = 0.0
        for sample in 0..<samples {
            for (offset, z) in forward(learnt, sample: sample).enumerated() {
                let difference = Double(z) - Double(targets[sample * problem.outputSize + offset])
                expected += difference * difference
            }
        }
        expected /= Double(samples * g.outHeight * g.outWidth)
        let measured = learnt.withUnsafeBufferPointer { problem.gradient(weight: $0.baseAddress!, batch: Array(0..<samples), into: nil, measure: true)! }
        #expect(QuadraticReconstruction.applies(g, .none))
        #expect(abs(measured - expected) <= 1e-3 * expected, "\(measured) vs \(expected)")
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
