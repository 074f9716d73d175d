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

/// An activation applied to a kernel's output while it is still in cache.
public enum FusedActivation: Sendable, Equatable {
    case none
    case relu
    case clip(Float, Float)

    @inline(__always)
    func apply(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: return
        case .relu: clamp(pointer, count: count, low: 0, high: .infinity)
        case .clip(let low, let high): clamp(pointer, count: count, low: low, high: high)
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

extension FusedActivation {
}

/// Convolution through SGEMM: each (image, group, column block) multiplies the group's weight
/// matrix by the im2col matrix of its input; 1x1 stride-1 convolutions read the input as the matrix
/// directly, and depthwise convolutions take a direct kernel because GEMM with K = 9 wastes most of it.
public enum ConvolutionKernel {
    public static func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                           output: UnsafeMutablePointer<Float>, geometry g: ConvolutionGeometry,
                           activation: FusedActivation) {
        Parallel.configure()
        if g.isDepthwise {
            DepthwiseKernel.run(input: input, weight: weight, bias: bias, output: output, geometry: g,
                                activation: activation)
            return
        }
        let outPlane = g.outHeight * g.outWidth
        let inPlane = g.inHeight * g.inWidth
        let kernelSize = g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
        let independent = g.batch * g.groups
        // Split columns when there are too few images and groups to keep every worker busy.
        let blocks = independent >= Parallel.workers ? 1 : min(Parallel.workers, max(1, outPlane / 64))
        let items = independent * blocks
        let inputPointer = SendablePointer(UnsafeMutablePointer(mutating: input))
        let weightPointer = SendablePointer(UnsafeMutablePointer(mutating: weight))
        let biasPointer = bias.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
        let outputPointer = SendablePointer(output)
        Parallel.forEachRange(items) { range in
            var scratch: UnsafeMutablePointer<Float>? = nil
            defer { scratch?.deallocate() }
            for item in range {
                let block = item % blocks
                let group = (item / blocks) % g.groups
                let image = item / (blocks * g.groups)
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
                let outChannels = g.outChannelsPerGroup
                let c = outputPointer.pointer + (image * g.outChannels + group * outChannels) * outPlane + columnStart
                let a = weightPointer.pointer + group * outChannels * kernelSize
                sgemm(m: outChannels, n: columns, k: kernelSize, a: a, lda: kernelSize, b: b, ldb: ldb,
                      c: c, ldc: outPlane)
                for channel in 0..<outChannels {
                    let row = c + channel * outPlane
                    if let biasPointer {
                        addScalar(row, count: columns, biasPointer.pointer[group * outChannels + channel])
                    }
                    activation.apply(row, count: columns)
                }
            }
        }
    }
}

enum Im2Col {
    /// Writes rows (channel, kh, kw) × output positions `columns` of the im2col matrix, zero where
    /// the kernel reads padding.
    static func fill(_ destination: UnsafeMutablePointer<Float>, from input: UnsafePointer<Float>,
                     geometry g: ConvolutionGeometry, columns: Range<Int>) {
        let width = columns.count
        let outWidth = g.outWidth
        var row = 0
        for channel in 0..<g.inChannelsPerGroup {
            let plane = input + channel * g.inHeight * g.inWidth
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let target = destination + row * width
                    var column = columns.lowerBound
                    while column < columns.upperBound {
                        let oh = column / outWidth
                        let owStart = column % outWidth
                        let owEnd = min(outWidth, owStart + (columns.upperBound - column))
                        let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                        let out = target + (column - columns.lowerBound)
                        if ih < 0 || ih >= g.inHeight {
                            for index in 0..<(owEnd - owStart) { out[index] = 0 }
                        } else {
                            let source = plane + ih * g.inWidth
                            let offset = kw * g.dilationWidth - g.padLeft
                            for ow in owStart..<owEnd {
                                let iw = ow * g.strideWidth + offset
                                out[ow - owStart] = (iw >= 0 && iw < g.inWidth) ? source[iw] : 0
                            }
                        }
                        column += owEnd - owStart
                    }
                    row += 1
                }
            }
        }
    }
}

/// x += value in place.
@inline(__always)
func addScalar(_ pointer: UnsafeMutablePointer<Float>, count: Int, _ value: Float) {
    for index in 0..<count { pointer[index] += value }
}
