/// AdaRound's loss for a convolution with no activation after it (f the identity, as after MobileNet's projections)
/// is a quadratic in W̃, whose coefficients are sums over each sample's positions. With X_n the sample's im2col
/// matrix (K × P, K = C_in·k_h·k_w; the input itself for a 1×1 stride-1 conv) and T_n its target (C_out × P):
///   B·P·L = Σ_n ‖W̃ X_n + b 1ᵀ − T_n‖² = Σ_o [w̃_o G w̃_oᵀ + 2 b_o w̃_o·s − 2 w̃_o·c_o + B·P·b_o² − 2 b_o u_o] + E
///   dL/dW̃ = 2/(B·P) · (W̃ G + b sᵀ − Cᵀ)
/// with G = Σ_n X_n X_nᵀ, s = Σ_n X_n 1, C = Σ_n X_n T_nᵀ (columns c_o), u = Σ_n T_n 1, E = Σ_n ‖T_n‖², over the
/// batch's samples n. Each sample's G_n, s_n, C_n, u_n, e_n are computed once, when it is cached (in blocks of
/// positions summed in Double, so that the cancellation in L stays small), and a step costs B·K·(K + C_out) additions
/// and one K-deep product instead of two P-deep ones per sample: the same loss and gradient up to rounding.
/// Taken when K ≤ 3P (`applies`), where a sample's sums take at most three times the floats of its input and target
/// and a step reads them instead of multiplying 2·C_out·K·P: on MobileNetV2 the projections of all but its last two
/// stages (K = 32 to 576, P = 196 to 12,544), 13 layers that took a sixth of a step.
final class QuadraticReconstruction: @unchecked Sendable {
    let geometry: ConvolutionGeometry
    /// K, C_out, P.
    let kernelSize: Int, outChannels: Int, positions: Int
    /// Inputs cached until their targets arrive (C_n needs both).
    private var staged: [Int: [Float]] = [:]
    /// Positions per block when the sums are computed.
    private static let block = 256

    static func applies(_ g: ConvolutionGeometry, _ activation: ReconstructionActivation) -> Bool {
        activation == .none && g.groups == 1 && g.inChannels * g.kernelHeight * g.kernelWidth <= 3 * g.outHeight * g.outWidth
    }

    init(_ g: ConvolutionGeometry) {
        geometry = g
        kernelSize = g.inChannels * g.kernelHeight * g.kernelWidth
        outChannels = g.outChannels
        positions = g.outHeight * g.outWidth
    }

    /// Floats of one stored sample's input part (G_n, s_n) and target part (C_n, u_n, e_n).
    var storedSizes: (input: Int, output: Int) { (kernelSize * kernelSize + kernelSize, kernelSize * outChannels + outChannels + 1) }

    /// X_n's columns `start..<start + length` (K rows, leading dimension returned), into `columns` unless pointwise.
    private func columns(_ input: UnsafePointer<Float>, start: Int, length: Int, into columns: UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int) {
        if geometry.isPointwise { return (input + start, positions) }
        Im2Col.fill(columns, from: input, geometry: geometry, columns: start..<(start + length))
        return (UnsafePointer(columns), length)
    }

    /// Writes G_n and s_n of one sample's input x into `stored`, and keeps x for its target.
    func storeInput(_ x: UnsafePointer<Float>, sample: Int, into stored: UnsafeMutablePointer<Float>) {
        let (k, inputCount) = (kernelSize, geometry.inChannels * geometry.inHeight * geometry.inWidth)
        staged[sample] = Array(UnsafeBufferPointer(start: x, count: inputCount))
        var gram = [Double](repeating: 0, count: k * k), sums = [Double](repeating: 0, count: k)
        var part = [Float](repeating: 0, count: k * k)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: k * Self.block)
        defer { buffer.deallocate() }
        for start in stride(from: 0, to: positions, by: Self.block) {
            let length = min(Self.block, positions - start)
            let (matrix, leading) = columns(x, start: start, length: length, into: buffer)
            part.withUnsafeMutableBufferPointer {
                sgemm(m: k, n: k, k: length, a: matrix, lda: leading, b: matrix, ldb: leading, transposeB: true, c: $0.baseAddress!, ldc: k)
            }
            for index in 0..<(k * k) { gram[index] += Double(part[index]) }
            for row in 0..<k {
                var sum: Float = 0
                for column in 0..<length { sum += matrix[row * leading + column] }
                sums[row] += Double(sum)
            }
        }
        for index in 0..<(k * k) { stored[index] = Float(gram[index]) }
        for row in 0..<k { stored[k * k + row] = Float(sums[row]) }
    }

    /// Writes C_n, u_n and e_n of one sample's target t (C_out × P) into `stored`, from the input kept for it.
    func storeTarget(_ t: UnsafePointer<Float>, sample: Int, into stored: UnsafeMutablePointer<Float>) {
        let (k, m) = (kernelSize, outChannels)
        guard let x = staged.removeValue(forKey: sample) else { preconditionFailure("a target cached before its input") }
        var cross = [Double](repeating: 0, count: k * m)
        var part = [Float](repeating: 0, count: k * m)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: k * Self.block)
        defer { buffer.deallocate() }
        x.withUnsafeBufferPointer { x in
            for start in stride(from: 0, to: positions, by: Self.block) {
                let length = min(Self.block, positions - start)
                let (matrix, leading) = columns(x.baseAddress!, start: start, length: length, into: buffer)
                part.withUnsafeMutableBufferPointer {
                    sgemm(m: k, n: m, k: length, a: matrix, lda: leading, b: t + start, ldb: positions, transposeB: true, c: $0.baseAddress!, ldc: m)
                }
                for index in 0..<(k * m) { cross[index] += Double(part[index]) }
            }
        }
        var energy = 0.0
        for channel in 0..<m {
            var sum = 0.0
            for position in 0..<positions {
                let value = Double(t[channel * positions + position])
                sum += value
                energy += value * value
            }
            stored[k * m + channel] = Float(sum)
        }
        for index in 0..<(k * m) { stored[index] = Float(cross[index]) }
        stored[k * m + m] = Float(energy)
    }

    /// dL/dW̃ into `gradient` (when given) and L (when `measure`) for the samples `batch`, from the stored sums.
    /// `scratch` holds 2·K·K + K·C_out + K + C_out + C_out·K floats.
    func gradient(weight: UnsafePointer<Float>, bias: [Float]?, batch: [Int], inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                  into gradient: UnsafeMutablePointer<Float>?, measure: Bool, scratch: UnsafeMutablePointer<Float>) -> Double? {
        let (k, m) = (kernelSize, outChannels)
        let (inputSize, outputSize) = storedSizes
        // Σ over the batch of (G_n, s_n) and of (C_n, u_n, e_n), then W̃G.
        let sums = scratch, targetSums = scratch + inputSize, product = targetSums + outputSize
        sums.update(repeating: 0, count: inputSize)
        targetSums.update(repeating: 0, count: outputSize)
        for sample in batch {
            let input = inputs + sample * inputSize, target = targets + sample * outputSize
            for index in 0..<inputSize { sums[index] += input[index] }
            for index in 0..<outputSize { targetSums[index] += target[index] }
        }
        let (gram, s, cross, u) = (UnsafePointer(sums), UnsafePointer(sums + k * k), UnsafePointer(targetSums), UnsafePointer(targetSums + k * m))
        sgemm(m: m, n: k, k: k, a: weight, lda: k, b: gram, ldb: k, c: product, ldc: k)
        let count = Double(batch.count * positions)
        var loss = 0.0
        if measure {
            for o in 0..<m {
                let b = Double(bias?[o] ?? 0)
                var quadratic = 0.0, linear = 0.0, crossed = 0.0
                for index in 0..<k {
                    let w = Double(weight[o * k + index])
                    quadratic += w * Double(product[o * k + index])
                    linear += w * Double(s[index])
                    crossed += w * Double(cross[index * m + o])
                }
                loss += quadratic + 2 * b * linear - 2 * crossed + count * b * b - 2 * b * Double(u[o])
            }
            loss = max(0, (loss + Double(targetSums[k * m + m])) / count)
        }
        if let gradient {
            let twice = Float(2 / count)
            for o in 0..<m {
                let b = bias?[o] ?? 0
                for index in 0..<k {
                    gradient[o * k + index] = twice * (product[o * k + index] + b * s[index] - cross[index * m + o])
                }
            }
        }
        return measure ? loss : nil
    }
}
