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
}

enum WinogradKernel {
    typealias Vector = SIMD8<Float>

    static func run(input: UnsafePointer<Float>, weights: WinogradWeights, bias: UnsafePointer<Float>?,
                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let (tilesHigh, tilesWide) = ((g.outHeight + 1) / 2, (g.outWidth + 1) / 2)
        let tiles = tilesHigh * tilesWide
        // Images go through the products together, their tiles side by side, until a product has
        // about 256 columns: SGEMM packs U_ξ on every call, and on small planes (7×7: 16 tiles)
        // packing the weights per image would cost more than the multiplications.
        let group = max(1, min(g.batch, 256 / tiles))
        let columns = group * tiles
        let (channels, outChannels) = (g.inChannels, g.outChannels)
        let transformedInput = UnsafeMutablePointer<Float>.allocate(capacity: 16 * channels * columns)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: 16 * outChannels * columns)
        defer {
            transformedInput.deallocate()
            products.deallocate()
        }
        let v = SendablePointer(transformedInput), m = SendablePointer(products)
        let (low, high) = activation.bounds
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        // Tiles cover rows −padTop ..< 2·tilesHigh + 2 − padTop (and likewise columns).
        let (paddedHeight, paddedWidth) = (2 * tilesHigh + 2, 2 * tilesWide + 2)
        let (inPlane, outPlane) = (g.inHeight * g.inWidth, g.outHeight * g.outWidth)
        weights.transformed.withUnsafeBufferPointer { uBuffer in
            let u = SendablePointer(UnsafeMutablePointer(mutating: uBuffer.baseAddress!))
            var first = 0
            while first < g.batch {
                let count = min(group, g.batch - first)
                let width = count * tiles
                let source = SendablePointer(UnsafeMutablePointer(mutating: input + first * channels * inPlane))
                Parallel.forEachRange(count * channels) { range in
                    let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth)
                    defer { padded.deallocate() }
                    padded.initialize(repeating: 0, count: paddedHeight * paddedWidth)
                    let rows = max(0, min(g.inHeight, paddedHeight - g.padTop))
                    let copied = max(0, min(g.inWidth, paddedWidth - g.padLeft))
                    for item in range {
                        let (image, channel) = (item / channels, item % channels)
                        let plane = source.pointer + item * inPlane
                        for ih in 0..<rows {
                            (padded + (ih + g.padTop) * paddedWidth + g.padLeft).update(from: plane + ih * g.inWidth, count: copied)
                        }
                        transformInput(padded, paddedWidth: paddedWidth, into: v.pointer + channel * width + image * tiles,
                                       pitch: channels * width, tilesHigh: tilesHigh, tilesWide: tilesWide)
                    }
                }
                Parallel.forEachRange(16) { range in
                    for position in range {
                        sgemm(m: outChannels, n: width, k: channels, a: u.pointer + position * outChannels * channels, lda: channels,
                              b: v.pointer + position * channels * width, ldb: width,
                              c: m.pointer + position * outChannels * width, ldc: width)
                    }
                }
                let target = SendablePointer(output + first * outChannels * outPlane)
                Parallel.forEachRange(count * outChannels) { range in
                    for item in range {
                        let (image, channel) = (item / outChannels, item % outChannels)
                        transformOutput(m.pointer + channel * width + image * tiles, pitch: outChannels * width,
                                        into: target.pointer + item * outPlane, geometry: g,
                                        tilesWide: tilesWide, bias: biasPointer?.pointer[channel] ?? 0, low: low, high: high)
                    }
                }
                first += count
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
            // Eight tiles at a time: a 16-wide load at 2·tile holds columns j = 0 (even lanes) and
            // 1 (odd lanes) of eight neighbouring tiles, one at 2·tile + 2 columns 2 and 3.
            var first = 0
            while first + 8 <= tilesWide {
                func columns(_ row: UnsafePointer<Float>) -> (Vector, Vector, Vector, Vector) {
                    let low = UnsafeRawPointer(row + 2 * first).loadUnaligned(as: SIMD16<Float>.self)
                    let high = UnsafeRawPointer(row + 2 * first + 2).loadUnaligned(as: SIMD16<Float>.self)
                    return (low.evenHalf, low.oddHalf, high.evenHalf, high.oddHalf)
                }
                let d0 = columns(r0), d1 = columns(r1), d2 = columns(r2), d3 = columns(r3)
                func store(_ value: Vector, _ position: Int) {
                    UnsafeMutableRawPointer(out + position * pitch + first).storeBytes(of: value, as: Vector.self)
                }
                func row(_ t: (Vector, Vector, Vector, Vector), _ index: Int) {
                    store(t.0 - t.2, 4 * index)
                    store(t.1 + t.2, 4 * index + 1)
                    store(t.2 - t.1, 4 * index + 2)
                    store(t.1 - t.3, 4 * index + 3)
                }
                row((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), 0)
                row((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), 1)
                row((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), 2)
                row((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), 3)
                first += 8
            }
            for tileColumn in first..<tilesWide {
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
        let (lowVector, highVector) = (Vector(repeating: low), Vector(repeating: high))
        for tileRow in 0..<tilesHigh {
            let oh = 2 * tileRow
            let twoRows = oh + 1 < g.outHeight
            // Eight whole tiles at a time (both output columns inside the plane): position ξ of
            // neighbouring tiles is contiguous; the two output columns interleave on the way out.
            var first = 0
            while 2 * (first + 8) <= g.outWidth {
                let base = m + tileRow * tilesWide + first
                func load(_ position: Int) -> Vector { UnsafeRawPointer(base + position * pitch).loadUnaligned(as: Vector.self) }
                func clampVector(_ value: Vector) -> Vector {
                    value.replacing(with: lowVector, where: value .< lowVector).replacing(with: highVector, where: value .> highVector)
                }
                let (m0, m1, m2, m3) = (load(0), load(1), load(2), load(3))
                let (m4, m5, m6, m7) = (load(4), load(5), load(6), load(7))
                let (m8, m9, m10, m11) = (load(8), load(9), load(10), load(11))
                let (s00, s01, s02, s03) = (m0 + m4 + m8, m1 + m5 + m9, m2 + m6 + m10, m3 + m7 + m11)
                let top = (clampVector(s00 + s01 + s02 + bias), clampVector(s01 - s02 - s03 + bias))
                let line = plane + oh * g.outWidth + 2 * first
                for lane in 0..<8 {
                    line[2 * lane] = top.0[lane]
                    line[2 * lane + 1] = top.1[lane]
                }
                if twoRows {
                    let (m12, m13, m14, m15) = (load(12), load(13), load(14), load(15))
                    let (s10, s11, s12, s13) = (m4 - m8 - m12, m5 - m9 - m13, m6 - m10 - m14, m7 - m11 - m15)
                    let bottom = (clampVector(s10 + s11 + s12 + bias), clampVector(s11 - s12 - s13 + bias))
                    for lane in 0..<8 {
                        line[g.outWidth + 2 * lane] = bottom.0[lane]
                        line[g.outWidth + 2 * lane + 1] = bottom.1[lane]
                    }
                }
                first += 8
            }
            for tileColumn in first..<tilesWide {
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
