/// The shape arithmetic of a 2-D convolution (NCHW input, [M, C/groups, kH, kW] weight).
public struct ConvolutionGeometry: Sendable, Equatable {
    public var batch, inChannels, inHeight, inWidth: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var strideHeight, strideWidth, dilationHeight, dilationWidth: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var groups: Int

    public var outHeight: Int {
        (inHeight + padTop + padBottom - dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1
    }
    public var outWidth: Int {
        (inWidth + padLeft + padRight - dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1
    }
    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    public var isDepthwise: Bool { inChannelsPerGroup == 1 && outChannelsPerGroup == 1 }
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}

/// An activation applied to a kernel's output while it is still in cache: a clamp (Relu, Clip), or a
/// gated activation x · gate(x) computed with the same expression as the unfused ops, so the bits match.
public enum FusedActivation: Sendable, Equatable {
    case none
    case relu
    case clip(Float, Float)
    /// x · clamp(αx + β, 0, 1): HardSigmoid(α, β) times its input, torch's hard-swish before opset 14.
    case hardSigmoidProduct(Float, Float)
    /// ONNX HardSwish: x · clamp(x/6 + 1/2, 0, 1).
    case hardSwish
    /// x · sigmoid(x) (SiLU, Swish), with `VectorMath.sigmoid`.
    case silu

    @inline(__always)
    func apply(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: return
        case .relu, .clip:
            let (low, high) = bounds
            clamp(pointer, count: count, low: low, high: high)
        default: applyGate(pointer, count: count)
        }
    }

    /// The clamp this activation is (±infinity where it has no bound); none for gated activations,
    /// which `applyGate` applies.
    var bounds: (Float, Float) {
        switch self {
        case .relu: return (0, .infinity)
        case .clip(let low, let high): return (low, high)
        default: return (-.infinity, .infinity)
        }
    }

    /// Applies a gated activation in place (nothing for the others). In place with one pointer, so
    /// the loops vectorize (two overlapping pointers would not).
    func applyGate(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .hardSigmoidProduct(let alpha, let beta):
            for index in 0..<count {
                let x = pointer[index], y = alpha * x + beta
                pointer[index] = x * (y < 0 ? 0 : (y > 1 ? 1 : y))
            }
        case .hardSwish:
            for index in 0..<count {
                let x = pointer[index], y = x / 6 + 0.5
                pointer[index] = x * (y < 0 ? 0 : (y > 1 ? 1 : y))
            }
        case .silu:
            for index in 0..<count {
                let x = pointer[index]
                pointer[index] = x * VectorMath.sigmoid(x)
            }
        default: return
        }
    }
}

/// x = min(max(x, low), high) in place. A plain loop: LLVM vectorizes it (explicit SIMD8
/// loads through loadUnaligned measured 8x slower here).
@inline(__always)
func clamp(_ pointer: UnsafeMutablePointer<Float>, count: Int, low: Float, high: Float) {
    for index in 0..<count {
        let value = pointer[index]
        pointer[index] = value < low ? low : (value > high ? high : value)
    }
}

/// Convolution through SGEMM: each (image, group, column block) multiplies the group's weight
/// matrix by the im2col matrix of its input; 1x1 stride-1 convolutions read the input as the matrix
/// directly, depthwise convolutions take a direct kernel because GEMM with K = 9 wastes most of it,
/// and 3×3 stride-1 convolutions given Winograd weights run as F(2×2, 3×3) (`WinogradKernel`).
public enum ConvolutionKernel {
    public static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry,
                           activation: FusedActivation, winograd: WinogradWeights? = nil) {
        Parallel.configure()
        // The executor transformed these weights from this Conv's own constant weight, after
        // `ConvolutionOperators.suitsWinograd` accepted its attributes.
        if let winograd, winograd.outChannels == g.outChannels, winograd.inChannels == g.inChannels {
            WinogradKernel.run(input: input, weights: winograd, bias: bias, output: output, geometry: g, activation: activation)
            return
        }
        if GroupedKernel.suits(g) {
            GroupedKernel.run(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: activation)
            return
        }
        if g.isDepthwise {
            DepthwiseKernel.run(input: input, weight: weight, bias: bias, output: output, geometry: g,
                                activation: activation)
            return
        }
        let outPlane = g.outHeight * g.outWidth
        let inPlane = g.inHeight * g.inWidth
        if g.isPointwise && outPlane == 1 && g.groups == 1 {
            // Squeeze-excitation's convs see a 1×1 plane: each image is a matrix-vector product, which SGEMM
            // runs at a fifth of the speed of dot products (see `DotProductKernel`).
            runOnSinglePosition(input: input, weight: weight, bias: bias, output: output, geometry: g, activation: activation)
            return
        }
        let kernelSize = g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
        let independent = g.batch * g.groups
        // Split columns when there are too few images and groups to keep every worker busy.
        let workers = Parallel.available
        let blocks = independent >= workers ? 1 : min(workers, max(1, outPlane / 64))
        // Planes too small to split (7×7, 14×14 at batch 1) split their output channels instead.
        let rowBlocks = independent >= workers || blocks > 1 ? 1 : min(workers, max(1, g.outChannelsPerGroup / 32))
        let items = independent * blocks * rowBlocks
        let inputPointer = SendablePointer(UnsafeMutablePointer(mutating: input))
        let weightPointer = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let outputPointer = SendablePointer(output)
        Parallel.forEachRange(items) { range in
            var scratch: UnsafeMutablePointer<Float>? = nil
            defer { scratch?.deallocate() }
            for item in range {
                let rowBlock = item % rowBlocks
                let block = (item / rowBlocks) % blocks
                let group = (item / (rowBlocks * blocks)) % g.groups
                let image = item / (rowBlocks * blocks * g.groups)
                let columnStart = outPlane * block / blocks
                let columnEnd = outPlane * (block + 1) / blocks
                let columns = columnEnd - columnStart
                if columns == 0 { continue }
                let groupInput = inputPointer.pointer + (image * g.inChannels + group * g.inChannelsPerGroup) * inPlane
                let b: UnsafePointer<Float>
                let ldb: Int
                if g.isPointwise {
                    b = UnsafePointer(groupInput + columnStart)
                    ldb = inPlane
                } else {
                    if scratch == nil {
                        scratch = .allocate(capacity: kernelSize * (outPlane / blocks + 1))
                    }
                    Im2Col.fill(scratch!, from: groupInput, geometry: g, columns: columnStart..<columnEnd)
                    b = UnsafePointer(scratch!)
                    ldb = columns
                }
                // Boundaries at multiples of 16 rows, the SGEMM kernel's block: every row then sums in the same
                // order as in an unsplit run, so the bits do not depend on the batch or the number of cores.
                let boundary = { (part: Int) in part == rowBlocks ? g.outChannelsPerGroup : g.outChannelsPerGroup * part / rowBlocks / 16 * 16 }
                let firstChannel = boundary(rowBlock)
                let outChannels = boundary(rowBlock + 1) - firstChannel
                if outChannels <= 0 { continue }
                let groupChannel = group * g.outChannelsPerGroup + firstChannel
                let c = outputPointer.pointer + (image * g.outChannels + groupChannel) * outPlane + columnStart
                let a = weightPointer.pointer + groupChannel * kernelSize
                // C starts as the bias and SGEMM accumulates into it (beta 1): one pass over the
                // output fewer than zeroing (beta 0) and adding the bias afterwards.
                for channel in 0..<outChannels {
                    (c + channel * outPlane).update(repeating: biasPointer?.pointer[groupChannel + channel] ?? 0, count: columns)
                }
                sgemm(m: outChannels, n: columns, k: kernelSize, a: a, lda: kernelSize, b: b, ldb: ldb,
                      c: c, ldc: outPlane, beta: 1)
                if activation != .none {
                    for channel in 0..<outChannels { activation.apply(c + channel * outPlane, count: columns) }
                }
            }
        }
    }
}

extension ConvolutionKernel {
    static func runOnSinglePosition(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                    output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry, activation: FusedActivation) {
        let (source, weights, target) = (SendablePointer(UnsafeMutablePointer(mutating: input)),
                                         SendablePointer(UnsafeMutablePointer(mutating: weight)), SendablePointer(output))
        let biases = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        Parallel.forEachRange(g.batch) { images in
            for image in images {
                let c = target.pointer + image * g.outChannels
                for channel in 0..<g.outChannels { c[channel] = biases?.pointer[channel] ?? 0 }
                DotProductKernel.run(m: 1, n: g.outChannels, k: g.inChannels, a: source.pointer + image * g.inChannels, lda: g.inChannels,
                                     b: weights.pointer, ldb: g.inChannels, c: c, ldc: g.outChannels, alpha: 1, accumulate: true)
                activation.apply(c, count: g.outChannels)
            }
        }
    }
}

enum Im2Col {
    /// Writes rows (channel, kh, kw) × output positions `columns` of the im2col matrix, zero where
    /// the kernel reads padding. Each output row's span splits into a left padding run, the part
    /// inside the input (a plain copy at stride 1) and a right padding run, so the inner loops
    /// carry no bounds checks.
    static func fill(_ destination: UnsafeMutablePointer<Float>, from input: UnsafePointer<Float>,
                     geometry g: ConvolutionGeometry, columns: Range<Int>) {
        let width = columns.count
        let outWidth = g.outWidth
        let strideW = g.strideWidth
        var row = 0
        for channel in 0..<g.inChannelsPerGroup {
            let plane = input + channel * g.inHeight * g.inWidth
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let target = destination + row * width
                    let offset = kw * g.dilationWidth - g.padLeft
                    // Output columns whose input column ow·s + offset lies in [0, inWidth).
                    let firstInside = offset >= 0 ? 0 : min(outWidth, (-offset + strideW - 1) / strideW)
                    let endInside = g.inWidth - offset <= 0 ? firstInside
                        : max(firstInside, min(outWidth, (g.inWidth - offset + strideW - 1) / strideW))
                    var column = columns.lowerBound
                    while column < columns.upperBound {
                        let oh = column / outWidth
                        let owStart = column % outWidth
                        let owEnd = min(outWidth, owStart + (columns.upperBound - column))
                        let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                        let out = target + (column - columns.lowerBound) - owStart
                        if ih < 0 || ih >= g.inHeight {
                            (out + owStart).update(repeating: 0, count: owEnd - owStart)
                        } else {
                            let source = plane + ih * g.inWidth + offset
                            let low = min(max(owStart, firstInside), owEnd)
                            let high = max(min(owEnd, endInside), low)
                            if low > owStart { (out + owStart).update(repeating: 0, count: low - owStart) }
                            if strideW == 1 {
                                (out + low).update(from: source + low, count: high - low)
                            } else {
                                for ow in low..<high { out[ow] = source[ow * strideW] }
                            }
                            if owEnd > high { (out + high).update(repeating: 0, count: owEnd - high) }
                        }
                        column += owEnd - owStart
                    }
                    row += 1
                }
            }
        }
    }
}
