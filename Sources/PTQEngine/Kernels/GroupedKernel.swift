/// Grouped convolutions with narrow groups (RegNet's 3×3 convs: 8–16 channels a group), computed directly.
///
/// Why: through im2col each group copied its 16·9 × positions matrix and SGEMM packed it again, for a product
/// with m = 16 rows: the copies took more time than the arithmetic (im2col 24% and OpenBLAS's packing 13% of
/// regnet_x_400mf at batch 32). Here each group's input channels are laid out once as padded planes (as
/// stride phases at stride 2, `DepthwiseKernel.PhaseLayout`), and four output channels × sixteen positions
/// accumulate in registers over (input channel, tap), read straight from those planes.
/// Each output: 0 + Σ over input channels, then taps in order, as fused multiply-adds, then + bias; the same
/// order whatever the batch, the split over threads or the blocking, so results do not depend on the core count.
enum GroupedKernel {
    static func suits(_ g: ConvolutionGeometry) -> Bool {
        g.groups > 1 && !g.isDepthwise && g.inChannelsPerGroup <= 64 && g.outChannelsPerGroup % 4 == 0
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.strideHeight == g.strideWidth && g.strideHeight <= 2
            && g.kernelHeight * g.kernelWidth > 1
    }

    static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let s = g.strideHeight
        let paddedHeight = max(g.inHeight + g.padTop, (g.outHeight - 1) * s + g.kernelHeight)
        let paddedWidth = max(g.inWidth + g.padLeft, (g.outWidth - 1) * s + g.kernelWidth)
        let layout = DepthwiseKernel.PhaseLayout(paddedHeight: paddedHeight, paddedWidth: paddedWidth, stride: s,
                                                 kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth)
        // Per input channel: its padded plane (read directly at stride 1) or its phases (stride 2).
        let channelSize = s == 1 ? paddedHeight * paddedWidth : layout.capacity
        let count = (g.outHeight - 1) * layout.width + g.outWidth
        let gridCount = (count + 15) / 16 * 16
        let (inputs, outputs, taps) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        let (source, weights, target) = (SendablePointer(UnsafeMutablePointer(mutating: input)),
                                         SendablePointer(UnsafeMutablePointer(mutating: weight)), SendablePointer(output))
        let biases = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let (low, high) = activation.bounds
        Parallel.forEachRange(g.batch * g.groups) { range in
            // Sixteen floats of slack: the last vectors read and write past the positions kept.
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: inputs * channelSize + 16)
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth + 16)
            let grids = UnsafeMutablePointer<Float>.allocate(capacity: 4 * gridCount)
            defer { planes.deallocate(); padded.deallocate(); grids.deallocate() }
            planes.initialize(repeating: 0, count: inputs * channelSize + 16)
            padded.initialize(repeating: 0, count: paddedHeight * paddedWidth + 16)
            for item in range {
                let (image, group) = (item / g.groups, item % g.groups)
                for channel in 0..<inputs {
                    let plane = source.pointer + ((image * g.inChannels) + group * inputs + channel) * g.inHeight * g.inWidth
                    let destination = s == 1 ? planes + channel * channelSize : padded
                    for row in 0..<g.inHeight {
                        (destination + (row + g.padTop) * paddedWidth + g.padLeft).update(from: plane + row * g.inWidth, count: g.inWidth)
                    }
                    if s == 2 { DepthwiseKernel.splitPhases(UnsafePointer(padded), layout, planes + channel * channelSize) }
                }
                layout.tapOffsets.withUnsafeBufferPointer { offsets in
                    for first in stride(from: 0, to: outputs, by: 4) {
                        let channel = group * outputs + first
                        let w = weights.pointer + channel * inputs * taps
                        accumulate(UnsafePointer(planes), channelSize: channelSize, inputs: inputs, taps: taps, offsets: offsets,
                                   weights: UnsafePointer(w), count: count, grids: grids, gridCount: gridCount)
                        for j in 0..<4 {
                            let biasValue = biases?.pointer[channel + j] ?? 0
                            let out = target.pointer + (image * g.outChannels + channel + j) * g.outHeight * g.outWidth
                            let grid = grids + j * gridCount
                            for oh in 0..<g.outHeight {
                                for ow in 0..<g.outWidth {
                                    let value = grid[oh * layout.width + ow] + biasValue
                                    out[oh * g.outWidth + ow] = value < low ? low : (value > high ? high : value)
                                }
                            }
                            activation.applyGate(out, count: g.outHeight * g.outWidth)
                        }
                    }
                }
            }
        }
    }

    /// grids[j][p] = Σ_i Σ_t w[j, i, t] · plane_i[p + offset_t] for four output channels j, sixteen positions at a time.
    @inline(__always)
    static func accumulate(_ planes: UnsafePointer<Float>, channelSize: Int, inputs: Int, taps: Int, offsets: UnsafeBufferPointer<Int>,
                           weights: UnsafePointer<Float>, count: Int, grids: UnsafeMutablePointer<Float>, gridCount: Int) {
        let stride = inputs * taps
        var p = 0
        while p < count {
            var (a0, a1, a2, a3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var (b0, b1, b2, b3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for i in 0..<inputs {
                let plane = planes + i * channelSize + p
                let w = weights + i * taps
                for t in 0..<taps {
                    let at = plane + offsets[t]
                    let low = UnsafeRawPointer(at).loadUnaligned(as: SIMD8<Float>.self)
                    let high = UnsafeRawPointer(at + 8).loadUnaligned(as: SIMD8<Float>.self)
                    let (w0, w1, w2, w3) = (w[t], w[stride + t], w[2 * stride + t], w[3 * stride + t])
                    a0.addProduct(SIMD8(repeating: w0), low); b0.addProduct(SIMD8(repeating: w0), high)
                    a1.addProduct(SIMD8(repeating: w1), low); b1.addProduct(SIMD8(repeating: w1), high)
                    a2.addProduct(SIMD8(repeating: w2), low); b2.addProduct(SIMD8(repeating: w2), high)
                    a3.addProduct(SIMD8(repeating: w3), low); b3.addProduct(SIMD8(repeating: w3), high)
                }
            }
            store(a0, b0, grids + p)
            store(a1, b1, grids + gridCount + p)
            store(a2, b2, grids + 2 * gridCount + p)
            store(a3, b3, grids + 3 * gridCount + p)
            p += 16
        }
    }

    @inline(__always)
    static func store(_ low: SIMD8<Float>, _ high: SIMD8<Float>, _ at: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(at).storeBytes(of: low, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(at + 8).storeBytes(of: high, as: SIMD8<Float>.self)
    }
}
