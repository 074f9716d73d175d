/// Bilinear resizing as PIL's `Image.resize(size, BILINEAR)` computes it (Pillow's Resample.c), so that images
/// preprocessed here equal torchvision's `Resize` on PIL images:
/// - the filter is the triangle 1 − |x| stretched by the scale when shrinking (antialiasing): support
///   = scale when scale = in/out > 1, else 1;
/// - output pixel x samples input positions around center = (x + 0.5)·scale, from xmin = int(center − support + 0.5)
///   to xmax = int(center + support + 0.5) (clamped to the image), weights w(i) = filter((i − center + 0.5)/filterscale)
///   normalized to sum 1, then made integers with 22 fractional bits (rounded away from zero);
/// - each output is (Σ w·p + 2^21) >> 22, clamped to 0…255;
/// - two passes with an 8-bit image between them, horizontal first unless the height shrinks by more than twice
///   as many pixels as the width does (Pillow 13, python-pillow/Pillow#9549; found to decide the order exactly on 292
///   random sizes); a pass whose size does not change is skipped.
public enum PillowResampling {
    static let precisionBits = 22

    /// Integer weights for one axis: for each output index its first input index, and its weights.
    struct Coefficients {
        var starts: [Int]
        var counts: [Int]
        var stride: Int
        var weights: [Int32]
    }

    static func coefficients(input: Int, output: Int) -> Coefficients {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale
        let stride = Int(support.rounded(.up)) * 2 + 1
        var result = Coefficients(starts: [], counts: [], stride: stride, weights: [Int32](repeating: 0, count: stride * output))
        var row = [Double](repeating: 0, count: stride)
        let reciprocal = 1.0 / filterScale  // Pillow multiplies by 1/filterscale; dividing could differ in the last bit
        for out in 0..<output {
            let center = (Double(out) + 0.5) * scale
            let first = max(0, Int(center - support + 0.5))
            let last = min(input, Int(center + support + 0.5))
            let count = max(0, last - first)
            var total = 0.0
            for index in 0..<count {
                let x = abs((Double(index + first) - center + 0.5) * reciprocal)
                row[index] = x < 1 ? 1 - x : 0
                total += row[index]
            }
            for index in 0..<count {
                let weight = total != 0 ? row[index] / total : row[index]
                let scaled = weight * Double(1 << precisionBits)
                result.weights[out * stride + index] = Int32(scaled < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            result.starts.append(first)
            result.counts.append(count)
        }
        return result
    }

    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let value = sum >> Int32(precisionBits)
        return value < 0 ? 0 : (value > 255 ? 255 : UInt8(value))
    }

    /// `image` resized to width × height.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        var current = image
        if height < image.height && image.height - height > 2 * (image.width - width) {
            current = vertical(current, height: height)
            return width != image.width ? horizontal(current, width: width) : current
        }
        if width != image.width { current = horizontal(current, width: width) }
        if height != image.height { current = vertical(current, height: height) }
        return current
    }

    static func horizontal(_ image: RGBImage, width: Int) -> RGBImage {
        let table = coefficients(input: image.width, output: width)
        var output = [UInt8](repeating: 0, count: width * image.height * 3)
        let rounding = Int32(1 << (precisionBits - 1)), stride = table.stride, inputRow = image.width * 3
        image.pixels.withUnsafeBufferPointer { source in
            table.weights.withUnsafeBufferPointer { weights in
                table.starts.withUnsafeBufferPointer { starts in
                    table.counts.withUnsafeBufferPointer { counts in
                        output.withUnsafeMutableBufferPointer { target in
                            for y in 0..<image.height {
                                let row = source.baseAddress! + y * inputRow
                                var out = target.baseAddress! + y * width * 3
                                for x in 0..<width {
                                    var red = rounding, green = rounding, blue = rounding
                                    var pixel = row + starts[x] * 3
                                    let kernel = weights.baseAddress! + x * stride
                                    for tap in 0..<counts[x] {
                                        let weight = kernel[tap]
                                        red &+= Int32(pixel[0]) &* weight
                                        green &+= Int32(pixel[1]) &* weight
                                        blue &+= Int32(pixel[2]) &* weight
                                        pixel += 3
                                    }
                                    out[0] = clip8(red)
                                    out[1] = clip8(green)
                                    out[2] = clip8(blue)
                                    out += 3
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: image.height, pixels: output)
    }

    static func vertical(_ image: RGBImage, height: Int) -> RGBImage {
        let table = coefficients(input: image.height, output: height)
        let rowLength = image.width * 3
        var output = [UInt8](repeating: 0, count: rowLength * height)
        let rounding = Int32(1 << (precisionBits - 1))
        var sums = [Int32](repeating: 0, count: rowLength)
        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                sums.withUnsafeMutableBufferPointer { sums in
                    for y in 0..<height {
                        for index in 0..<rowLength { sums[index] = rounding }
                        let start = table.starts[y], base = y * table.stride
                        for tap in 0..<table.counts[y] {
                            let weight = table.weights[base + tap], row = source.baseAddress! + (start + tap) * rowLength
                            for index in 0..<rowLength { sums[index] &+= Int32(row[index]) &* weight }
                        }
                        let out = target.baseAddress! + y * rowLength
                        for index in 0..<rowLength { out[index] = clip8(sums[index]) }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: height, pixels: output)
    }
}
