import Foundation

/// A quantization grid, computed from a range as AIMET 2.x computes it.
///
/// n = 2^bits − 1 (one less when strict symmetric). The range is widened to include 0; if
/// max − min < n·ε (ε = Float.ulpOfOne) it is widened further (symmetric: max += ⌊n/2⌋·ε,
/// min −= ⌈n/2⌉·ε; asymmetric: max += n·ε).
/// - Symmetric: delta = max(max/⌊n/2⌋, −min/⌈n/2⌉), offset = −⌈n/2⌉, grid [−⌈n/2⌉·delta, ⌊n/2⌋·delta].
/// - Asymmetric: delta = (max − min)/n, offset = round(min/delta) (so 0 is exactly representable),
///   grid [offset·delta, (offset + n)·delta].
/// Quantize-dequantize: q = clamp(round(x/delta) − offset, 0, n), x̂ = (q + offset)·delta, rounding
/// half to even throughout.
///
/// Non-finite bounds never reach the arithmetic: calibration skips NaN and ±inf when it gathers a
/// range (see `FiniteRange`), and a bound that is still non-finite here (a NaN, or an infinity from
/// a caller) is taken as 0 for NaN and ±Float.greatestFiniteMagnitude/2 for an infinity, so the
/// grid stays finite.
public struct Encoding: Sendable, Equatable {
    public var bitwidth: Int
    public var isSymmetric: Bool
    public var isStrict: Bool
    public var scale: Float
    public var offset: Int
    /// Number of steps: the largest q.
    public var levels: Int

    public var minimum: Float { Float(offset) * scale }
    public var maximum: Float { Float(offset + levels) * scale }

    public init(minimum rawMinimum: Float, maximum rawMaximum: Float, bitwidth: Int, symmetric: Bool, strict: Bool = false) {
        precondition((2...32).contains(bitwidth), "bitwidth \(bitwidth) is out of range")
        let steps = Float((1 << bitwidth) - 1 - (symmetric && strict ? 1 : 0))
        let levels = Int(steps)
        let limit = Float.greatestFiniteMagnitude / 2
        func finite(_ value: Float) -> Float { value.isNaN ? 0 : Swift.min(Swift.max(value, -limit), limit) }
        var low = min(finite(rawMinimum), 0), high = max(finite(rawMaximum), 0)
        let epsilon = Float.ulpOfOne
        let halfDown = (steps / 2).rounded(.down), halfUp = (steps / 2).rounded(.up)
        if high - low < steps * epsilon {
            if symmetric {
                high += halfDown * epsilon
                low -= halfUp * epsilon
            } else {
                high += steps * epsilon
            }
        }
        self.bitwidth = bitwidth
        self.isSymmetric = symmetric
        self.isStrict = strict && symmetric
        self.levels = levels
        if symmetric {
            scale = max(high / halfDown, -low / halfUp)
            offset = -Int(halfUp)
        } else {
            scale = (high - low) / steps
            offset = Int((low / scale).rounded(.toNearestOrEven))
        }
    }

    /// Quantize-dequantize one value.
    @inline(__always)
    public func quantizeDequantize(_ x: Float) -> Float {
        let q = (x / scale).rounded(.toNearestOrEven) - Float(offset)
        return (min(max(q, 0), Float(levels)) + Float(offset)) * scale
    }

    /// Quantize-dequantize values in place (a loop LLVM vectorizes).
    public func apply(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let (scale, offset, top) = (self.scale, Float(self.offset), Float(levels))
        for index in 0..<count {
            let q = (pointer[index] / scale).rounded(.toNearestOrEven) - offset
            pointer[index] = ((q < 0 ? 0 : (q > top ? top : q)) + offset) * scale
        }
    }
}

/// Fake quantization of whole tensors: one encoding, or one per slice along a channel axis.
public enum FakeQuantization {
    /// Quantize-dequantize a whole tensor, split over the worker threads for large activations.
    public static func apply(_ tensor: inout Tensor, _ encoding: Encoding) {
        tensor.floats.withUnsafeMutableBufferPointer { buffer in
            let base = SendablePointer(buffer.baseAddress!)
            let blocks = max(1, buffer.count / 65_536)
            let count = buffer.count
            Parallel.forEachRange(blocks) { range in
                let start = count * range.lowerBound / blocks, end = count * range.upperBound / blocks
                encoding.apply(base.pointer + start, count: end - start)
            }
        }
    }

    /// Quantize-dequantize with one encoding, or one per slice of `axis` (a weight's encodings as calibration makes them).
    public static func apply(_ tensor: inout Tensor, _ encodings: [Encoding], axis: Int) {
        if encodings.count == 1 { apply(&tensor, encodings[0]) } else { apply(&tensor, perChannel: encodings, axis: axis) }
    }

    /// `graph` with every weight in `encodings` replaced by its quantize-dequantized values.
    public static func quantizingWeights(_ graph: Graph, _ encodings: [String: [Encoding]], axes: [String: Int]) -> Graph {
        var result = graph
        for (name, list) in encodings {
            guard var weight = result.initializers[name] else { continue }
            apply(&weight, list, axis: axes[name] ?? 0)
            result.initializers[name] = weight
        }
        return result
    }

    public static func apply(_ tensor: inout Tensor, perChannel encodings: [Encoding], axis: Int) {
        let layout = tensor
        tensor.floats.withUnsafeMutableBufferPointer { buffer in
            layout.forEachChannelRun(axis: axis) { channel, run in
                encodings[channel].apply(buffer.baseAddress! + run.lowerBound, count: run.count)
            }
        }
    }

    /// Per-channel minimum and maximum along `axis`.
    public static func channelRanges(_ tensor: Tensor, axis: Int) -> [(Float, Float)] {
        var ranges = [(Float, Float)](repeating: (.infinity, -.infinity), count: tensor.shape[axis])
        tensor.forEachChannelRun(axis: axis) { channel, run in
            ranges[channel] = FiniteRange.of(tensor.floats[run], extending: ranges[channel])
        }
        return ranges.map { $0.0 > $0.1 ? (0, 0) : $0 }
    }
}
