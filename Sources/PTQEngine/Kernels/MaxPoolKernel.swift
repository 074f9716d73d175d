/// 2-D max pooling of NCHW planes, separably: a row pass takes each window's maximum along the
/// width for every input row, a column pass the maximum of those along the height. Both passes
/// are loops over contiguous runs (one per tap) that LLVM vectorizes; only the row pass's
/// stride pick is scalar. Padding reads as −infinity (rows outside the input are skipped), so a
/// window's maximum is over the input it covers, as ONNX specifies.
enum MaxPoolKernel {
    struct Window: Sendable {
        var kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), padBegin: (Int, Int)
    }

    static func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int,
                    height: Int, width: Int, outHeight: Int, outWidth: Int, window w: Window) {
        let source = SendablePointer(UnsafeMutablePointer(mutating: input))
        let target = SendablePointer(output)
        // The padded row covers every column a window of the last output reads.
        let paddedWidth = max(width + w.padBegin.1, (outWidth - 1) * w.stride.1 + (w.kernel.1 - 1) * w.dilation.1 + 1)
        let spanWidth = (outWidth - 1) * w.stride.1 + 1
        Parallel.forEachRange(planes) { range in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedWidth)
            let span = UnsafeMutablePointer<Float>.allocate(capacity: spanWidth)
            let rows = UnsafeMutablePointer<Float>.allocate(capacity: height * outWidth)
            defer {
                padded.deallocate()
                span.deallocate()
                rows.deallocate()
            }
            padded.initialize(repeating: -.infinity, count: paddedWidth)
            for plane in range {
                let planeInput = source.pointer + plane * height * width
                for ih in 0..<height {
                    (padded + w.padBegin.1).update(from: planeInput + ih * width, count: width)
                    span.update(from: padded, count: spanWidth)
                    for kw in 1..<max(1, w.kernel.1) {
                        maximumInPlace(span, padded + kw * w.dilation.1, count: spanWidth)
                    }
                    let rowOut = rows + ih * outWidth
                    for ow in 0..<outWidth { rowOut[ow] = span[ow * w.stride.1] }
                }
                let planeOutput = target.pointer + plane * outHeight * outWidth
                for oh in 0..<outHeight {
                    let out = planeOutput + oh * outWidth
                    out.update(repeating: -.infinity, count: outWidth)
                    for kh in 0..<w.kernel.0 {
                        let ih = oh * w.stride.0 - w.padBegin.0 + kh * w.dilation.0
                        if ih >= 0 && ih < height { maximumInPlace(out, rows + ih * outWidth, count: outWidth) }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func maximumInPlace(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
        for index in 0..<count {
            let (a, b) = (target[index], source[index])
            target[index] = b > a ? b : a
        }
    }
}
