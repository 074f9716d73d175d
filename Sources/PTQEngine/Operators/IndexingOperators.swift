/// Gather, Slice and Pad: ops whose parameters moved from attributes to inputs
/// across opsets; both forms are read.
enum IndexingOperators {
    static let all: [String: OperatorFunction] = [
        "Gather": { node, inputs, _ in [try gather(node, inputs)] },
        "Slice": { node, inputs, opset in [try slice(node, inputs, opset: opset)] },
        "Pad": { node, inputs, opset in [try pad(node, inputs, opset: opset)] },
    ]

    static func gather(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let data = try OperatorSupport.required(inputs, 0, node)
        let indices = try OperatorSupport.required(inputs, 1, node)
        let axis = try OperatorSupport.axis(node.int("axis", default: 0), rank: data.rank, node)
        let size = data.shape[axis]
        let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        let positions = try indices.asIntegers.map { raw -> Int in
            let index = Int(raw) < 0 ? Int(raw) + size : Int(raw)
            guard index >= 0 && index < size else {
                throw OperatorSupport.fail(node, "index \(raw) is out of range for axis \(axis) of size \(size)")
            }
            return index
        }
        var flat: [Int] = []
        flat.reserveCapacity(outer * positions.count * inner)
        for o in 0..<outer {
            for position in positions {
                let base = (o * size + position) * inner
                flat.append(contentsOf: base..<(base + inner))
            }
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        return ShapeOperators.gather(data, flat, shape: shape)
    }

    static func slice(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let starts: [Int], ends: [Int], axesGiven: [Int]?, stepsGiven: [Int]?
        if opset < 10 {
            starts = node.ints("starts") ?? []
            ends = node.ints("ends") ?? []
            axesGiven = node.ints("axes")
            stepsGiven = nil
        } else {
            starts = try OperatorSupport.required(inputs, 1, node).asIntegers.map { Int(max(min($0, 1 << 40), -(1 << 40))) }
            ends = try OperatorSupport.required(inputs, 2, node).asIntegers.map { Int(max(min($0, 1 << 40), -(1 << 40))) }
            axesGiven = OperatorSupport.optional(inputs, 3)?.asIntegers.map { Int($0) }
            // Steps beyond any size are clamped so the index arithmetic cannot overflow.
            stepsGiven = OperatorSupport.optional(inputs, 4)?.asIntegers.map { Int(max(min($0, 1 << 40), -(1 << 40))) }
        }
        let axes = try (axesGiven ?? Array(0..<starts.count)).map { try OperatorSupport.axis($0, rank: x.rank, node) }
        let steps = stepsGiven ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw OperatorSupport.fail(node, "starts, ends, axes and steps must have the same length")
        }
        var first = [Int](repeating: 0, count: x.rank), step = [Int](repeating: 1, count: x.rank)
        var shape = x.shape
        for (slot, axis) in axes.enumerated() {
            let dim = x.shape[axis]
            guard steps[slot] != 0 else { throw OperatorSupport.fail(node, "step 0 on axis \(axis)") }
            var start = starts[slot] < 0 ? starts[slot] + dim : starts[slot]
            var end = ends[slot] < 0 ? ends[slot] + dim : ends[slot]
            if steps[slot] > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                shape[axis] = max(0, (end - start + steps[slot] - 1) / steps[slot])
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                shape[axis] = max(0, (start - end - steps[slot] - 1) / -steps[slot])
            }
            first[axis] = start
            step[axis] = steps[slot]
        }
        let sourceStrides = stridesOf(x.shape)
        let base = zip(first, sourceStrides).map { $0 * $1 }.reduce(0, +)
        let strides = zip(step, sourceStrides).map { $0 * $1 }
        return ShapeOperators.strided(x, shape: shape, strides: strides, base: base)
    }

    static func pad(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let mode = node.string("mode", default: "constant")
        var pads: [Int]
        var value: Float = node.float("value", default: 0)
        if opset < 11 {
            pads = node.ints("pads") ?? []
        } else {
            pads = try OperatorSupport.required(inputs, 1, node).asIntegers.map { Int($0) }
            if let constant = OperatorSupport.optional(inputs, 2), constant.count > 0 { value = constant.asFloats[0] }
        }
        if let axesTensor = OperatorSupport.optional(inputs, 3) {
            let axes = try axesTensor.asIntegers.map { try OperatorSupport.axis(Int($0), rank: x.rank, node) }
            guard pads.count == 2 * axes.count else {
                throw OperatorSupport.fail(node, "pads has \(pads.count) values for \(axes.count) axes; expected \(2 * axes.count)")
            }
            var full = [Int](repeating: 0, count: 2 * x.rank)
            for (slot, axis) in axes.enumerated() {
                full[axis] = pads[slot]
                full[axis + x.rank] = pads[slot + axes.count]
            }
            pads = full
        }
        guard pads.count == 2 * x.rank else {
            throw OperatorSupport.fail(node, "pads has \(pads.count) values; expected \(2 * x.rank)")
        }
        guard ["constant", "reflect", "edge"].contains(mode) else {
            throw OperatorSupport.fail(node, "mode '\(mode)' is not supported; expected constant, reflect or edge")
        }
        guard pads.allSatisfy({ abs($0) <= TensorLimits.maximumExtent }) else {
            throw OperatorSupport.fail(node, "pads \(pads) exceed \(TensorLimits.maximumExtent)")
        }
        let shape = (0..<x.rank).map { x.shape[$0] + pads[$0] + pads[$0 + x.rank] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw OperatorSupport.fail(node, "pads shrink an axis below zero") }
        guard TensorLimits.elementCount(shape) != nil else { throw OperatorSupport.fail(node, "output too large") }
        if mode != "constant", let empty = (0..<x.rank).first(where: { x.shape[$0] == 0 && shape[$0] > 0 }) {
            throw OperatorSupport.fail(node, "\(mode) padding needs values to copy, and axis \(empty) is empty")
        }
        let sourceStrides = stridesOf(x.shape)
        let count = shape.reduce(1, *)
        var sources = [Int](repeating: -1, count: count)
        var coordinate = [Int](repeating: 0, count: x.rank)
        for flat in 0..<count {
            var remainder = flat, offset = 0, inside = true
            for axis in stride(from: x.rank - 1, through: 0, by: -1) {
                coordinate[axis] = remainder % shape[axis]
                remainder /= shape[axis]
                var position = coordinate[axis] - pads[axis]
                let dim = x.shape[axis]
                if position < 0 || position >= dim {
                    switch mode {
                    case "edge": position = min(max(position, 0), dim - 1)
                    case "reflect":
                        let period = max(1, 2 * (dim - 1))
                        position = ((position % period) + period) % period
                        if position >= dim { position = period - position }
                    default: inside = false
                    }
                }
                offset += position * sourceStrides[axis]
            }
            sources[flat] = inside ? offset : -1
        }
        if x.kind == .float {
            return Tensor(shape: shape, floats: sources.map { $0 >= 0 ? x.floats[$0] : value })
        }
        return Tensor(shape: shape, integers: sources.map { $0 >= 0 ? x.integers[$0] : Int64(value) }, onnxType: x.onnxType)
    }
}
