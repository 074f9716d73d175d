/// One sample of a depthwise layer's AdaRound step, fused channel by channel: the forward pass z = w ∗ x + b, the
/// loss Σ (f(z) − t)² and dL/dz, and the weight gradient dW[c, kh, kw] += Σ dZ[c, oh, ow] · x[c, oh·s + kh − pad, …],
/// while the channel's data sit in L1/L2.
///
/// The cached samples are stored the way the passes read them, once per layer rather than once per step: each
/// channel's input zero-padded and split by stride phase (`StridePhasePlanes`), so every tap (kh, kw) of every output
/// is a stride-1 read at a fixed offset, and its target at the planes' row pitch R. Both passes then run over the
/// output grid at pitch R (the columns past the output width are computed, and masked out of dZ), eight outputs at a
/// time: the forward sums its taps in registers, the gradient keeps one accumulator per tap and reads dZ once.
/// Before this, a step ran the executor's depthwise kernel (a padded copy, strided gathers at stride 2), then padded
/// dZ and the input again for nine separate dot products: a third of AdaRound's time on MobileNetV2 for 5% of its
/// arithmetic. Dilated kernels are not handled here (`supports`).
enum DepthwiseReconstructionKernel {
    static func supports(_ g: ConvolutionGeometry) -> Bool {
        g.isDepthwise && g.dilationHeight == 1 && g.dilationWidth == 1
    }

    /// Floats of one stored sample's input: every channel's phase planes. (Storage needs eight floats of slack after
    /// the last sample: the far taps' last vector reads past its channel's planes.)
    static func storedInputCount(_ g: ConvolutionGeometry) -> Int { g.outChannels * StridePhasePlanes(g).count }
    /// Floats of one stored sample's target: every channel's rows at pitch R.
    static func storedTargetCount(_ g: ConvolutionGeometry) -> Int { g.outChannels * g.outHeight * StridePhasePlanes(g).rowLength }

    /// Writes one sample's input x (channels × inHeight × inWidth) as the kernel reads it.
    static func storeInput(_ g: ConvolutionGeometry, from x: UnsafePointer<Float>, into stored: UnsafeMutablePointer<Float>) {
        let layout = StridePhasePlanes(g)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: layout.rowScratchCount)
        defer { row.deallocate() }
        for channel in 0..<g.outChannels {
            layout.fill(stored + channel * layout.count, from: x + channel * g.inHeight * g.inWidth, row: row)
        }
    }

    /// Writes one sample's target (channels × outHeight × outWidth) at pitch R, zero past the output width.
    static func storeTarget(_ g: ConvolutionGeometry, from target: UnsafePointer<Float>, into stored: UnsafeMutablePointer<Float>) {
        let rowLength = StridePhasePlanes(g).rowLength
        for row in 0..<(g.outChannels * g.outHeight) {
            (stored + row * rowLength).update(from: target + row * g.outWidth, count: g.outWidth)
            (stored + row * rowLength + g.outWidth).update(repeating: 0, count: rowLength - g.outWidth)
        }
    }

    /// Floats of scratch `run` needs: the output grid with a vector of slack, and the mask of its real columns.
    static func scratchCount(_ g: ConvolutionGeometry) -> Int { 2 * g.outHeight * StridePhasePlanes(g).rowLength + 8 }

    /// Adds this sample's weight gradient into `gradient` (when given) and returns its summed squared error (when
    /// `measure`, else 0), from its stored input and target. `scale` is the loss's 1/(samples · positions).
    static func run(_ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    target: UnsafePointer<Float>, activation: ReconstructionActivation, scale: Float,
                    gradient: UnsafeMutablePointer<Float>?, measure: Bool, scratch: UnsafeMutablePointer<Float>) -> Double {
        let layout = StridePhasePlanes(g)
        let rowLength = layout.rowLength
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let count = outHeight * rowLength
        let grid = scratch, mask = scratch + count + 8
        for p in 0..<count { mask[p] = p % rowLength < outWidth ? 1 : 0 }
        let taps = g.kernelHeight * g.kernelWidth
        let offsets = (0..<taps).map { layout.offset(kernelRow: $0 / g.kernelWidth, kernelColumn: $0 % g.kernelWidth) }
        var loss = 0.0
        offsets.withUnsafeBufferPointer { offsets in
            for channel in 0..<g.outChannels {
                let planes = input + channel * layout.count, channelTarget = target + channel * count
                let w = weight + channel * taps
                forward(grid, count: count, planes: planes, offsets: offsets.baseAddress!, taps: taps, weights: w, bias: bias?[channel] ?? 0)
                if measure {
                    for oh in 0..<outHeight {
                        loss += activation.squaredError(grid + oh * rowLength, target: channelTarget + oh * rowLength, count: outWidth, channel: channel)
                    }
                }
                guard let gradient else { continue }
                // dL/dz over the whole grid, its surplus columns included; the mask drops them in `accumulate`.
                activation.gradient(grid, target: channelTarget, count: count, channel: channel, scale: scale)
                accumulate(gradient + channel * taps, count: count, outputGradient: grid, mask: mask, planes: planes,
                           offsets: offsets.baseAddress!, taps: taps)
            }
        }
        return loss
    }

    /// grid[p] = bias + Σ_tap w[tap] · planes[offsets[tap] + p] for p < count (rounded up to eight).
    private static func forward(_ grid: UnsafeMutablePointer<Float>, count: Int, planes: UnsafePointer<Float>,
                                offsets: UnsafePointer<Int>, taps: Int, weights: UnsafePointer<Float>, bias: Float) {
        func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self) }
        var p = 0
        if taps == 9 {
            // The 3×3 case with its nine pointers and weights held in registers.
            let (p0, p1, p2, p3, p4, p5, p6, p7, p8) = (planes + offsets[0], planes + offsets[1], planes + offsets[2], planes + offsets[3],
                                                        planes + offsets[4], planes + offsets[5], planes + offsets[6], planes + offsets[7],
                                                        planes + offsets[8])
            func broadcast(_ tap: Int) -> SIMD8<Float> { SIMD8<Float>(repeating: weights[tap]) }
            let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (broadcast(0), broadcast(1), broadcast(2), broadcast(3), broadcast(4), broadcast(5),
                                                        broadcast(6), broadcast(7), broadcast(8))
            while p < count {
                var sum = SIMD8<Float>(repeating: bias)
                sum.addProduct(w0, load(p0 + p)); sum.addProduct(w1, load(p1 + p)); sum.addProduct(w2, load(p2 + p))
                sum.addProduct(w3, load(p3 + p)); sum.addProduct(w4, load(p4 + p)); sum.addProduct(w5, load(p5 + p))
                sum.addProduct(w6, load(p6 + p)); sum.addProduct(w7, load(p7 + p)); sum.addProduct(w8, load(p8 + p))
                UnsafeMutableRawPointer(grid + p).storeBytes(of: sum, as: SIMD8<Float>.self)
                p += 8
            }
            return
        }
        while p < count {
            var sum = SIMD8<Float>(repeating: bias)
            for tap in 0..<taps { sum.addProduct(SIMD8<Float>(repeating: weights[tap]), load(planes + offsets[tap] + p)) }
            UnsafeMutableRawPointer(grid + p).storeBytes(of: sum, as: SIMD8<Float>.self)
            p += 8
        }
    }

    /// gradient[tap] += Σ_{p < count, mask[p] ≠ 0} dZ[p] · planes[offsets[tap] + p]. A select, not a product with the
    /// mask: a surplus column's dZ may be infinite where no real output reads its inputs, and 0 · ∞ is NaN.
    private static func accumulate(_ gradient: UnsafeMutablePointer<Float>, count: Int, outputGradient dz: UnsafePointer<Float>,
                                   mask: UnsafePointer<Float>, planes: UnsafePointer<Float>, offsets: UnsafePointer<Int>, taps: Int) {
        func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self) }
        let vectorCount = count - count % 8
        if taps == 9 {
            let (p0, p1, p2, p3, p4, p5, p6, p7, p8) = (planes + offsets[0], planes + offsets[1], planes + offsets[2], planes + offsets[3],
                                                        planes + offsets[4], planes + offsets[5], planes + offsets[6], planes + offsets[7],
                                                        planes + offsets[8])
            var (a0, a1, a2, a3, a4, a5, a6, a7, a8) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                                                        SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var p = 0
            while p < vectorCount {
                let d = load(dz + p).replacing(with: 0, where: load(mask + p) .== 0)
                a0.addProduct(d, load(p0 + p)); a1.addProduct(d, load(p1 + p)); a2.addProduct(d, load(p2 + p))
                a3.addProduct(d, load(p3 + p)); a4.addProduct(d, load(p4 + p)); a5.addProduct(d, load(p5 + p))
                a6.addProduct(d, load(p6 + p)); a7.addProduct(d, load(p7 + p)); a8.addProduct(d, load(p8 + p))
                p += 8
            }
            // Without an array of the sums: this runs once per channel, thousands of times a step.
            func add(_ tap: Int, _ sum: SIMD8<Float>) {
                var total = sum.sum()
                for q in vectorCount..<count { total += (mask[q] == 0 ? 0 : dz[q]) * planes[offsets[tap] + q] }
                gradient[tap] += total
            }
            add(0, a0); add(1, a1); add(2, a2); add(3, a3); add(4, a4); add(5, a5); add(6, a6); add(7, a7); add(8, a8)
            return
        }
        for tap in 0..<taps {
            let plane = planes + offsets[tap]
            var sum = SIMD8<Float>()
            var p = 0
            while p < vectorCount {
                sum.addProduct(load(dz + p).replacing(with: 0, where: load(mask + p) .== 0), load(plane + p))
                p += 8
            }
            var total = sum.sum()
            for q in vectorCount..<count { total += (mask[q] == 0 ? 0 : dz[q]) * plane[q] }
            gradient[tap] += total
        }
    }
}
