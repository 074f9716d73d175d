/// One sample of a dilated depthwise layer's AdaRound step (undilated ones take the fused
/// `DepthwiseReconstructionKernel`): the executor's forward pass, the loss and dL/dz per channel, then
/// dW[c, kh, kw] += Σ_{oh, ow} dZ[c, oh, ow] · x[c, oh·s_h + kh·d_h − pad_top, ow·s_w + kw·d_w − pad_left] (zero outside x).
enum DilatedDepthwiseStep {
    /// Floats of scratch `run` needs: the output and one row.
    static func scratchCount(_ g: ConvolutionGeometry) -> Int { g.outChannels * g.outHeight * g.outWidth + g.outWidth }

    /// Adds this sample's weight gradient into `gradient` (when given) and returns its summed squared error (when
    /// `measure`, else 0).
    static func run(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    target: UnsafePointer<Float>, activation: ReconstructionActivation, scale: Float,
                    gradient: UnsafeMutablePointer<Float>?, measure: Bool, scratch: UnsafeMutablePointer<Float>) -> Double {
        let plane = g.outHeight * g.outWidth
        let output = scratch
        ConvolutionKernel.run(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: .none)
        var loss = 0.0
        for channel in 0..<g.outChannels {
            if measure { loss += activation.squaredError(output + channel * plane, target: target + channel * plane, count: plane, channel: channel) }
            if gradient != nil {
                activation.gradient(output + channel * plane, target: target + channel * plane, count: plane, channel: channel, scale: scale)
            }
        }
        if let gradient { accumulate(g, outputGradient: output, input: input, into: gradient, row: scratch + g.outChannels * plane) }
        return loss
    }

    /// Tap by tap, each output row's products gathered in `row` (outWidth floats).
    static func accumulate(_ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>,
                           into gradient: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>) {
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        for channel in 0..<g.outChannels {
            let dz = outputGradient + channel * outHeight * outWidth, x = input + channel * g.inHeight * g.inWidth
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let offset = kw * g.dilationWidth - g.padLeft
                    // Output columns whose input column ow·s + offset lies in [0, inWidth).
                    let first = offset >= 0 ? 0 : min(outWidth, (-offset + g.strideWidth - 1) / g.strideWidth)
                    let end = g.inWidth - offset <= 0 ? first : max(first, min(outWidth, (g.inWidth - offset + g.strideWidth - 1) / g.strideWidth))
                    guard end > first else { continue }
                    row.update(repeating: 0, count: end - first)
                    for oh in 0..<outHeight {
                        let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                        if ih < 0 || ih >= g.inHeight { continue }
                        let dzRow = dz + oh * outWidth, xRow = x + ih * g.inWidth + offset
                        for ow in first..<end { row[ow - first] += dzRow[ow] * xRow[ow * g.strideWidth] }
                    }
                    var sum: Float = 0
                    for index in 0..<(end - first) { sum += row[index] }
                    gradient[(channel * g.kernelHeight + kh) * g.kernelWidth + kw] += sum
                }
            }
        }
    }
}
