/// One layer's reconstruction problem in AdaRound: cached inputs x_n (from the model whose earlier layers are
/// AdaRounded, activations in float) and targets t_n (the FP32 model's output after the layer's activation f), and
/// L(W̃) = 1/(B·P) · Σ_{n in batch} Σ_positions Σ_channels (f(W̃ ∗ x_n + b) − t_n)², the squared error summed over
/// output channels and averaged over samples and positions (AIMET's ‖·‖² over dim 1, then the mean).
///
/// The gradient is written by hand: with dZ = dL/dz from `ReconstructionActivation`,
/// - Conv: dW_g += dZ_g · im2col(x_g)ᵀ per sample and group (SGEMM; a 1×1 stride-1 conv reads x as the matrix
///   itself); a depthwise conv takes `DepthwiseWeightGradient`, as GEMM with one row per channel wastes the BLAS;
/// - Gemm and MatMul: the batch's rows X (B·R × K), Z = X·W, dW = Xᵀ·dZ (or dZᵀ·X for a transposed Gemm weight).
/// Convolutions split the batch's samples over the worker threads (each sample's forward, residual and gradient stay
/// in cache, every thread with its own gradient), then add the threads' gradients in a fixed order: the same bits on
/// any machine with the same core count.
final class LayerReconstruction: @unchecked Sendable {
    enum Shape: Equatable {
        /// A 2-D convolution of one sample (batch 1 in the geometry).
        case convolution(ConvolutionGeometry)
        /// rows × inFeatures times a weight [inFeatures, outFeatures], or [outFeatures, inFeatures] when transposed.
        case linear(rows: Int, inFeatures: Int, outFeatures: Int, transposedWeight: Bool)
    }

    let shape: Shape
    let bias: [Float]?
    let activation: ReconstructionActivation
    let samples: Int, inputSize: Int, outputSize: Int, weightCount: Int
    /// samples × inputSize and samples × outputSize floats, filled by the caller.
    let inputs: UnsafeMutablePointer<Float>
    let targets: UnsafeMutablePointer<Float>
    private let parts: Int
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private let scratchSize: Int

    init(shape: Shape, bias: [Float]?, activation: ReconstructionActivation, samples: Int, batch: Int) {
        self.shape = shape
        self.bias = bias
        self.activation = activation
        self.samples = samples
        switch shape {
        case .convolution(let g):
            inputSize = g.inChannels * g.inHeight * g.inWidth
            outputSize = g.outChannels * g.outHeight * g.outWidth
            weightCount = g.outChannels * g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
            parts = max(1, min(Parallel.workers, batch))
            let columns = g.isPointwise ? 0 : g.isDepthwise ? DepthwiseWeightGradient.scratchCount(g)
                : g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth * g.outHeight * g.outWidth
            // Per thread: the output, the im2col matrix (a depthwise conv's padded planes), the thread's gradient.
            scratchSize = outputSize + columns + weightCount
        case .linear(let rows, let inFeatures, let outFeatures, _):
            inputSize = rows * inFeatures
            outputSize = rows * outFeatures
            weightCount = inFeatures * outFeatures
            parts = 1
            // The batch's rows, their outputs and targets.
            scratchSize = batch * (inputSize + 2 * outputSize)
        }
        inputs = .allocate(capacity: max(1, samples * inputSize))
        targets = .allocate(capacity: max(1, samples * outputSize))
        scratch = (0..<parts).map { _ in .allocate(capacity: scratchSize) }
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
        scratch.forEach { $0.deallocate() }
    }

    /// Writes dL/dW̃ for the samples `batch` at weight `weight` into `gradient` (when given); returns L when `measure`.
    @discardableResult
    func gradient(weight: UnsafePointer<Float>, batch: [Int], into gradient: UnsafeMutablePointer<Float>?, measure: Bool) -> Double? {
        switch shape {
        case .convolution(let g): return convolutionGradient(g, weight: weight, batch: batch, into: gradient, measure: measure)
        case .linear(let rows, let inFeatures, let outFeatures, let transposed):
            return linearGradient(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, transposed: transposed,
                                  weight: weight, batch: batch, into: gradient, measure: measure)
        }
    }

    private func convolutionGradient(_ g: ConvolutionGeometry, weight: UnsafePointer<Float>, batch: [Int],
                                     into gradient: UnsafeMutablePointer<Float>?, measure: Bool) -> Double? {
        let plane = g.outHeight * g.outWidth
        let scale = 1 / Float(batch.count * plane)
        let parts = min(self.parts, batch.count)
        var losses = [Double](repeating: 0, count: parts)
        let lossPointer = SendablePointer(losses.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let weights = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let wantsGradient = gradient != nil
        Parallel.forEachPartSerially(parts) { part in
            let buffer = self.scratch[part]
            let output = buffer, columns = buffer + self.outputSize
            let partGradient = columns + (self.scratchSize - self.outputSize - self.weightCount)
            partGradient.update(repeating: 0, count: self.weightCount)
            var loss = 0.0
            for position in (batch.count * part / parts)..<(batch.count * (part + 1) / parts) {
                let sample = batch[position]
                let input = UnsafePointer(self.inputs + sample * self.inputSize), target = self.targets + sample * self.outputSize
                self.bias.withOptionalPointer { bias in
                    ConvolutionKernel.run(input: input, weight: weights.pointer, bias: bias, output: output, geometry: g, activation: .none)
                }
                for channel in 0..<g.outChannels {
                    if measure {
                        loss += self.activation.squaredError(output + channel * plane, target: target + channel * plane, count: plane, channel: channel)
                    }
                    if wantsGradient {
                        self.activation.gradient(output + channel * plane, target: target + channel * plane, count: plane, channel: channel, scale: scale)
                    }
                }
                if !wantsGradient { continue }
                if g.isDepthwise {
                    DepthwiseWeightGradient.accumulate(g, outputGradient: output, input: input, into: partGradient, scratch: columns)
                    continue
                }
                let kernelSize = g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
                let inPlane = g.inHeight * g.inWidth
                for group in 0..<g.groups {
                    let groupInput = input + group * g.inChannelsPerGroup * inPlane
                    if !g.isPointwise { Im2Col.fill(columns, from: groupInput, geometry: g, columns: 0..<plane) }
                    let firstChannel = group * g.outChannelsPerGroup
                    sgemm(m: g.outChannelsPerGroup, n: kernelSize, k: plane, a: output + firstChannel * plane, lda: plane,
                          b: g.isPointwise ? groupInput : UnsafePointer(columns), ldb: plane, transposeB: true,
                          c: partGradient + firstChannel * kernelSize, ldc: kernelSize, beta: 1)
                }
            }
            lossPointer.pointer[part] = loss
        }
        guard let gradient else { return measure ? losses.reduce(0, +) / Double(batch.count * plane) : nil }
        // The threads' gradients, added in part order.
        let partGradients = scratch.prefix(parts).map { $0 + scratchSize - weightCount }
        gradient.update(from: partGradients[0], count: weightCount)
        for part in 1..<max(1, parts) {
            for index in 0..<weightCount { gradient[index] += partGradients[part][index] }
        }
        return measure ? losses.reduce(0, +) / Double(batch.count * plane) : nil
    }

    private func linearGradient(rows: Int, inFeatures: Int, outFeatures: Int, transposed: Bool, weight: UnsafePointer<Float>,
                                batch: [Int], into gradient: UnsafeMutablePointer<Float>?, measure: Bool) -> Double? {
        let allRows = batch.count * rows
        let x = scratch[0], z = x + batch.count * inputSize, t = z + batch.count * outputSize
        for (position, sample) in batch.enumerated() {
            (x + position * inputSize).update(from: inputs + sample * inputSize, count: inputSize)
            (t + position * outputSize).update(from: targets + sample * outputSize, count: outputSize)
        }
        sgemmSplittingColumns(m: allRows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: weight,
                              ldb: transposed ? inFeatures : outFeatures, transposeB: transposed, c: z, ldc: outFeatures)
        if let bias {
            for row in 0..<allRows { for channel in 0..<outFeatures { z[row * outFeatures + channel] += bias[channel] } }
        }
        let scale = 1 / Float(allRows)
        var loss = 0.0
        if gradient == nil {
            return measure ? activation.channelSquaredError(z, target: t, rows: allRows, channels: outFeatures) / Double(allRows) : nil
        }
        if case .channelBound = activation {
            for row in 0..<allRows {
                for channel in 0..<outFeatures {
                    let offset = row * outFeatures + channel
                    if measure { loss += activation.squaredError(z + offset, target: t + offset, count: 1, channel: channel) }
                    activation.gradient(z + offset, target: t + offset, count: 1, channel: channel, scale: scale)
                }
            }
        } else {
            if measure { loss = activation.squaredError(z, target: t, count: allRows * outFeatures, channel: 0) }
            activation.gradient(z, target: t, count: allRows * outFeatures, channel: 0, scale: scale)
        }
        guard let gradient else { return nil }
        if transposed {
            // W is [out, in]: dW = dZᵀ·X.
            sgemmSplittingColumns(m: outFeatures, n: inFeatures, k: allRows, a: z, lda: outFeatures, transposeA: true,
                                  b: x, ldb: inFeatures, c: gradient, ldc: inFeatures)
        } else {
            sgemmSplittingColumns(m: inFeatures, n: outFeatures, k: allRows, a: x, lda: inFeatures, transposeA: true,
                                  b: z, ldb: outFeatures, c: gradient, ldc: outFeatures)
        }
        return measure ? loss / Double(allRows) : nil
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's floats, or nil.
    func withOptionalPointer<Result>(_ body: (UnsafePointer<Float>?) -> Result) -> Result {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
