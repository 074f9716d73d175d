import Testing
@testable import PTQEngine

/// The fast kernels (im2col + SGEMM, direct depthwise, separable MaxPool) against plain loops that
/// follow the ONNX definitions, over geometries the kernels treat differently: stride 1 and 2,
/// odd widths that leave vector tails, asymmetric pads, dilation, 5×5, ceil_mode.
@Suite struct KernelTests {
    /// Seeded values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    /// Conv by its definition: y[n,m,oh,ow] = b[m] + Σ x[n, group·C/G + c, oh·s − p + kh·d, ow·s − p + kw·d] · w[m,c,kh,kw].
    static func referenceConv(_ x: Tensor, _ w: Tensor, _ b: [Float], _ g: ConvolutionGeometry) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        let perGroup = g.inChannelsPerGroup
        for n in 0..<g.batch {
            for m in 0..<g.outChannels {
                let group = m / g.outChannelsPerGroup
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        var sum = b[m]
                        for c in 0..<perGroup {
                            for kh in 0..<g.kernelHeight {
                                for kw in 0..<g.kernelWidth {
                                    let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                                    let iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth
                                    guard ih >= 0, ih < g.inHeight, iw >= 0, iw < g.inWidth else { continue }
                                    let input = x.floats[((n * g.inChannels + group * perGroup + c) * g.inHeight + ih) * g.inWidth + iw]
                                    sum += input * w.floats[((m * perGroup + c) * g.kernelHeight + kh) * g.kernelWidth + kw]
                                }
                            }
                        }
                        y[((n * g.outChannels + m) * g.outHeight + oh) * g.outWidth + ow] = sum
                    }
                }
            }
        }
        return y
    }

    struct ConvCase: CustomTestStringConvertible, Sendable {
        var channels: Int, outChannels: Int, group: Int, size: (Int, Int), kernel: Int, stride: Int, dilation: Int
        var pads: [Int]
        var testDescription: String {
            "\(channels)->\(outChannels) g\(group) \(size.0)x\(size.1) k\(kernel) s\(stride) d\(dilation) pads \(pads)"
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(channels: 4, outChannels: 4, group: 4, size: (14, 14), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 3, outChannels: 3, group: 3, size: (7, 7), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (5, 16), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 3, outChannels: 3, group: 3, size: (13, 11), kernel: 3, stride: 2, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (12, 12), kernel: 3, stride: 2, dilation: 1, pads: [0, 0, 1, 1]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (15, 15), kernel: 5, stride: 2, dilation: 1, pads: [2, 2, 2, 2]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (9, 10), kernel: 3, stride: 1, dilation: 2, pads: [2, 2, 2, 2]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (6, 6), kernel: 3, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
        ConvCase(channels: 5, outChannels: 7, group: 1, size: (11, 9), kernel: 3, stride: 2, dilation: 1, pads: [1, 0, 1, 2]),
        ConvCase(channels: 4, outChannels: 6, group: 2, size: (8, 8), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 6, outChannels: 5, group: 1, size: (7, 5), kernel: 1, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
        // Winograd's cases: even and odd planes (a last tile hanging over), no, symmetric and asymmetric pads.
        ConvCase(channels: 16, outChannels: 8, group: 1, size: (7, 7), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 16, outChannels: 5, group: 1, size: (8, 6), kernel: 3, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
        ConvCase(channels: 17, outChannels: 3, group: 1, size: (5, 9), kernel: 3, stride: 1, dilation: 1, pads: [1, 0, 2, 1]),
        // Wide enough for the transforms' eight-tile vector path, with scalar tiles after it.
        ConvCase(channels: 16, outChannels: 4, group: 1, size: (6, 37), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 16, outChannels: 4, group: 1, size: (5, 34), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        // Depthwise k×k over stride phases: 5×5 and 7×7, stride 1 and 2, odd and even planes, asymmetric
        // (TF "same") pads, a 4×4 kernel.
        ConvCase(channels: 3, outChannels: 3, group: 3, size: (7, 7), kernel: 5, stride: 1, dilation: 1, pads: [2, 2, 2, 2]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (14, 13), kernel: 5, stride: 2, dilation: 1, pads: [1, 2, 2, 1]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (12, 12), kernel: 7, stride: 1, dilation: 1, pads: [3, 3, 3, 3]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (11, 16), kernel: 7, stride: 2, dilation: 1, pads: [3, 2, 3, 4]),
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (9, 9), kernel: 4, stride: 2, dilation: 1, pads: [0, 0, 0, 0]),
        // Wide enough for the stride-2 phase split's sixteen-column vector path.
        ConvCase(channels: 2, outChannels: 2, group: 2, size: (9, 40), kernel: 5, stride: 2, dilation: 1, pads: [2, 1, 2, 2]),
        // Narrow groups (RegNet) computed directly: 16 and 8 channels a group, stride 1 and 2, odd planes and asymmetric pads.
        ConvCase(channels: 32, outChannels: 32, group: 2, size: (7, 7), kernel: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 32, outChannels: 16, group: 2, size: (14, 13), kernel: 3, stride: 2, dilation: 1, pads: [1, 1, 1, 1]),
        ConvCase(channels: 16, outChannels: 16, group: 2, size: (9, 10), kernel: 3, stride: 2, dilation: 1, pads: [0, 0, 1, 1]),
        ConvCase(channels: 12, outChannels: 8, group: 2, size: (5, 21), kernel: 5, stride: 1, dilation: 1, pads: [2, 1, 2, 3]),
        // Squeeze-excitation's 1×1 convs on a 1×1 plane, as dot products: rows in fours and one to three left
        // over, sums in sixteens and a tail.
        ConvCase(channels: 37, outChannels: 19, group: 1, size: (1, 1), kernel: 1, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
        ConvCase(channels: 64, outChannels: 8, group: 1, size: (1, 1), kernel: 1, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
    ]

    @Test(arguments: convCases)
    func convolutionMatchesDefinition(_ c: ConvCase) throws {
        let x = Tensor(shape: [2, c.channels, c.size.0, c.size.1], floats: Self.values(2 * c.channels * c.size.0 * c.size.1, seed: 1))
        let w = Tensor(shape: [c.outChannels, c.channels / c.group, c.kernel, c.kernel],
                       floats: Self.values(c.outChannels * c.channels / c.group * c.kernel * c.kernel, seed: 2))
        let b = Self.values(c.outChannels, seed: 3)
        let attributes: [String: Attribute] = ["group": .int(c.group), "strides": .ints([c.stride, c.stride]),
                                               "dilations": .ints([c.dilation, c.dilation]), "pads": .ints(c.pads)]
        let node = Node(name: "n", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: attributes)
        let g = try ConvolutionOperators.geometry(node, input: x.shape, weight: w.shape)
        let expected = Self.referenceConv(x, w, b, g)
        let winograd = ConvolutionOperators.suitsWinograd(node, weight: w)
            ? w.floats.withUnsafeBufferPointer { WinogradWeights($0.baseAddress!, outChannels: c.outChannels, inChannels: c.channels) }
            : nil
        #expect((winograd != nil) == (c.kernel == 3 && c.stride == 1 && c.group == 1 && c.dilation == 1 && c.channels >= 16))
        for activation in [FusedActivation.none, .clip(0, 0.5)] {
            let y = try ConvolutionOperators.conv(node, [x, w, Tensor(shape: [c.outChannels], floats: b)], activation: activation,
                                                  winograd: winograd)
            #expect(y.shape == [2, c.outChannels, g.outHeight, g.outWidth])
            let clamped = activation == .none ? expected : expected.map { min(max($0, 0), 0.5) }
            #expect(relativeError(y.floats, clamped) <= 1e-5, "\(activation)")
        }
    }

    @Test(arguments: [
        (3, 2, 1, 1, false), (2, 2, 0, 1, false), (3, 2, 0, 1, true), (3, 1, 1, 2, false), (2, 3, 1, 1, true),
    ])
    func maxPoolMatchesDefinition(kernel: Int, stride: Int, pad: Int, dilation: Int, ceil: Bool) throws {
        let (height, width) = (9, 13)
        let x = Tensor(shape: [1, 3, height, width], floats: Self.values(3 * height * width, seed: 4))
        let y = try runSingle("MaxPool", inputs: [x], attributes: [
            "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad]),
            "dilations": .ints([dilation, dilation]), "ceil_mode": .int(ceil ? 1 : 0),
        ])[0]
        let (outHeight, outWidth) = (y.shape[2], y.shape[3])
        var expected: [Float] = []
        for plane in 0..<3 {
            for oh in 0..<outHeight {
                for ow in 0..<outWidth {
                    var best = -Float.infinity
                    for kh in 0..<kernel {
                        for kw in 0..<kernel {
                            let ih = oh * stride - pad + kh * dilation, iw = ow * stride - pad + kw * dilation
                            if ih >= 0, ih < height, iw >= 0, iw < width { best = max(best, x.floats[(plane * height + ih) * width + iw]) }
                        }
                    }
                    expected.append(best)
                }
            }
        }
        #expect(y.floats == expected)
    }
}
