/// One layer's reconstruction problem in AdaRound: cached inputs x_n (from the model whose earlier layers are
/// AdaRounded, activations in float) and targets t_n (the FP32 model's output after the layer's activation f), and
/// L(W̃) = 1/(B·P) · Σ_{n in batch} Σ_positions Σ_channels (f(W̃ ∗ x_n + b) − t_n)², the squared error summed over
/// output channels and averaged over samples and positions (AIMET's ‖·‖² over dim 1, then the mean).
///
/// The gradient is written by hand: with dZ = dL/dz from `ReconstructionActivation`,
/// - Conv: dW_g += dZ_g · im2col(x_g)ᵀ per sample and group (`ConvolutionReconstructionStep`, SGEMM; a 1×1 stride-1
///   conv reads x as the matrix itself); a depthwise conv takes `DepthwiseReconstructionKernel` (forward, dL/dz and dW
///   fused per channel; GEMM with one row per channel wastes the BLAS), or `DilatedDepthwiseStep` when dilated;
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

        /// Floats of one sample's input and target as the model produces them.
        var sampleSizes: (input: Int, output: Int) {
            switch self {
            case .convolution(let g): return (g.inChannels * g.inHeight * g.inWidth, g.outChannels * g.outHeight * g.outWidth)
            case .linear(let rows, let inFeatures, let outFeatures, _): return (rows * inFeatures, rows * outFeatures)
            }
        }
    }

    let shape: Shape
    let bias: [Float]?
    let activation: ReconstructionActivation
    /// Floats of one sample's input and target as the model produces them.
    let samples: Int, inputSize: Int, outputSize: Int, weightCount: Int
    /// Floats of one cached sample as stored (`storeInput`, `storeTarget`).
    let storedInputSize: Int, storedOutputSize: Int
    /// samples × storedInputSize and samples × storedOutputSize floats.
    private let inputs: UnsafeMutablePointer<Float>
    private let targets: UnsafeMutablePointer<Float>
    private let parts: Int
    /// The loss as a quadratic in W̃ when there is no activation (`QuadraticReconstruction`).
    private let quadratic: QuadraticReconstruction?
    private var scratch: [UnsafeMutablePointer<Float>] = []
    private let scratchSize: Int

    /// `weight` is the layer's FP32 weight (the quadratic form is written around it).
    init(shape: Shape, weight: [Float], bias: [Float]?, activation: ReconstructionActivation, samples: Int, batch: Int) {
        self.shape = shape
        self.bias = bias
        self.activation = activation
        self.samples = samples
        (inputSize, outputSize) = shape.sampleSizes
        quadratic = if case .convolution(let g) = shape, QuadraticReconstruction.applies(g, activation) {
            QuadraticReconstruction(g, weight: weight, bias: bias)
        } else {
            nil
        }
        switch shape {
        case .convolution(let g):
            weightCount = g.outChannels * g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
            if quadratic != nil {
                parts = 1
                scratchSize = QuadraticReconstruction.scratchCount(g)
            } else {
                parts = max(1, min(Parallel.workers, batch))
                let stepScratch = DepthwiseReconstructionKernel.supports(g) ? DepthwiseReconstructionKernel.scratchCount(g)
                    : g.isDepthwise ? DilatedDepthwiseStep.scratchCount(g) : ConvolutionReconstructionStep.scratchCount(g)
                // Per thread: the step's scratch, then the thread's gradient.
                scratchSize = stepScratch + weightCount
            }
        case .linear(_, let inFeatures, let outFeatures, _):
            weightCount = inFeatures * outFeatures
            parts = 1
            // The batch's rows, their outputs and targets.
            scratchSize = batch * (inputSize + 2 * outputSize)
        }
        (storedInputSize, storedOutputSize) = Self.storedSizes(shape, activation: activation)
        // Eight floats of slack: `DepthwiseReconstructionKernel` reads a vector past a channel's planes.
        inputs = .allocate(capacity: samples * storedInputSize + 8)
        (inputs + samples * storedInputSize).initialize(repeating: 0, count: 8)
        targets = .allocate(capacity: max(1, samples * storedOutputSize))
        scratch = (0..<parts).map { _ in .allocate(capacity: scratchSize) }
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
        scratch.forEach { $0.deallocate() }
    }

    /// Floats of one cached sample's input and target as stored: as the model produces them, except a depthwise
    /// layer's, which `DepthwiseReconstructionKernel` stores the way its passes read them, and a layer whose loss is
    /// a quadratic, whose sums `QuadraticReconstruction` stores instead.
    static func storedSizes(_ shape: Shape, activation: ReconstructionActivation) -> (input: Int, output: Int) {
        switch shape {
        case .convolution(let g) where QuadraticReconstruction.applies(g, activation):
            return QuadraticReconstruction.storedSizes(g)
        case .convolution(let g) where DepthwiseReconstructionKernel.supports(g):
            return (DepthwiseReconstructionKernel.storedInputCount(g), DepthwiseReconstructionKernel.storedTargetCount(g))
        default:
            return shape.sampleSizes
        }
    }

    /// Caches sample `sample`'s input and target (`inputSize` and `outputSize` floats as the models produce them).
    func store(input: UnsafePointer<Float>, target: UnsafePointer<Float>, sample: Int) {
        let (storedInput, storedTarget) = (inputs + sample * storedInputSize, targets + sample * storedOutputSize)
        if let quadratic {
            quadratic.store(input: input, target: target, into: storedInput, storedTarget)
        } else if case .convolution(let g) = shape, DepthwiseReconstructionKernel.supports(g) {
            DepthwiseReconstructionKernel.storeInput(g, from: input, into: storedInput)
            DepthwiseReconstructionKernel.storeTarget(g, from: target, into: storedTarget)
        } else {
            storedInput.update(from: input, count: inputSize)
            storedTarget.update(from: target, count: outputSize)
        }
    }

    /// Writes dL/dW̃ for the samples `batch` at weight `weight` into `gradient` (when given); returns L when `measure`.
    @discardableResult
    func gradient(weight: UnsafePointer<Float>, batch: [Int], into gradient: UnsafeMutablePointer<Float>?, measure: Bool) -> Double? {
        if let quadratic {
            return quadratic.gradient(learnt: weight, batch: batch, inputs: inputs, targets: targets, into: gradient, measure: measure,
                                      scratch: scratch[0])
        }
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
        // One slot per part, written by its thread.
        let lossBuffer = UnsafeMutablePointer<Double>.allocate(capacity: parts)
        defer { lossBuffer.deallocate() }
        let lossPointer = SendablePointer(lossBuffer)
        let weights = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let wantsGradient = gradient != nil
        let fused = DepthwiseReconstructionKernel.supports(g)
        Parallel.forEachPartSerially(parts) { part in
            let scratch = self.scratch[part]
            let partGradient = scratch + (self.scratchSize - self.weightCount)
            partGradient.update(repeating: 0, count: self.weightCount)
            var loss = 0.0
            for position in (batch.count * part / parts)..<(batch.count * (part + 1) / parts) {
                let sample = batch[position]
                let input = UnsafePointer(self.inputs + sample * self.storedInputSize), target = self.targets + sample * self.storedOutputSize
                let (weight, activation, gradient) = (weights.pointer, self.activation, wantsGradient ? partGradient : nil)
                loss += self.bias.withOptionalPointer { bias in
                    if fused {
                        return DepthwiseReconstructionKernel.run(g, input: input, weight: weight, bias: bias, target: target, activation: activation,
                                                                 scale: scale, gradient: gradient, measure: measure, scratch: scratch)
                    }
                    if g.isDepthwise {
                        return DilatedDepthwiseStep.run(g, input: input, weight: weight, bias: bias, target: target, activation: activation,
                                                        scale: scale, gradient: gradient, measure: measure, scratch: scratch)
                    }
                    return ConvolutionReconstructionStep.run(g, input: input, weight: weight, bias: bias, target: target, activation: activation,
                                                             scale: scale, gradient: gradient, measure: measure, scratch: scratch)
                }
            }
            lossPointer.pointer[part] = loss
        }
        // The parts' losses added in part order, as their gradients below.
        let loss = measure ? (0..<parts).reduce(0.0) { $0 + lossBuffer[$1] } / Double(batch.count * plane) : nil
        guard let gradient else { return loss }
        // The threads' gradients, added in part order.
        let partGradients = scratch.prefix(parts).map { $0 + scratchSize - weightCount }
        gradient.update(from: partGradients[0], count: weightCount)
        for part in 1..<max(1, parts) {
            for index in 0..<weightCount { gradient[index] += partGradients[part][index] }
        }
        return loss
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
