/// exp, log, sigmoid and erf as loops LLVM vectorizes (8 floats per AVX2 instruction), for the activations
/// that real models apply to every element: SiLU/Swish (EfficientNet), GELU (ConvNeXt, ViT), hard-swish (MobileNetV3).
///
/// libm's `expf` and `erff` are scalar calls: about 27 ms per image for EfficientNet-B0's sigmoids alone (about 5
/// with these), more than its convolutions. Softmax keeps `expf`. These use only arithmetic, comparisons and bit patterns, no calls and no traps.
/// - exp: Cephes' expf. x clamped to [-87, 88]; n = round(x·log2 e) by the 1.5·2^23 rounding trick; r = x − n·ln 2
///   in two parts; e^r by a degree-6 polynomial; 2^n built in the exponent bits. Within 2 ulp of expf.
/// - erf: Abramowitz and Stegun 7.1.26 with the exp above: |error| ≤ 1.5e-7 absolute.
/// Work splits over the worker threads above `parallelThreshold` elements (batch 1 uses both cores).
enum VectorMath {
    /// Below this many elements one thread is faster than waking another.
    static let parallelThreshold = 1 << 15

    @inline(__always)
    static func exp(_ value: Float) -> Float {
        let x = value < -87 ? -87 : (value > 88 ? 88 : value)
        let shifted = x * 1.44269504088896341 + 12582912  // 1.5·2^23: the sum's low bits hold round(x·log2 e)
        let n = shifted - 12582912
        let r = x - n * 0.693359375 - n * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let polynomial = p * r * r + r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return polynomial * scale
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Natural log of a positive normal float, Cephes' logf: x = m·2^e with m in [√½, √2), log(1 + (m − 1)) by a
    /// degree-9 polynomial, e·ln 2 added in two parts. Within 2 ulp of logf; not for 0, negatives, NaN or subnormals
    /// (AdaRound's regulariser takes it of |2h − 1| in (0, 1]).
    @inline(__always)
    static func log(_ value: Float) -> Float {
        let bits = value.bitPattern
        var exponent = Float(Int32(bitPattern: (bits >> 23) & 0xff) - 126)
        var x = Float(bitPattern: (bits & 0x807f_ffff) | 0x3f00_0000)  // in [0.5, 1)
        let small = x < 0.707106781186547524
        exponent = small ? exponent - 1 : exponent
        x = small ? x + x - 1 : x - 1
        let z = x * x
        var y: Float = 7.0376836292e-2
        y = y * x - 1.1514610310e-1
        y = y * x + 1.1676998740e-1
        y = y * x - 1.2420140846e-1
        y = y * x + 1.4249322787e-1
        y = y * x - 1.6668057665e-1
        y = y * x + 2.0000714765e-1
        y = y * x - 2.4999993993e-1
        y = y * x + 3.3333331174e-1
        y = y * x * z
        y += -2.12194440e-4 * exponent
        y += -0.5 * z
        return x + y + 0.693359375 * exponent
    }

    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = x < 0 ? -x : x
        let t = 1 / (1 + 0.3275911 * a)
        var p: Float = 1.061405429
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let y = 1 - p * t * exp(-a * a)
        return x < 0 ? -y : y
    }

    /// output[i] = function(input[i]), split over threads when large. Input and output must not overlap: where they
    /// do, LLVM's runtime check sends the loop down its scalar path.
    /// One concrete loop per function, so each is vectorized on its own.
    static func map(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int,
                    _ function: PointwiseFunction) {
        let source = SendablePointer(UnsafeMutablePointer(mutating: input)), target = SendablePointer(output)
        let blocks = (count + parallelThreshold - 1) / parallelThreshold
        Parallel.forEachRange(blocks) { range in
            let start = range.lowerBound * parallelThreshold, end = min(count, range.upperBound * parallelThreshold)
            apply(function, source.pointer + start, target.pointer + start, count: end - start)
        }
    }

    static func apply(_ function: PointwiseFunction, _ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>, count: Int) {
        switch function {
        case .sigmoid:
            for index in 0..<count { to[index] = sigmoid(from[index]) }
        case .exp:
            for index in 0..<count { to[index] = exp(from[index]) }
        case .erf:
            for index in 0..<count { to[index] = erf(from[index]) }
        case .gelu:
            for index in 0..<count { let x = from[index]; to[index] = 0.5 * x * (1 + erf(x * 0.7071067811865476)) }
        case .hardSigmoid(let alpha, let beta):
            for index in 0..<count {
                let y = alpha * from[index] + beta
                to[index] = y < 0 ? 0 : (y > 1 ? 1 : y)
            }
        case .hardSwish:
            for index in 0..<count {
                let x = from[index], y = x / 6 + 0.5
                to[index] = x * (y < 0 ? 0 : (y > 1 ? 1 : y))
            }
        }
    }
}

/// The pointwise functions `VectorMath.map` runs (GELU as ONNX and torch define it: x/2 · (1 + erf(x/√2))).
enum PointwiseFunction: Sendable {
    case sigmoid, exp, erf, gelu, hardSwish
    case hardSigmoid(Float, Float)
}
