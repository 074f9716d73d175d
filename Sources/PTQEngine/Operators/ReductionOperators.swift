import Foundation

/// ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare and
/// ReduceLogSumExp: axes from the attribute (older opsets) or the second input (newer ones), all axes
/// when none are given unless noop_with_empty_axes, keepdims as ONNX defines it. Accumulates in Double.
enum ReductionOperators {
    enum Kind { case mean, sum, max, min, product, l1, l2, sumSquare, logSumExp }

    static let all: [String: OperatorFunction] = {
        let kinds: [String: Kind] = [
            "ReduceMean": .mean, "ReduceSum": .sum, "ReduceMax": .max, "ReduceMin": .min, "ReduceProd": .product,
            "ReduceL1": .l1, "ReduceL2": .l2, "ReduceSumSquare": .sumSquare, "ReduceLogSumExp": .logSumExp,
        ]
        return kinds.mapValues { kind in { node, inputs, _ in [try reduce(node, inputs, kind)] } }
    }()

    static func reduce(_ node: Node, _ inputs: [Tensor?], _ kind: Kind) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let keepDims = node.int("keepdims", default: 1) != 0
        var axes = try (OperatorSupport.axes(node, inputs, inputIndex: 1) ?? []).map { try OperatorSupport.axis($0, rank: x.rank, node) }
        if axes.isEmpty {
            if node.int("noop_with_empty_axes", default: 0) != 0 { return x }
            axes = Array(0..<x.rank)
        }
        let reduced = Set(axes)
        guard reduced.count == axes.count else {
            throw OperatorSupport.fail(node, "axes \(axes) name an axis more than once; expected distinct axes")
        }
        let keptShape = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let shape = keepDims ? keptShape : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        let outputCount = keptShape.reduce(1, *)
        if let fast = contiguousReduction(x, axes: reduced, kind: kind, outputShape: shape) { return fast }
        let start: Double
        switch kind {
        case .max: start = -.infinity
        case .min: start = .infinity
        case .product: start = 1
        default: start = 0
        }
        var accumulators = [Double](repeating: start, count: outputCount)
        let values = x.asFloats
        if kind == .logSumExp, !values.isEmpty {
            // Shift by the largest value of each output so exp cannot overflow.
            var largest = [Double](repeating: -.infinity, count: outputCount)
            walk(x.shape, keptShape) { source, target in largest[target] = Swift.max(largest[target], Double(values[source])) }
            walk(x.shape, keptShape) { source, target in accumulators[target] += exp(Double(values[source]) - largest[target]) }
            accumulators = zip(accumulators, largest).map { log($0) + $1 }
        } else {
            walk(x.shape, keptShape) { source, target in
                let value = Double(values[source])
                switch kind {
                case .sum, .mean: accumulators[target] += value
                case .max: accumulators[target] = value.isNaN ? .nan : Swift.max(accumulators[target], value)
                case .min: accumulators[target] = value.isNaN ? .nan : Swift.min(accumulators[target], value)
                case .product: accumulators[target] *= value
                case .l1: accumulators[target] += abs(value)
                case .l2, .sumSquare: accumulators[target] += value * value
                case .logSumExp: break
                }
            }
        }
        let reducedCount = Double(axes.map { x.shape[$0] }.reduce(1, *))
        let results = accumulators.map { value -> Float in
            switch kind {
            case .mean: return Float(value / reducedCount)
            case .l2: return Float(value.squareRoot())
            default: return Float(value)
            }
        }
        if x.kind == .integer && [.sum, .max, .min, .product].contains(kind) {
            return Tensor(shape: shape, integers: results.map { Int64(saturating: $0) }, onnxType: x.onnxType)
        }
        return Tensor(shape: shape, floats: results)
    }

    /// Sum, mean, max and min of float data over one run of adjacent axes, seen as [outer, reduced, inner]: the
    /// LayerNorm that opset-13 exports spell as ReduceMean over the channels or the last axis. Plain loops over
    /// contiguous memory (the general walk costs a closure call per element); sums still accumulate in Double.
    static func contiguousReduction(_ x: Tensor, axes: Set<Int>, kind: Kind, outputShape: [Int]) -> Tensor? {
        guard x.kind == .float, x.count > 0, [.sum, .mean, .max, .min].contains(kind),
              let first = axes.min(), let last = axes.max(), last - first + 1 == axes.count else { return nil }
        let outer = x.shape[..<first].reduce(1, *), reduced = x.shape[first...last].reduce(1, *)
        let inner = x.shape[(last + 1)...].reduce(1, *)
        var output = [Float](repeating: 0, count: outer * inner)
        x.floats.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                let (from, to) = (source.baseAddress!, target.baseAddress!)
                if kind == .max || kind == .min {
                    for o in 0..<outer {
                        let row = to + o * inner
                        (row).update(from: from + o * reduced * inner, count: inner)
                        for r in 1..<max(reduced, 1) {
                            let values = from + (o * reduced + r) * inner
                            for i in 0..<inner {
                                let (current, value) = (row[i], values[i])
                                row[i] = current.isNaN || value.isNaN ? .nan : (kind == .max ? Swift.max(current, value) : Swift.min(current, value))
                            }
                        }
                    }
                    return
                }
                let divisor = kind == .mean ? Double(reduced) : 1
                if inner == 1 {
                    // A contiguous row: eight running sums, so the additions need not wait on each other.
                    for o in 0..<outer {
                        let values = from + o * reduced
                        var partial = SIMD8<Double>()
                        var r = 0
                        while r + 8 <= reduced {
                            for lane in 0..<8 { partial[lane] += Double(values[r + lane]) }
                            r += 8
                        }
                        var total = partial.sum()
                        while r < reduced { total += Double(values[r]); r += 1 }
                        to[o] = Float(total / divisor)
                    }
                    return
                }
                var accumulator = [Double](repeating: 0, count: inner)
                accumulator.withUnsafeMutableBufferPointer { sums in
                    let total = sums.baseAddress!
                    for o in 0..<outer {
                        total.update(repeating: 0, count: inner)
                        for r in 0..<reduced {
                            let values = from + (o * reduced + r) * inner
                            for i in 0..<inner { total[i] += Double(values[i]) }
                        }
                        for i in 0..<inner { to[o * inner + i] = Float(total[i] / divisor) }
                    }
                }
            }
        }
        return Tensor(shape: outputShape, floats: output)
    }

    /// Calls body(source index, output index) for every element of `shape`, the output index in the
    /// kept shape (reduced axes of size 1).
    static func walk(_ shape: [Int], _ keptShape: [Int], _ body: (Int, Int) -> Void) {
        let outputStrides = ElementwiseOperators.broadcastStrides(keptShape, to: shape)
        ElementwiseOperators.forEachRun(shape, stridesOf(shape), outputStrides) { _, source, target, count, _, targetStride in
            for index in 0..<count { body(source + index, target + index * targetStride) }
        }
    }
}
