/// AdaRound's loss for a convolution with no activation after it (f the identity, as after MobileNet's projections)
/// is a quadratic in W̃ whose coefficients are sums over each sample's positions. Written around the layer's FP32
/// weight W, which W̃ stays near: with X_n the sample's im2col matrix (K × P, K = C_in·k_h·k_w; the input itself for a
/// 1×1 stride-1 conv), R_n = T_n − W X_n − b 1ᵀ its target's residual under W, and Δ = W̃ − W,
///   B·P·L = Σ_n ‖Δ X_n − R_n‖² = Σ_o [δ_o G δ_oᵀ − 2 δ_o·c_o] + E,   dL/dW̃ = 2/(B·P) · (Δ G − Cᵀ)
/// with G = Σ_n X_n X_nᵀ, C = Σ_n X_n R_nᵀ (columns c_o), E = Σ_n ‖R_n‖² over the batch's samples n. Around W every
/// term has the size of the residual, so float sums lose nothing to cancellation; around zero L would be a difference
/// of terms the size of ‖T‖², up to 10⁵ times the loss at 8 bits.
/// Each sample's G_n, C_n and e_n are computed once, when it is cached (in blocks of positions summed in Double), and
/// a step reads K·(K + C_out) floats per sample and runs one K-deep product instead of two P-deep ones: the same loss
/// and gradient up to rounding. Taken when K ≤ 3P and the sums take at most three times the floats of the sample's
/// input and target (`applies`): on MobileNetV2 the projections of all but its last two stages (K = 32 to 576,
/// P = 196 to 12,544), 13 layers that took a sixth of a step.
struct QuadraticReconstruction {
    let geometry: ConvolutionGeometry
    /// K, C_out, P.
    let kernelSize: Int, outChannels: Int, positions: Int
    /// W and b, the layer's FP32 weight (C_out × K) and bias.
    let weight: [Float], bias: [Float]?
    /// Positions per block when the sums are computed.
    private static let block = 256

    static func applies(_ g: ConvolutionGeometry, _ activation: ReconstructionActivation) -> Bool {
        let kernelSize = g.inChannels * g.kernelHeight * g.kernelWidth, positions = g.outHeight * g.outWidth
        let stored = storedSizes(g), raw = g.inChannels * g.inHeight * g.inWidth + g.outChannels * positions
        return activation == .none && g.groups == 1 && kernelSize <= 3 * positions && stored.input + stored.output <= 3 * raw
    }

    /// Floats of one stored sample's input part (G_n) and target part (C_n, then e_n).
    static func storedSizes(_ g: ConvolutionGeometry) -> (input: Int, output: Int) {
        let kernelSize = g.inChannels * g.kernelHeight * g.kernelWidth
        return (kernelSize * kernelSize, kernelSize * g.outChannels + 1)
    }

    /// Floats of scratch `gradient` needs: the batch's sums, Δ and ΔG.
    static func scratchCount(_ g: ConvolutionGeometry) -> Int {
        let sizes = storedSizes(g)
        return sizes.input + sizes.output + 2 * g.outChannels * g.inChannels * g.kernelHeight * g.kernelWidth
    }

    init(_ g: ConvolutionGeometry, weight: [Float], bias: [Float]?) {
        geometry = g
        kernelSize = g.inChannels * g.kernelHeight * g.kernelWidth
        outChannels = g.outChannels
        positions = g.outHeight * g.outWidth
        (self.weight, self.bias) = (weight, bias)
    }

    /// Writes G_n into `storedInput` and C_n, e_n into `storedTarget`, from one sample's input x and target t (C_out × P).
    func store(input x: UnsafePointer<Float>, target t: UnsafePointer<Float>, into storedInput: UnsafeMutablePointer<Float>,
               _ storedTarget: UnsafeMutablePointer<Float>) {
        let (rows, channels, block) = (kernelSize, outChannels, Self.block)
        var gram = [Double](repeating: 0, count: rows * rows), cross = [Double](repeating: 0, count: rows * channels)
        var energy = 0.0
        var gramPart = [Float](repeating: 0, count: rows * rows), crossPart = [Float](repeating: 0, count: rows * channels)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * block)
        let residual = UnsafeMutablePointer<Float>.allocate(capacity: channels * block)
        defer {
            columns.deallocate()
            residual.deallocate()
        }
        for start in stride(from: 0, to: positions, by: block) {
            let length = min(block, positions - start)
            let (matrix, leading): (UnsafePointer<Float>, Int)
            if geometry.isPointwise {
                (matrix, leading) = (x + start, positions)
            } else {
                Im2Col.fill(columns, from: x, geometry: geometry, columns: start..<(start + length))
                (matrix, leading) = (UnsafePointer(columns), length)
            }
            // R = T − W X − b over the block.
            for channel in 0..<channels {
                let row = residual + channel * length, source = t + channel * positions + start, value = bias?[channel] ?? 0
                for index in 0..<length { row[index] = source[index] - value }
            }
            weight.withUnsafeBufferPointer {
                sgemm(m: channels, n: length, k: rows, a: $0.baseAddress!, lda: rows, b: matrix, ldb: leading, c: residual, ldc: length,
                      alpha: -1, beta: 1)
            }
            for index in 0..<(channels * length) { energy += Double(residual[index]) * Double(residual[index]) }
            gramPart.withUnsafeMutableBufferPointer {
                sgemm(m: rows, n: rows, k: length, a: matrix, lda: leading, b: matrix, ldb: leading, transposeB: true, c: $0.baseAddress!, ldc: rows)
            }
            crossPart.withUnsafeMutableBufferPointer {
                sgemm(m: rows, n: channels, k: length, a: matrix, lda: leading, b: residual, ldb: length, transposeB: true,
                      c: $0.baseAddress!, ldc: channels)
            }
            for index in 0..<(rows * rows) { gram[index] += Double(gramPart[index]) }
            for index in 0..<(rows * channels) { cross[index] += Double(crossPart[index]) }
        }
        for index in 0..<(rows * rows) { storedInput[index] = Float(gram[index]) }
        for index in 0..<(rows * channels) { storedTarget[index] = Float(cross[index]) }
        storedTarget[rows * channels] = Float(energy)
    }

    /// dL/dW̃ at `learnt` into `gradient` (when given) and L (when `measure`) for the samples `batch`, from their stored
    /// sums (`inputs`, `targets`: samples × the stored sizes).
    func gradient(learnt: UnsafePointer<Float>, batch: [Int], inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                  into gradient: UnsafeMutablePointer<Float>?, measure: Bool, scratch: UnsafeMutablePointer<Float>) -> Double? {
        let (rows, channels) = (kernelSize, outChannels)
        let (inputSize, outputSize) = Self.storedSizes(geometry)
        let gram = scratch, cross = scratch + inputSize, delta = cross + outputSize, product = delta + channels * rows
        gram.update(repeating: 0, count: inputSize)
        cross.update(repeating: 0, count: outputSize)
        var energy = 0.0
        for sample in batch {
            let input = inputs + sample * inputSize, target = targets + sample * outputSize
            for index in 0..<inputSize { gram[index] += input[index] }
            for index in 0..<(outputSize - 1) { cross[index] += target[index] }
            energy += Double(target[outputSize - 1])
        }
        weight.withUnsafeBufferPointer { for index in 0..<(channels * rows) { delta[index] = learnt[index] - $0[index] } }
        sgemm(m: channels, n: rows, k: rows, a: delta, lda: rows, b: gram, ldb: rows, c: product, ldc: rows)
        let count = Double(batch.count * positions)
        if let gradient {
            let twice = Float(2 / count)
            for channel in 0..<channels {
                for row in 0..<rows { gradient[channel * rows + row] = twice * (product[channel * rows + row] - cross[row * channels + channel]) }
            }
        }
        guard measure else { return nil }
        var loss = energy
        for channel in 0..<channels {
            for row in 0..<rows {
                let index = channel * rows + row
                loss += Double(delta[index]) * (Double(product[index]) - 2 * Double(cross[row * channels + channel]))
            }
        }
        // A sum of squares: rounding alone can take it below zero.
        return max(0, loss) / count
    }
}
