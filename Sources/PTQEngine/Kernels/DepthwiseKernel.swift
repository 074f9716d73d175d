/// Direct depthwise convolution (one input and one output channel per group).
///
/// Each input plane is copied row by row (plain copies) into a zero-bordered padded plane, so
/// every tap of an output row reads a run of one padded row with no bounds checks: output (oh, ow)
/// reads tap (kh, kw) at padded (oh·s + kh·d, ow·s + kw·d). 3×3 kernels at stride 1 or 2 (all of
/// MobileNet's) sum their nine taps per output element in registers, reading each padded row
/// through one base pointer so LLVM's runtime alias checks stay within its limit and the loop
/// vectorizes (at stride 1 over the whole padded grid at once, see below); other kernels accumulate
/// tap by tap into the output row while it sits in L1.
/// GEMM with K = 9 would waste most of its work.
enum DepthwiseKernel {
    static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let planes = g.batch * g.outChannels
        let inputPointer = SendablePointer(UnsafeMutablePointer(mutating: input))
        let weightPointer = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let outputPointer = SendablePointer(output)
        let (strideH, strideW) = (g.strideHeight, g.strideWidth)
        // Rows and columns up to the last one any output reads, beyond the input where padding lies.
        let paddedHeight = max(g.inHeight + g.padTop, (g.outHeight - 1) * strideH + g.dilationHeight * (g.kernelHeight - 1) + 1)
        let paddedWidth = max(g.inWidth + g.padLeft, (g.outWidth - 1) * strideW + g.dilationWidth * (g.kernelWidth - 1) + 1)
        let (low, high) = activation.bounds
        let isThreeByThree = g.kernelHeight == 3 && g.kernelWidth == 3 && g.dilationHeight == 1 && g.dilationWidth == 1
            && strideW <= 2
        // Stride-1 3×3 planes whose rows would leave vector loop tails (width not a multiple of 8)
        // run over the padded grid in one loop; see below.
        let usesGrid = isThreeByThree && strideH == 1 && strideW == 1 && g.outWidth % 8 != 0
        // Other kernels (5×5, 7×7) at stride 1 or 2 go tap by tap over phase grids (see `phaseGrid`).
        let phases = !isThreeByThree && g.dilationHeight == 1 && g.dilationWidth == 1 && strideH == strideW && strideH <= 2
            ? PhaseLayout(paddedHeight: paddedHeight, paddedWidth: paddedWidth, stride: strideH,
                          kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth) : nil
        Parallel.forEachRange(planes) { range in
            // Eight floats of slack after the padded plane and the phase grid: `phaseGrid` reads and writes whole
            // vectors of eight past the last output it keeps.
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth + 8)
            let grid = usesGrid ? UnsafeMutablePointer<Float>.allocate(capacity: g.outHeight * paddedWidth) : nil
            let phaseBuffer = phases.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.capacity + g.outHeight * $0.width + 8) }
            defer {
                padded.deallocate()
                grid?.deallocate()
                phaseBuffer?.deallocate()
            }
            if let phases, let phaseBuffer { phaseBuffer.initialize(repeating: 0, count: phases.capacity + g.outHeight * phases.width + 8) }
            // The border stays zero: every plane writes only the input's own positions.
            padded.initialize(repeating: 0, count: paddedHeight * paddedWidth + 8)
            for plane in range {
                let channel = plane % g.outChannels
                let source = inputPointer.pointer + plane * g.inHeight * g.inWidth
                for ih in 0..<g.inHeight {
                    (padded + (ih + g.padTop) * paddedWidth + g.padLeft).update(from: source + ih * g.inWidth, count: g.inWidth)
                }
                let taps = UnsafePointer(weightPointer.pointer + channel * g.kernelHeight * g.kernelWidth)
                let biasValue = biasPointer?.pointer[channel] ?? 0
                let target = outputPointer.pointer + plane * g.outHeight * g.outWidth
                // Gated activations (SiLU, hard-swish) after the plane is done; clamps are applied row by row below.
                defer { activation.applyGate(target, count: g.outHeight * g.outWidth) }
                if let phases, let phaseBuffer {
                    phaseGrid(UnsafePointer(padded), phases, phaseBuffer, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                              outHeight: g.outHeight, outWidth: g.outWidth, taps, biasValue, low, high, target)
                    continue
                }
                if let grid {
                    // One run over the padded grid (output rows at the padded row pitch, the two
                    // surplus columns per row discarded): no per-row loop tails on 7- and 14-wide
                    // planes. Rows whose width is a multiple of 8 have no tails and go straight to
                    // the output below, saving the grid's copy.
                    let base = UnsafePointer(padded)
                    threeByThreeRow(grid, count: (g.outHeight - 1) * paddedWidth + g.outWidth, base, base + paddedWidth,
                                    base + 2 * paddedWidth, taps, biasValue, low, high)
                    for oh in 0..<g.outHeight {
                        (target + oh * g.outWidth).update(from: grid + oh * paddedWidth, count: g.outWidth)
                    }
                    continue
                }
                for oh in 0..<g.outHeight {
                    let out = target + oh * g.outWidth
                    let top = UnsafePointer(padded + oh * strideH * paddedWidth)
                    if isThreeByThree {
                        let (r0, r1, r2) = (top, top + paddedWidth, top + 2 * paddedWidth)
                        if strideW == 1 {
                            threeByThreeRow(out, count: g.outWidth, r0, r1, r2, taps, biasValue, low, high)
                        } else {
                            threeByThreeRowStrideTwo(out, count: g.outWidth, r0, r1, r2, taps, biasValue, low, high)
                        }
                        continue
                    }
                    out.update(repeating: biasValue, count: g.outWidth)
                    for kh in 0..<g.kernelHeight {
                        let row = top + kh * g.dilationHeight * paddedWidth
                        for kw in 0..<g.kernelWidth {
                            multiplyAdd(out, row + kw * g.dilationWidth, stride: strideW, taps[kh * g.kernelWidth + kw],
                                        count: g.outWidth)
                        }
                    }
                    clamp(out, count: g.outWidth, low: low, high: high)
                }
            }
        }
    }

    /// Where a stride-s plane's taps read: s×s phase planes, phase (a, b) holding padded rows s·r + a and columns
    /// s·c + b, so that tap (kh, kw) of output (oh, ow) is phase (kh mod s, kw mod s) at (oh + kh/s, ow + kw/s): a
    /// stride-1 read. At stride 1 the one phase is the padded plane itself.
    struct PhaseLayout {
        let stride: Int, paddedHeight: Int, paddedWidth: Int, height: Int, width: Int
        /// Where each tap (kh, kw) reads output 0: an offset from the phases (from the padded plane at stride 1).
        let tapOffsets: [Int]
        init(paddedHeight: Int, paddedWidth: Int, stride: Int, kernelHeight: Int, kernelWidth: Int) {
            (self.stride, self.paddedHeight, self.paddedWidth) = (stride, paddedHeight, paddedWidth)
            let (height, width) = ((paddedHeight + stride - 1) / stride, (paddedWidth + stride - 1) / stride)
            (self.height, self.width) = (height, width)
            tapOffsets = (0..<kernelHeight * kernelWidth).map { tap in
                let (kh, kw) = (tap / kernelWidth, tap % kernelWidth)
                let phase = stride == 1 ? 0 : ((kh % stride) * stride + kw % stride) * height * width
                return phase + (kh / stride) * width + kw / stride
            }
        }
        /// The phases (none at stride 1, which reads the padded plane).
        var capacity: Int { stride == 1 ? 0 : stride * stride * height * width }
    }

    /// A k×k depthwise plane tap by tap: each tap one pass of `grid[p] += w · phase[p + offset]` over the output
    /// grid at the phase's row pitch (columns past the output width are computed and dropped), a long stride-1
    /// loop that vectorizes where a per-row loop of 7 or 14 columns would be all overhead. `buffer` holds the
    /// phases (zero beyond the padded plane: only positions inside it are ever written) followed by the grid.
    static func phaseGrid(_ padded: UnsafePointer<Float>, _ layout: PhaseLayout, _ buffer: UnsafeMutablePointer<Float>,
                          kernelHeight: Int, kernelWidth: Int, outHeight: Int, outWidth: Int, _ taps: UnsafePointer<Float>,
                          _ bias: Float, _ low: Float, _ high: Float, _ target: UnsafeMutablePointer<Float>) {
        let (s, width) = (layout.stride, layout.width)
        if s == 2 { splitPhases(padded, layout, buffer) }  // the layout is made for strides 1 and 2 only
        let grid = buffer + layout.capacity
        let count = (outHeight - 1) * width + outWidth
        let base = s == 1 ? padded : UnsafePointer(buffer)
        let tapCount = kernelHeight * kernelWidth
        layout.tapOffsets.withUnsafeBufferPointer { offsets in
            // Eight outputs at a time with every tap summed in a register (in tap order, as fused multiply-adds,
            // so each output's bits are those of a tap-by-tap pass), stored once: a pass per tap loaded and stored
            // the grid 25 times for a 5×5 kernel and was bound by those loads and stores.
            var p = 0
            while p < count {
                var sum = SIMD8<Float>(repeating: bias)
                for tap in 0..<tapCount {
                    let values = UnsafeRawPointer(base + offsets[tap] + p).loadUnaligned(as: SIMD8<Float>.self)
                    sum.addProduct(SIMD8<Float>(repeating: taps[tap]), values)
                }
                UnsafeMutableRawPointer(grid + p).storeBytes(of: sum, as: SIMD8<Float>.self)
                p += 8
            }
        }
        for oh in 0..<outHeight {
            let row = grid + oh * width, out = target + oh * outWidth
            for ow in 0..<outWidth {
                let value = row[ow]
                out[ow] = value < low ? low : (value > high ? high : value)
            }
        }
    }

    /// Splits a padded plane into its four stride-2 phases (`PhaseLayout`), sixteen columns at a time.
    static func splitPhases(_ padded: UnsafePointer<Float>, _ layout: PhaseLayout, _ buffer: UnsafeMutablePointer<Float>) {
        let (width, planeSize) = (layout.width, layout.height * layout.width)
        // Padded row 2r + a splits into phases (a, 0) and (a, 1), sixteen columns at a time.
        for paddedRow in 0..<layout.paddedHeight {
            let (r, a) = (paddedRow / 2, paddedRow % 2)
            let source = padded + paddedRow * layout.paddedWidth
            let even = buffer + (a * 2) * planeSize + r * width, odd = even + planeSize
            var c = 0
            while 2 * c + 16 <= layout.paddedWidth {
                let values = UnsafeRawPointer(source + 2 * c).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(even + c).storeBytes(of: values.evenHalf, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(odd + c).storeBytes(of: values.oddHalf, as: SIMD8<Float>.self)
                c += 8
            }
            while 2 * c < layout.paddedWidth {
                even[c] = source[2 * c]
                if 2 * c + 1 < layout.paddedWidth { odd[c] = source[2 * c + 1] }
                c += 1
            }
        }
    }

    /// One output row of a 3×3 stride-1 depthwise convolution from padded rows r0, r1, r2.
    @inline(__always)
    static func threeByThreeRow(_ out: UnsafeMutablePointer<Float>, count: Int, _ r0: UnsafePointer<Float>,
                                _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                _ bias: Float, _ low: Float, _ high: Float) {
        let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8])
        for i in 0..<count {
            // addingProduct is a fused multiply-add: half the arithmetic instructions of a * b + c.
            var a = bias.addingProduct(w0, r0[i]).addingProduct(w1, r0[i + 1]).addingProduct(w2, r0[i + 2])
            a = a.addingProduct(w3, r1[i]).addingProduct(w4, r1[i + 1]).addingProduct(w5, r1[i + 2])
            a = a.addingProduct(w6, r2[i]).addingProduct(w7, r2[i + 1]).addingProduct(w8, r2[i + 2])
            out[i] = a < low ? low : (a > high ? high : a)
        }
    }

    /// The same at stride 2 along the row (output column i reads padded columns 2i, 2i+1, 2i+2). A
    /// second copy rather than a stride parameter: with the stride a run-time value the loop does
    /// not vectorize.
    @inline(__always)
    static func threeByThreeRowStrideTwo(_ out: UnsafeMutablePointer<Float>, count: Int, _ r0: UnsafePointer<Float>,
                                         _ r1: UnsafePointer<Float>, _ r2: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                         _ bias: Float, _ low: Float, _ high: Float) {
        let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8])
        for i in 0..<count {
            let j = 2 * i
            var a = bias.addingProduct(w0, r0[j]).addingProduct(w1, r0[j + 1]).addingProduct(w2, r0[j + 2])
            a = a.addingProduct(w3, r1[j]).addingProduct(w4, r1[j + 1]).addingProduct(w5, r1[j + 2])
            a = a.addingProduct(w6, r2[j]).addingProduct(w7, r2[j + 1]).addingProduct(w8, r2[j + 2])
            out[i] = a < low ? low : (a > high ? high : a)
        }
    }

    @inline(__always)
    static func multiplyAdd(_ row: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, stride: Int, _ tap: Float,
                            count: Int) {
        if stride == 1 {
            for index in 0..<count { row[index] += tap * source[index] }
        } else {
            for index in 0..<count { row[index] += tap * source[index * stride] }
        }
    }
}
