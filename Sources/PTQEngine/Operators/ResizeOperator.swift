import Foundation

/// Resize (opset 10 Upsample-style `scales` input; opset 11+ `roi`, `scales`, `sizes`; opset 18
/// `axes`): nearest, linear and cubic interpolation, one axis at a time. Separable: interpolating
/// along each axis in turn is exactly the multilinear (or bicubic) interpolation ONNX defines.
///
/// Per output index x along an axis of input length n, output length m and scale s (m / n when
/// `sizes` is given), the source coordinate is, by coordinate_transformation_mode:
/// half_pixel (x + ½)/s − ½; pytorch_half_pixel the same, or 0 when m = 1; align_corners
/// x·(n − 1)/(m − 1), or 0 when m = 1; asymmetric x/s; tf_half_pixel_for_nn (x + ½)/s.
/// nearest rounds it by nearest_mode (round_prefer_floor, round_prefer_ceil, floor, ceil) and clamps
/// to [0, n − 1]; linear clamps the coordinate to [0, n − 1] and blends its two neighbours; cubic
/// blends four with Keys' kernel (cubic_coeff_a, default −0.75), indices clamped to the edge, or
/// with exclude_outside the taps outside dropped and the rest renormalized. tf_crop_and_resize,
/// half_pixel_symmetric, antialias and keep_aspect_ratio_policy other than stretch are refused by name.
enum ResizeOperator {
    static let all: [String: OperatorFunction] = [
        "Resize": { node, inputs, opset in [try resize(node, inputs, opset: opset)] },
        "Upsample": { node, inputs, opset in [try resize(node, inputs, opset: opset)] },
    ]

    static let transformations: Set<String> = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]

    static func resize(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let mode = try AttributeReading.string(node, "mode") ?? "nearest"
        guard ["nearest", "linear", "cubic"].contains(mode) else {
            throw AttributeReading.fail(node, "mode", "is '\(mode)'; expected nearest, linear or cubic")
        }
        let legacy = node.opType == "Upsample" || opset < 11
        let transformation = try AttributeReading.string(node, "coordinate_transformation_mode") ?? (legacy ? "asymmetric" : "half_pixel")
        guard transformations.contains(transformation) else {
            throw AttributeReading.fail(node, "coordinate_transformation_mode", "is '\(transformation)'; ptq runs \(transformations.sorted().joined(separator: ", "))")
        }
        let policy = try AttributeReading.string(node, "keep_aspect_ratio_policy") ?? "stretch"
        guard policy == "stretch" else {
            throw AttributeReading.fail(node, "keep_aspect_ratio_policy", "is '\(policy)'; ptq resizes to the sizes given (stretch)")
        }
        if try AttributeReading.int(node, "antialias") ?? 0 != 0 {
            throw AttributeReading.fail(node, "antialias", "is 1; ptq resizes without antialiasing")
        }
        let nearestMode = try AttributeReading.string(node, "nearest_mode") ?? (legacy ? "floor" : "round_prefer_floor")
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
            throw AttributeReading.fail(node, "nearest_mode", "is '\(nearestMode)'; expected round_prefer_floor, round_prefer_ceil, floor or ceil")
        }
        let axes = try (AttributeReading.ints(node, "axes") ?? Array(0..<x.rank)).map { try OperatorSupport.axis($0, rank: x.rank, node) }
        let scalesInput = legacy ? (node.opType == "Upsample" && opset < 9 ? nil : OperatorSupport.optional(inputs, 1)) : OperatorSupport.optional(inputs, 2)
        var scales = [Float](repeating: 1, count: x.rank)
        var sizes = x.shape
        if !legacy, let given = OperatorSupport.optional(inputs, 3), given.count > 0 {
            guard given.count == axes.count else {
                throw OperatorSupport.fail(node, "sizes has \(given.count) values; expected one per resized axis (\(axes.count))")
            }
            for (axis, size) in zip(axes, given.asIntegers) {
                guard size >= 1 && size <= Int64(TensorLimits.maximumExtent) else {
                    throw OperatorSupport.fail(node, "sizes holds \(size); expected sizes from 1 to \(TensorLimits.maximumExtent)")
                }
                sizes[axis] = Int(size)
                scales[axis] = Float(size) / Float(max(1, x.shape[axis]))
            }
        } else {
            var attributeScales: [Float]?
            if case .floats(let values)? = node.attributes["scales"] { attributeScales = values }
            guard let given = scalesInput.map({ $0.asFloats }) ?? attributeScales else {
                throw OperatorSupport.fail(node, "needs scales or sizes")
            }
            guard given.count == axes.count, given.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw OperatorSupport.fail(node, "scales \(given) must hold one positive value per resized axis (\(axes.count))")
            }
            for (axis, scale) in zip(axes, given) {
                let size = (Double(x.shape[axis]) * Double(scale)).rounded(.down)
                guard size >= 1 && size <= Double(TensorLimits.maximumExtent) else {
                    throw OperatorSupport.fail(node, "scale \(scale) on axis \(axis) of size \(x.shape[axis]) gives an output size of \(size)")
                }
                sizes[axis] = Int(size)
                scales[axis] = scale
            }
        }
        guard TensorLimits.elementCount(sizes) != nil else {
            throw OperatorSupport.fail(node, "output \(describeShape(sizes)) would hold more than \(TensorLimits.maximumElements) elements")
        }
        let cubicA = node.float("cubic_coeff_a", default: -0.75)
        let excludeOutside = node.int("exclude_outside", default: 0) != 0
        var current = x
        for axis in 0..<x.rank where sizes[axis] != x.shape[axis] || scales[axis] != 1 {
            let taps = (0..<sizes[axis]).map { index -> [(Int, Float)] in
                let source = coordinate(index, scale: scales[axis], input: x.shape[axis], output: sizes[axis], transformation)
                switch mode {
                case "nearest": return [(nearest(source, mode: nearestMode, limit: x.shape[axis]), 1)]
                case "linear": return linear(source, limit: x.shape[axis])
                default: return cubic(source, limit: x.shape[axis], a: cubicA, excludeOutside: excludeOutside)
                }
            }
            current = interpolate(current, axis: axis, taps: taps)
        }
        return current
    }

    static func coordinate(_ index: Int, scale: Float, input: Int, output: Int, _ mode: String) -> Float {
        let x = Float(index)
        switch mode {
        case "half_pixel": return (x + 0.5) / scale - 0.5
        case "pytorch_half_pixel": return output > 1 ? (x + 0.5) / scale - 0.5 : 0
        case "align_corners": return output > 1 ? x * Float(input - 1) / Float(output - 1) : 0
        case "tf_half_pixel_for_nn": return (x + 0.5) / scale
        default: return x / scale
        }
    }

    static func nearest(_ source: Float, mode: String, limit: Int) -> Int {
        let index: Float
        switch mode {
        case "floor": index = source.rounded(.down)
        case "ceil": index = source.rounded(.up)
        case "round_prefer_ceil": index = source - source.rounded(.down) == 0.5 ? source.rounded(.up) : source.rounded()
        default:  // round_prefer_floor: halves go down
            index = source - source.rounded(.down) == 0.5 ? source.rounded(.down) : source.rounded()
        }
        return min(max(Int(index), 0), limit - 1)
    }

    static func linear(_ source: Float, limit: Int) -> [(Int, Float)] {
        let clamped = min(max(source, 0), Float(limit - 1))
        let low = Int(clamped.rounded(.down)), high = min(low + 1, limit - 1)
        let weight = clamped - Float(low)
        return [(low, 1 - weight), (high, weight)]
    }

    static func cubic(_ source: Float, limit: Int, a: Float, excludeOutside: Bool) -> [(Int, Float)] {
        let base = source.rounded(.down), t = source - base
        func kernel(_ distance: Float) -> Float {
            let d = abs(distance)
            if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
            if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
            return 0
        }
        var taps = (-1...2).map { offset in (Int(base) + offset, kernel(Float(offset) - t)) }
        if excludeOutside {
            taps = taps.filter { (0..<limit).contains($0.0) }
            let total = taps.reduce(0) { $0 + $1.1 }
            if total != 0 { taps = taps.map { ($0.0, $0.1 / total) } }
        }
        return taps.map { (min(max($0.0, 0), limit - 1), $0.1) }
    }

    /// y[..., j, ...] = Σ w · x[..., i, ...] over the taps (i, w) of output index j along `axis`.
    static func interpolate(_ x: Tensor, axis: Int, taps: [[(Int, Float)]]) -> Tensor {
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        let (length, output) = (x.shape[axis], taps.count)
        var values = [Float](repeating: 0, count: outer * output * inner)
        x.floats.withUnsafeBufferPointer { source in
            for o in 0..<outer {
                for (j, weights) in taps.enumerated() {
                    let target = (o * output + j) * inner
                    for (i, weight) in weights where weight != 0 {
                        let from = (o * length + i) * inner
                        for k in 0..<inner { values[target + k] += weight * source[from + k] }
                    }
                }
            }
        }
        var shape = x.shape
        shape[axis] = output
        return Tensor(shape: shape, floats: values)
    }
}
