/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016).
///
/// Each 2×2 block of outputs is computed from the 4×4 input tile that covers it:
/// Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A, so the 36 multiplications per block and channel of the
/// direct form become 16, and the sum over input channels becomes 16 independent matrix products
/// U_ξ [M × C] · V_ξ [C × tiles], one per tile position ξ, run by SGEMM. Weights are transformed
/// once (`WinogradWeights`, when the executor is planned); each call transforms the input tiles,
/// runs the 16 products and transforms back, adding the bias and clamping on the way out.
///
/// Why: ResNet-style networks spend most of their time in 3×3 stride-1 convolutions; with 2.25x
/// fewer multiplications they ran about 1.4x faster end to end here. F(2×2, 3×3) keeps rounding
/// error near the direct form's (its transforms use only ±1 and ½); larger tiles save more but lose
/// accuracy that quantization studies would notice.
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
public final class WinogradWeights: @unchecked Sendable {
    let outChannels: Int, inChannels: Int
    /// U_ξ for ξ = 0..<16, each [outChannels × inChannels], row-major.
    let transformed: [Float]

    /// Transforms a [M, C, 3, 3] weight.
    init(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) {
        self.outChannels = outChannels
        self.inChannels = inChannels
        let plane = outChannels * inChannels
        var u = [Float](repeating: 0, count: 16 * plane)
        u.withUnsafeMutableBufferPointer { target in
            for pair in 0..<plane {
                let g = weight + pair * 9
                // G g (4 rows of 3), then each row (a, b, c) · Gᵀ = (a, (a+b+c)/2, (a−b+c)/2, c).
                for row in 0..<4 {
                    func entry(_ column: Int) -> Float {
                        let (a, b, c) = (g[column], g[3 + column], g[6 + column])
                        switch row {
                        case 0: return a
                        case 1: return (a + b + c) / 2
                        case 2: return (a - b + c) / 2
                        default: return c
                        }
                    }
                    let (a, b, c) = (entry(0), entry(1), entry(2))
                    target[(row * 4) * plane + pair] = a
                    target[(row * 4 + 1) * plane + pair] = (a + b + c) / 2
                    target[(row * 4 + 2) * plane + pair] = (a - b + c) / 2
                    target[(row * 4 + 3) * plane + pair] = c
                }
            }
        }
        transformed = u
    }

    /// Whether a Conv with this geometry can run as F(2×2, 3×3).
    static func applies(to g: ConvolutionGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
    }
}

enum WinogradKernel {
    static func run(input: UnsafePointer<Float>, weights: WinogradWeights, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let (tilesHigh, tilesWide) = ((g.outHeight + 1) / 2, (g.outWidth + 1) / 2)
        let tiles = tilesHigh * tilesWide
        let (channels, outChannels) = (g.inChannels, g.outChannels)
        let transformedInput = UnsafeMutablePointer<Float>.allocate(capacity: 16 * channels * tiles)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: 16 * outChannels * tiles)
        defer {
            transformedInput.deallocate()
            products.deallocate()
        }
        let v = SendablePointer(transformedInput), m = SendablePointer(products)
        let (low, high) = activation.bounds
        weights.transformed.withUnsafeBufferPointer { uBuffer in
            let u = SendablePointer(UnsafeMutablePointer(mutating: uBuffer.baseAddress!))
            for image in 0..<g.batch {
                let source = SendablePointer(UnsafeMutablePointer(mutating: input + image * channels * g.inHeight * g.inWidth))
                // Tiles cover rows −padTop ..< 2·tilesHigh + 2 − padTop (and likewise columns).
                let (paddedHeight, paddedWidth) = (2 * tilesHigh + 2, 2 * tilesWide + 2)
                Parallel.forEachRange(channels) { range in
                    let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth)
                    defer { padded.deallocate() }
                    padded.initialize(repeating: 0, count: paddedHeight * paddedWidth)
                    let rows = max(0, min(g.inHeight, paddedHeight - g.padTop)), columns = max(0, min(g.inWidth, paddedWidth - g.padLeft))
                    for channel in range {
                        let plane = source.pointer + channel * g.inHeight * g.inWidth
                        for ih in 0..<rows {
                            (padded + (ih + g.padTop) * paddedWidth + g.padLeft).update(from: plane + ih * g.inWidth, count: columns)
                        }
                        transformInput(padded, paddedWidth: paddedWidth, into: v.pointer + channel * tiles,
                                       pitch: channels * tiles, tilesHigh: tilesHigh, tilesWide: tilesWide)
                    }
                }
                Parallel.forEachRange(16) { range in
                    for position in range {
                        sgemm(m: outChannels, n: tiles, k: channels, a: u.pointer + position * outChannels * channels, lda: channels,
                              b: v.pointer + position * channels * tiles, ldb: tiles,
                              c: m.pointer + position * outChannels * tiles, ldc: tiles)
                    }
                }
                let target = SendablePointer(output + image * outChannels * g.outHeight * g.outWidth)
                let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
                Parallel.forEachRange(outChannels) { range in
                    for channel in range {
                        transformOutput(m.pointer + channel * tiles, pitch: outChannels * tiles,
                                        into: target.pointer + channel * g.outHeight * g.outWidth, geometry: g,
                                        tilesWide: tilesWide, bias: biasPointer?.pointer[channel] ?? 0, low: low, high: high)
                    }
                }
            }
        }
    }

    /// V_ξ[t] = (Bᵀ d B)_ξ for every 4×4 tile d of one channel, read from its zero-bordered copy
    /// `padded` (row pitch `paddedWidth`); position ξ's values lie `pitch` apart.
    static func transformInput(_ padded: UnsafePointer<Float>, paddedWidth: Int, into v: UnsafeMutablePointer<Float>,
                               pitch: Int, tilesHigh: Int, tilesWide: Int) {
        for tileRow in 0..<tilesHigh {
            let r0 = padded + 2 * tileRow * paddedWidth, r1 = r0 + paddedWidth, r2 = r1 + paddedWidth, r3 = r2 + paddedWidth
            let out = v + tileRow * tilesWide
            for tileColumn in 0..<tilesWide {
                let j = 2 * tileColumn
                // Bᵀ d: rows t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3, column by column.
                var t = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                         Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                t.0 = r0[j] - r2[j]; t.1 = r0[j + 1] - r2[j + 1]; t.2 = r0[j + 2] - r2[j + 2]; t.3 = r0[j + 3] - r2[j + 3]
                t.4 = r1[j] + r2[j]; t.5 = r1[j + 1] + r2[j + 1]; t.6 = r1[j + 2] + r2[j + 2]; t.7 = r1[j + 3] + r2[j + 3]
                t.8 = r2[j] - r1[j]; t.9 = r2[j + 1] - r1[j + 1]; t.10 = r2[j + 2] - r1[j + 2]; t.11 = r2[j + 3] - r1[j + 3]
                t.12 = r1[j] - r3[j]; t.13 = r1[j + 1] - r3[j + 1]; t.14 = r1[j + 2] - r3[j + 2]; t.15 = r1[j + 3] - r3[j + 3]
                // · B: each row (a, b, c, d) becomes (a − c, b + c, c − b, b − d).
                let o = out + tileColumn
                o[0] = t.0 - t.2; o[pitch] = t.1 + t.2; o[2 * pitch] = t.2 - t.1; o[3 * pitch] = t.1 - t.3
                o[4 * pitch] = t.4 - t.6; o[5 * pitch] = t.5 + t.6; o[6 * pitch] = t.6 - t.5; o[7 * pitch] = t.5 - t.7
                o[8 * pitch] = t.8 - t.10; o[9 * pitch] = t.9 + t.10; o[10 * pitch] = t.10 - t.9; o[11 * pitch] = t.9 - t.11
                o[12 * pitch] = t.12 - t.14; o[13 * pitch] = t.13 + t.14; o[14 * pitch] = t.14 - t.13; o[15 * pitch] = t.13 - t.15
            }
        }
    }

    /// Y = Aᵀ m A for every tile of one output channel, plus the bias, clamped; writes the outputs
    /// that lie inside the plane (the last row or column of tiles may hang over by one).
    static func transformOutput(_ m: UnsafePointer<Float>, pitch: Int, into plane: UnsafeMutablePointer<Float>,
                                geometry g: ConvolutionGeometry, tilesWide: Int, bias: Float, low: Float, high: Float) {
        let tilesHigh = (g.outHeight + 1) / 2
        @inline(__always) func clamp(_ value: Float) -> Float { value < low ? low : (value > high ? high : value) }
        for tileRow in 0..<tilesHigh {
            let oh = 2 * tileRow
            let twoRows = oh + 1 < g.outHeight
            for tileColumn in 0..<tilesWide {
                let p = m + tileRow * tilesWide + tileColumn
                // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of m), then · A per row.
                let s00 = p[0] + p[4 * pitch] + p[8 * pitch], s01 = p[pitch] + p[5 * pitch] + p[9 * pitch]
                let s02 = p[2 * pitch] + p[6 * pitch] + p[10 * pitch], s03 = p[3 * pitch] + p[7 * pitch] + p[11 * pitch]
                let s10 = p[4 * pitch] - p[8 * pitch] - p[12 * pitch], s11 = p[5 * pitch] - p[9 * pitch] - p[13 * pitch]
                let s12 = p[6 * pitch] - p[10 * pitch] - p[14 * pitch], s13 = p[7 * pitch] - p[11 * pitch] - p[15 * pitch]
                let ow = 2 * tileColumn
                let line = plane + oh * g.outWidth + ow
                line[0] = clamp(s00 + s01 + s02 + bias)
                if twoRows { line[g.outWidth] = clamp(s10 + s11 + s12 + bias) }
                if ow + 1 < g.outWidth {
                    line[1] = clamp(s01 - s02 - s03 + bias)
                    if twoRows { line[g.outWidth + 1] = clamp(s11 - s12 - s13 + bias) }
                }
            }
        }
    }
}
