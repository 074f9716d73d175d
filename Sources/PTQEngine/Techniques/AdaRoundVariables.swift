import Foundation

/// The rounding variables of one layer's weight in AdaRound (Nagel et al., ICML 2020), and their Adam optimizer.
///
/// With the weight's frozen grid (scale s, offset o, n steps; per tensor or per output channel):
/// - h(V) = clamp(σ(V)·(ζ − γ) + γ, 0, 1), the rectified sigmoid, ζ = 1.1, γ = −0.1;
/// - W̃ = s·(clamp(⌊W/s⌋ + h(V) − o, 0, n) + o), the soft-rounded weight (o is AIMET's −z);
/// - V starts where h(V) = W/s − ⌊W/s⌋, so the soft weight starts at W (inside the grid);
/// - the rounding regulariser is λ·Σ(1 − |2h(V) − 1|^β), off during the warm start;
/// - at the end h is hard: 1 where V ≥ 0, else 0, so W̃ sits on a grid point next to W (up or down).
/// dL/dV = dL/dW̃ · s · [0 ≤ ⌊W/s⌋ + h − o ≤ n] · dh/dV + λ·dReg/dh · dh/dV, with dh/dV = (ζ − γ)·σ(V)(1 − σ(V)) where
/// 0 ≤ σ(V)(ζ − γ) + γ ≤ 1 and 0 outside (torch's clamp passes the gradient at its bounds, so the bounds count as inside).
/// Adam as torch's defaults (β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected), the learning rate AIMET's 1e-3.
struct AdaRoundVariables {
    static let zeta: Float = 1.1, gamma: Float = -0.1

    /// ⌊W/s⌋ − o for each weight element, and each element's scale, offset and top step.
    private(set) var floors: [Float]
    private(set) var scales: [Float]
    private var offsets: [Float]
    private var tops: [Float]
    private(set) var values: [Float]
    private var firstMoment: [Float], secondMoment: [Float]
    private var step = 0
    let learningRate: Float

    /// Variables for `weight` on the grids of `encodings` (one, or one per slice of `axis`).
    init(weight: Tensor, encodings: [Encoding], axis: Int, learningRate: Float = 1e-3) {
        let count = weight.count
        var scales = [Float](repeating: 0, count: count), offsets = scales, tops = scales
        if encodings.count == 1 {
            scales = [Float](repeating: encodings[0].scale, count: count)
            offsets = [Float](repeating: Float(encodings[0].offset), count: count)
            tops = [Float](repeating: Float(encodings[0].levels), count: count)
        } else {
            weight.forEachChannelRun(axis: axis) { channel, run in
                for index in run {
                    scales[index] = encodings[channel].scale
                    offsets[index] = Float(encodings[channel].offset)
                    tops[index] = Float(encodings[channel].levels)
                }
            }
        }
        var floors = [Float](repeating: 0, count: count), values = floors
        for index in 0..<count {
            let ratio = weight.floats[index] / scales[index]
            let floor = ratio.rounded(.down)
            floors[index] = floor - offsets[index]
            let fraction = ratio - floor
            // h(V) = fraction: σ(V) = (fraction − γ)/(ζ − γ), V = −log((ζ − γ)/(fraction − γ) − 1).
            values[index] = -Foundation.log((Self.zeta - Self.gamma) / (fraction - Self.gamma) - 1)
        }
        self.floors = floors
        self.scales = scales
        self.offsets = offsets
        self.tops = tops
        self.values = values
        self.firstMoment = [Float](repeating: 0, count: count)
        self.secondMoment = firstMoment
        self.learningRate = learningRate
    }

    var count: Int { values.count }

    /// The soft-rounded weight W̃ for the current V, split over the worker threads.
    func softWeight(into weight: UnsafeMutablePointer<Float>) {
        let (zeta, gamma) = (Self.zeta, Self.gamma)
        let count = values.count, target = SendablePointer(weight)
        floors.withUnsafeBufferPointer { floors in
            scales.withUnsafeBufferPointer { scales in
                offsets.withUnsafeBufferPointer { offsets in
                    tops.withUnsafeBufferPointer { tops in
                        values.withUnsafeBufferPointer { values in
                            let (f, s, o, t, v) = (SendablePointer(UnsafeMutablePointer(mutating: floors.baseAddress!)),
                                                   SendablePointer(UnsafeMutablePointer(mutating: scales.baseAddress!)),
                                                   SendablePointer(UnsafeMutablePointer(mutating: offsets.baseAddress!)),
                                                   SendablePointer(UnsafeMutablePointer(mutating: tops.baseAddress!)),
                                                   SendablePointer(UnsafeMutablePointer(mutating: values.baseAddress!)))
                            Self.forEachBlock(count) { range in
                                let (f, s, o, t, v, w) = (f.pointer, s.pointer, o.pointer, t.pointer, v.pointer, target.pointer)
                                for index in range {
                                    // Ternaries rather than min/max (which order NaNs), so the loop vectorizes.
                                    let stretched = VectorMath.sigmoid(v[index]) * (zeta - gamma) + gamma
                                    let h = stretched < 0 ? 0 : (stretched > 1 ? 1 : stretched)
                                    let q = f[index] + h, top = t[index]
                                    w[index] = ((q < 0 ? 0 : (q > top ? top : q)) + o[index]) * s[index]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` over 0..<count in fixed blocks split over the worker threads (one thread when small).
    static func forEachBlock(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let block = 16_384
        Parallel.forEachRange((count + block - 1) / block) { blocks in
            body((blocks.lowerBound * block)..<min(count, blocks.upperBound * block))
        }
    }

    /// The weight with h made hard (1 where V ≥ 0): the learnt grid points.
    func hardWeight() -> [Float] {
        (0..<values.count).map { index in
            let q = min(max(floors[index] + (values[index] >= 0 ? 1 : 0), 0), tops[index])
            return (q + offsets[index]) * scales[index]
        }
    }

    /// One Adam step on V from the gradient of the reconstruction loss with respect to W̃ (`weightGradient`, overwritten), plus the
    /// regulariser λ·Σ(1 − |2h − 1|^β) when `regularization` is given as (λ, β). Split over the worker threads in
    /// fixed blocks, so the result does not depend on the core count.
    mutating func step(weightGradient: UnsafeMutablePointer<Float>, regularization: (lambda: Float, beta: Float)?) {
        step += 1
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        let stepSize = learningRate / correction1, rootCorrection2 = correction2.squareRoot()
        let (lambda, exponent) = regularization ?? (0, 2)
        let regularize = regularization != nil
        let count = values.count
        let gradients = SendablePointer(weightGradient)
        let floors = SendablePointer(self.floors.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let scales = SendablePointer(self.scales.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let tops = SendablePointer(self.tops.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let values = SendablePointer(self.values.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let m = SendablePointer(firstMoment.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let v = SendablePointer(secondMoment.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let constants = AdamConstants(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize, rootCorrection2: rootCorrection2,
                                      lambda: lambda, exponent: exponent)
        Self.forEachBlock(count) { range in
            Self.update(range, gradients.pointer, floors.pointer, scales.pointer, tops.pointer, values.pointer, m.pointer, v.pointer,
                        constants, regularize: regularize)
        }
    }

    struct AdamConstants {
        var beta1, beta2, epsilon, stepSize, rootCorrection2, lambda, exponent: Float
    }

    /// The Adam step on V over `range`, in two loops: dL/dV into `g` (in place), then Adam. Each is a function of its
    /// own over few pointers, with selects rather than min/max/abs/`&&` and the regulariser's branch outside the loop:
    /// one loop over seven pointers needed more overlap checks than LLVM makes and stayed scalar.
    @inline(never)
    static func update(_ range: Range<Int>, _ g: UnsafeMutablePointer<Float>, _ f: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>,
                       _ t: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>, _ c: AdamConstants, regularize: Bool) {
        if regularize {
            regularizedGradient(range, g, f, s, t, x, lambda: c.lambda, exponent: c.exponent)
        } else {
            reconstructionGradient(range, g, f, s, t, x)
        }
        adam(range, g, x, m, v, c)
    }

    /// h(V) and dh/dV (0 where the clamp holds h at 0 or 1; torch passes the gradient at the bounds themselves).
    @inline(__always)
    static func rectified(_ value: Float) -> (h: Float, slope: Float) {
        let sigma = VectorMath.sigmoid(value)
        let stretched = sigma * (zeta - gamma) + gamma
        let h = stretched < 0 ? 0 : (stretched > 1 ? 1 : stretched)
        return (h, (stretched >= 0 ? (zeta - gamma) * sigma : 0) * (stretched <= 1 ? 1 - sigma : 0))
    }

    @inline(never)
    static func reconstructionGradient(_ range: Range<Int>, _ g: UnsafeMutablePointer<Float>, _ f: UnsafeMutablePointer<Float>,
                                       _ s: UnsafeMutablePointer<Float>, _ t: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>) {
        for index in range {
            let (h, dh) = rectified(x[index])
            let q = f[index] + h
            g[index] = (q >= 0 ? g[index] * s[index] : 0) * (q <= t[index] ? dh : 0)
        }
    }

    @inline(never)
    static func regularizedGradient(_ range: Range<Int>, _ g: UnsafeMutablePointer<Float>, _ f: UnsafeMutablePointer<Float>,
                                    _ s: UnsafeMutablePointer<Float>, _ t: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                                    lambda: Float, exponent: Float) {
        for index in range {
            let (h, dh) = rectified(x[index])
            let q = f[index] + h
            let passes: Float = (q >= 0 ? 1 : 0) * (q <= t[index] ? 1 : 0)
            // d/dh of λ(1 − |2h − 1|^β) = −2λβ|2h − 1|^(β−1)·sign(2h − 1), with |2h − 1|^(β−1) as exp((β−1)·log|2h − 1|);
            // 0 at h = ½ (β ≥ 2 after the warm start).
            let centered = 2 * h - 1
            let magnitude = centered < 0 ? -centered : centered
            let slope = exponent * VectorMath.exp((exponent - 1) * VectorMath.log(magnitude < 1e-30 ? 1e-30 : magnitude))
            let regularizerGradient = -2 * lambda * slope * (centered < 0 ? -1 : 1)
            g[index] = (g[index] * s[index] * passes + regularizerGradient) * dh
        }
    }

    @inline(never)
    static func adam(_ range: Range<Int>, _ g: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                     _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ c: AdamConstants) {
        let (beta1, beta2, epsilon, stepSize, rootCorrection2) = (c.beta1, c.beta2, c.epsilon, c.stepSize, c.rootCorrection2)
        for index in range {
            let gradient = g[index]
            let first = beta1 * m[index] + (1 - beta1) * gradient, second = beta2 * v[index] + (1 - beta2) * gradient * gradient
            m[index] = first
            v[index] = second
            x[index] -= stepSize * first / (second.squareRoot() / rootCorrection2 + epsilon)
        }
    }

    /// β of the rounding regulariser at `iteration` of `iterations`: cosine-annealed from `start` to `end` after the warm
    /// start (AIMET's compute_beta); nil during the warm start, when the regulariser is off.
    static func beta(iteration: Int, iterations: Int, warmStart: Double, start: Double = 20, end: Double = 2) -> Double? {
        let warmEnd = warmStart * Double(iterations)
        guard Double(iteration) >= warmEnd else { return nil }
        let relative = (Double(iteration) - warmEnd) / max(1, Double(iterations) - warmEnd)
        return end + 0.5 * (start - end) * (1 + cos(relative * Double.pi))
    }
}
