/// Direct depthwise convolution (one input and one output channel per group): for each plane,
/// accumulate kernel taps row by row over the valid output range, so the inner loop is a
/// contiguous multiply-add when the stride is 1.
enum DepthwiseKernel {
    static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let planes = g.batch * g.outChannels
        let inputPointer = SendablePointer(UnsafeMutablePointer(mutating: input))
        let weightPointer = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let outputPointer = SendablePointer(output)
        let outHeight = g.outHeight, outWidth = g.outWidth
        Parallel.forEachRange(planes) { range in
            for plane in range {
                let channel = plane % g.outChannels
                let source = UnsafePointer(inputPointer.pointer + plane * g.inHeight * g.inWidth)
                let target = outputPointer.pointer + plane * outHeight * outWidth
                let taps = UnsafePointer(weightPointer.pointer + channel * g.kernelHeight * g.kernelWidth)
                let initial = biasPointer?.pointer[channel] ?? 0
                for oh in 0..<outHeight {
                    let row = target + oh * outWidth
                    for index in 0..<outWidth { row[index] = initial }
                    for kh in 0..<g.kernelHeight {
                        let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                        if ih < 0 || ih >= g.inHeight { continue }
                        let sourceRow = source + ih * g.inWidth
                        for kw in 0..<g.kernelWidth {
                            let tap = taps[kh * g.kernelWidth + kw]
                            let offset = kw * g.dilationWidth - g.padLeft
                            // Valid outputs: 0 <= ow*stride + offset < inWidth.
                            let first = offset >= 0 ? 0 : (-offset + g.strideWidth - 1) / g.strideWidth
                            let lastExclusive = min(outWidth, (g.inWidth - 1 - offset) / g.strideWidth + 1)
                            if first >= lastExclusive || g.inWidth - 1 - offset < 0 { continue }
                            if g.strideWidth == 1 {
                                let shifted = sourceRow + offset
                                for ow in first..<lastExclusive { row[ow] += tap * shifted[ow] }
                            } else {
                                let stride = g.strideWidth
                                for ow in first..<lastExclusive { row[ow] += tap * sourceRow[ow * stride + offset] }
                            }
                        }
                    }
                    activation.apply(row, count: outWidth)
                }
            }
        }
    }
}
