/// Direct depthwise convolution (one input and one output channel per group).
///
/// Each input plane is copied, zero-padded, into `stride²` phase planes (phase (r, c) holds the
/// padded rows r, r+s, … and columns c, c+s, …). Output (oh, ow) then reads tap (kh, kw) at
/// phase ((kh·d) mod s, (kw·d) mod s), position (oh + ⌊kh·d/s⌋, ow + ⌊kw·d/s⌋): so the output is
/// computed on the phase grid (outHeight × phaseWidth, surplus columns discarded) and every tap is
/// one contiguous multiply-add over the whole plane, a loop LLVM vectorizes. GEMM with K = 9 would
/// waste most of its work; per-row loops with bounds checks were several times slower on 7×7 planes.
enum DepthwiseKernel {
    static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let planes = g.batch * g.outChannels
        let inputPointer = SendablePointer(UnsafeMutablePointer(mutating: input))
        let weightPointer = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let outputPointer = SendablePointer(output)
        let (strideH, strideW) = (g.strideHeight, g.strideWidth)
        let paddedHeight = max(g.inHeight + g.padTop, (g.outHeight - 1) * strideH + g.dilationHeight * (g.kernelHeight - 1) + 1)
        let paddedWidth = max(g.inWidth + g.padLeft, (g.outWidth - 1) * strideW + g.dilationWidth * (g.kernelWidth - 1) + 1)
        let phaseHeight = (paddedHeight + strideH - 1) / strideH
        let phaseWidth = (paddedWidth + strideW - 1) / strideW
        let phaseSize = phaseHeight * phaseWidth
        let length = (g.outHeight - 1) * phaseWidth + g.outWidth
        Parallel.forEachRange(planes) { range in
            let phases = UnsafeMutablePointer<Float>.allocate(capacity: strideH * strideW * phaseSize)
            let grid = UnsafeMutablePointer<Float>.allocate(capacity: length)
            defer {
                phases.deallocate()
                grid.deallocate()
            }
            phases.initialize(repeating: 0, count: strideH * strideW * phaseSize)
            for plane in range {
                let channel = plane % g.outChannels
                let source = inputPointer.pointer + plane * g.inHeight * g.inWidth
                for ih in 0..<g.inHeight {
                    let paddedRow = ih + g.padTop
                    let rowBase = phases + ((paddedRow % strideH) * strideW * phaseSize) + (paddedRow / strideH) * phaseWidth
                    let sourceRow = source + ih * g.inWidth
                    if strideW == 1 {
                        (rowBase + g.padLeft).update(from: sourceRow, count: g.inWidth)
                    } else {
                        // Phase c takes input columns j·s + c − padLeft, for the j that land inside the row.
                        for columnPhase in 0..<strideW {
                            let destination = rowBase + columnPhase * phaseSize
                            let offset = columnPhase - g.padLeft
                            let first = offset >= 0 ? 0 : (-offset + strideW - 1) / strideW
                            let end = g.inWidth - 1 - offset < 0 ? first : min(phaseWidth, (g.inWidth - 1 - offset) / strideW + 1)
                            var j = first
                            while j < end {
                                destination[j] = sourceRow[j * strideW + offset]
                                j += 1
                            }
                        }
                    }
                }
                let taps = weightPointer.pointer + channel * g.kernelHeight * g.kernelWidth
                grid.update(repeating: biasPointer?.pointer[channel] ?? 0, count: length)
                for kh in 0..<g.kernelHeight {
                    let row = kh * g.dilationHeight
                    for kw in 0..<g.kernelWidth {
                        let column = kw * g.dilationWidth
                        let phase = phases + ((row % strideH) * strideW + column % strideW) * phaseSize
                        multiplyAdd(grid, phase + (row / strideH) * phaseWidth + column / strideW,
                                    taps[kh * g.kernelWidth + kw], count: length)
                    }
                }
                let target = outputPointer.pointer + plane * g.outHeight * g.outWidth
                for oh in 0..<g.outHeight {
                    (target + oh * g.outWidth).update(from: grid + oh * phaseWidth, count: g.outWidth)
                }
                activation.apply(target, count: g.outHeight * g.outWidth)
            }
        }
    }

    @inline(__always)
    static func multiplyAdd(_ row: UnsafeMutablePointer<Float>, _ source: UnsafeMutablePointer<Float>, _ tap: Float, count: Int) {
        for index in 0..<count { row[index] += tap * source[index] }
    }
}
