/// A channel's input zero-padded and split by stride phase, so that every tap of a strided convolution reads
/// contiguously: s_h·s_w planes X_ab[i, j] = x_padded[i·s_h + a, j·s_w + b], all with one row length R. Tap (kh, kw)
/// of output (oh, ow) is then X_ab[oh + kh/s_h, ow + kw/s_w] with a = kh mod s_h, b = kw mod s_w: a fixed offset
/// from output (0, 0), the same for every output. R is wide enough that the output grid at pitch R, shifted by any
/// tap's offset, stays inside its plane (columns past the output width read what lies there, and are dropped).
/// Undilated kernels only.
struct StridePhasePlanes {
    let strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int
    let inHeight: Int, inWidth: Int
    /// Rows of each plane (one more is kept, zero, for the last tap's read past the output grid) and their length R.
    let rows: Int, rowLength: Int

    init(_ g: ConvolutionGeometry) {
        (strideHeight, strideWidth, padTop, padLeft) = (g.strideHeight, g.strideWidth, g.padTop, g.padLeft)
        (inHeight, inWidth) = (g.inHeight, g.inWidth)
        let paddedHeight = g.inHeight + g.padTop + g.padBottom, paddedWidth = g.inWidth + g.padLeft + g.padRight
        rows = max((paddedHeight + g.strideHeight - 1) / g.strideHeight, g.outHeight + (g.kernelHeight - 1) / g.strideHeight)
        rowLength = max((paddedWidth + g.strideWidth - 1) / g.strideWidth, g.outWidth + (g.kernelWidth - 1) / g.strideWidth)
    }

    /// Floats of one plane.
    var planeCount: Int { (rows + 1) * rowLength }
    /// Floats of all the planes.
    var count: Int { strideHeight * strideWidth * planeCount }

    /// Where tap (kh, kw) of output (0, 0) reads, from the first plane.
    func offset(kernelRow kh: Int, kernelColumn kw: Int) -> Int {
        ((kh % strideHeight) * strideWidth + kw % strideWidth) * planeCount + (kh / strideHeight) * rowLength + kw / strideWidth
    }

    /// Floats of the row scratch `fill` takes.
    var rowScratchCount: Int { strideWidth * rowLength }

    /// Writes the planes of one channel's input x (inHeight × inWidth) into `planes` (`count` floats). At a column
    /// stride above 1 each input row is first copied into `row` (`rowScratchCount` floats) between zeros, then dealt
    /// out to its phases (sixteen columns at a time at stride 2): gathering every other float was the kernel's
    /// slowest part.
    func fill(_ planes: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, row padded: UnsafeMutablePointer<Float>) {
        let (sh, sw) = (strideHeight, strideWidth)
        if sw > 1 { padded.update(repeating: 0, count: rowScratchCount) }
        for a in 0..<sh {
            for i in 0...rows {
                let inputRow = i * sh + a - padTop
                guard inputRow >= 0 && inputRow < inHeight else {
                    for b in 0..<sw { (planes + (a * sw + b) * planeCount + i * rowLength).update(repeating: 0, count: rowLength) }
                    continue
                }
                let source = x + inputRow * inWidth
                if sw == 1 {
                    // Columns j whose input column j − pad_left lies in [0, inWidth): copied; the rest zero.
                    let target = planes + a * planeCount + i * rowLength
                    let first = min(rowLength, padLeft), end = max(first, min(rowLength, inWidth + padLeft))
                    target.update(repeating: 0, count: first)
                    (target + first).update(from: source + first - padLeft, count: end - first)
                    (target + end).update(repeating: 0, count: rowLength - end)
                    continue
                }
                // The padded row p[k] = x[row, k − pad_left] (zero outside), then plane b's column j = p[j·s_w + b].
                let copied = max(0, min(inWidth, sw * rowLength - padLeft))
                (padded + padLeft).update(from: source, count: copied)
                let targets = planes + a * sw * planeCount + i * rowLength
                var j = 0
                if sw == 2 {
                    let (even, odd) = (targets, targets + planeCount)
                    while j + 8 <= rowLength {
                        let values = UnsafeRawPointer(padded + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(even + j).storeBytes(of: values.evenHalf, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(odd + j).storeBytes(of: values.oddHalf, as: SIMD8<Float>.self)
                        j += 8
                    }
                }
                for column in j..<rowLength {
                    for b in 0..<sw { targets[b * planeCount + column] = padded[column * sw + b] }
                }
            }
        }
    }
}
