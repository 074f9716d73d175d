/// One sample of a convolution's AdaRound step (any but depthwise, which has `DepthwiseReconstructionKernel`): the
/// forward pass z = W̃ · im2col(x) + b (SGEMM; the executor's kernel for grouped convs), the loss Σ (f(z) − t)² and
/// dL/dz in place per channel, then per group dW_g += dZ_g · im2col(x_g)ᵀ (SGEMM; a 1×1 stride-1 conv reads x as the
/// matrix itself).
/// (Blocks of positions kept in L2 across the three passes were tried and measured no faster: the planes stay in
/// the 32 MB L3 anyway, and the smaller products lost what the cache gained.)
enum ConvolutionReconstructionStep {
    /// Floats of scratch `run` needs: the output and one group's im2col matrix.
    static func scratchCount(_ g: ConvolutionGeometry) -> Int {
        let plane = g.outHeight * g.outWidth
        return g.outChannels * plane + (g.isPointwise ? 0 : g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth * plane)
    }

    /// Adds this sample's weight gradient into `gradient` (when given) and returns its summed squared error (when
    /// `measure`, else 0). `scale` is the loss's 1/(samples · positions).
    static func run(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    target: UnsafePointer<Float>, activation: ReconstructionActivation, scale: Float,
                    gradient: UnsafeMutablePointer<Float>?, measure: Bool, scratch: UnsafeMutablePointer<Float>) -> Double {
        let plane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        let kernelSize = g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
        let output = scratch, columns = scratch + g.outChannels * plane
        if g.groups == 1 {
            // The im2col matrix once, for both products (the executor's kernel would build its own for the forward).
            if !g.isPointwise { Im2Col.fill(columns, from: input, geometry: g, columns: 0..<plane) }
            for channel in 0..<g.outChannels { (output + channel * plane).update(repeating: bias?[channel] ?? 0, count: plane) }
            sgemm(m: g.outChannels, n: plane, k: kernelSize, a: weight, lda: kernelSize, b: g.isPointwise ? input : UnsafePointer(columns),
                  ldb: plane, c: output, ldc: plane, beta: 1)
        } else {
            ConvolutionKernel.run(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: .none)
        }
        var loss = 0.0
        for channel in 0..<g.outChannels {
            let z = output + channel * plane, t = target + channel * plane
            if measure { loss += activation.squaredError(z, target: t, count: plane, channel: channel) }
            if gradient != nil { activation.gradient(z, target: t, count: plane, channel: channel, scale: scale) }
        }
        guard let gradient else { return loss }
        for group in 0..<g.groups {
            let groupInput = input + group * g.inChannelsPerGroup * inPlane
            if !g.isPointwise && g.groups > 1 { Im2Col.fill(columns, from: groupInput, geometry: g, columns: 0..<plane) }
            let firstChannel = group * g.outChannelsPerGroup
            sgemm(m: g.outChannelsPerGroup, n: kernelSize, k: plane, a: output + firstChannel * plane, lda: plane,
                  b: g.isPointwise ? groupInput : UnsafePointer(columns), ldb: plane, transposeB: true,
                  c: gradient + firstChannel * kernelSize, ldc: kernelSize, beta: 1)
        }
        return loss
    }
}
