import Foundation

/// Add, Sub, Mul, Div, Mod with numpy broadcasting, on floats or on integers (shape arithmetic).
/// Integer Div truncates toward zero, as ONNX Runtime does; Mod takes the divisor's sign (Python's %) unless
/// `fmod` = 1 asks for C's fmod (the dividend's sign); a zero divisor gives 0 rather than a trap.
enum ElementwiseOperators {
    static let all: [String: OperatorFunction] = [
        "Add": { node, inputs, _ in [try binary(node, inputs, { $0 + $1 }, { $0 &+ $1 })] },
        "Sub": { node, inputs, _ in [try binary(node, inputs, { $0 - $1 }, { $0 &- $1 })] },
        "Mul": { node, inputs, _ in [try binary(node, inputs, { $0 * $1 }, { $0 &* $1 })] },
        "Div": { node, inputs, _ in [try binary(node, inputs, { $0 / $1 }, { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue })] },
        "Mod": { node, inputs, _ in
            let truncated = node.int("fmod", default: 0) != 0
            return [try binary(node, inputs, { a, b in
                let remainder = fmodf(a, b)
                return truncated || remainder == 0 || (remainder < 0) == (b < 0) ? remainder : remainder + b
            }, { a, b in
                guard b != 0 else { return 0 }
                let remainder = a.remainderReportingOverflow(dividingBy: b).partialValue
                return truncated || remainder == 0 || (remainder < 0) == (b < 0) ? remainder : remainder &+ b
            })]
        },
    ]

    static func broadcastShape(_ a: [Int], _ b: [Int], _ node: Node) throws -> [Int] {
        let rank = max(a.count, b.count)
        let paddedA = [Int](repeating: 1, count: rank - a.count) + a
        let paddedB = [Int](repeating: 1, count: rank - b.count) + b
        return try (0..<rank).map { axis in
            let (x, y) = (paddedA[axis], paddedB[axis])
            if x == y || y == 1 { return x }
            if x == 1 { return y }
            throw OperatorSupport.fail(node, "shapes \(describeShape(a)) and \(describeShape(b)) do not broadcast")
        }
    }

    /// Strides of `shape` seen from a broadcast `target` shape: 0 along broadcast axes.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        let strides = stridesOf(padded)
        return (0..<target.count).map { padded[$0] == 1 && target[$0] != 1 ? 0 : strides[$0] }
    }

    /// Calls `body(outputOffset, offsetA, offsetB, innerCount, innerStrideA, innerStrideB)` for every
    /// run of the innermost axis of a broadcast.
    @inline(__always)
    static func forEachRun(_ target: [Int], _ stridesA: [Int], _ stridesB: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = target.count
        if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = target[rank - 1]
        let outer = target.dropLast().reduce(1, *)
        if outer == 0 || inner == 0 { return }
        var counter = [Int](repeating: 0, count: rank - 1)
        var offsetA = 0, offsetB = 0
        for run in 0..<outer {
            body(run * inner, offsetA, offsetB, inner, stridesA[rank - 1], stridesB[rank - 1])
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                offsetA += stridesA[axis]
                offsetB += stridesB[axis]
                if counter[axis] < target[axis] { break }
                offsetA -= stridesA[axis] * target[axis]
                offsetB -= stridesB[axis] * target[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }

    @inline(__always)
    static func binary(_ node: Node, _ inputs: [Tensor?], _ floatOp: (Float, Float) -> Float,
                       _ integerOp: (Int64, Int64) -> Int64) throws -> Tensor {
        let a = try OperatorSupport.required(inputs, 0, node)
        let b = try OperatorSupport.required(inputs, 1, node)
        let shape = a.shape == b.shape ? a.shape : try broadcastShape(a.shape, b.shape, node)
        guard let total = TensorLimits.elementCount(shape) else {
            throw OperatorSupport.fail(node, "output \(describeShape(shape)) would hold more than \(TensorLimits.maximumElements) elements")
        }
        // Empty operands have no data pointers; the result is empty too.
        if total == 0 { return a.kind == .integer && b.kind == .integer ? Tensor(shape: shape, integers: [], onnxType: a.onnxType) : Tensor(shape: shape, floats: []) }
        let stridesA = broadcastStrides(a.shape, to: shape), stridesB = broadcastStrides(b.shape, to: shape)
        if a.kind == .integer && b.kind == .integer {
            var output = [Int64](repeating: 0, count: shape.reduce(1, *))
            forEachRun(shape, stridesA, stridesB) { out, offsetA, offsetB, count, strideA, strideB in
                for index in 0..<count {
                    output[out + index] = integerOp(a.integers[offsetA + index * strideA], b.integers[offsetB + index * strideB])
                }
            }
            return Tensor(shape: shape, integers: output, onnxType: a.onnxType)
        }
        let x = a.asFloats, y = b.asFloats
        var output = [Float](repeating: 0, count: shape.reduce(1, *))
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                output.withUnsafeMutableBufferPointer { op in
                    let (xb, yb, ob) = (xp.baseAddress!, yp.baseAddress!, op.baseAddress!)
                    if a.shape == b.shape {
                        for index in 0..<op.count { ob[index] = floatOp(xb[index], yb[index]) }
                        return
                    }
                    forEachRun(shape, stridesA, stridesB) { out, offsetA, offsetB, count, strideA, strideB in
                        let (xs, ys, os) = (xb + offsetA, yb + offsetB, ob + out)
                        if strideA == 1 && strideB == 0 {
                            let value = ys[0]
                            for index in 0..<count { os[index] = floatOp(xs[index], value) }
                        } else if strideA == 0 && strideB == 1 {
                            let value = xs[0]
                            for index in 0..<count { os[index] = floatOp(value, ys[index]) }
                        } else {
                            for index in 0..<count { os[index] = floatOp(xs[index * strideA], ys[index * strideB]) }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: output)
    }

    /// `tensor`'s values broadcast to `shape`, as a flat float array.
    static func broadcast(_ tensor: Tensor, to shape: [Int], _ node: Node) throws -> [Float] {
        let combined = try broadcastShape(tensor.shape, shape, node)
        guard combined == shape else {
            throw OperatorSupport.fail(node, "\(describeShape(tensor.shape)) does not broadcast to \(describeShape(shape))")
        }
        let values = tensor.asFloats
        let strides = broadcastStrides(tensor.shape, to: shape)
        var output = [Float](repeating: 0, count: shape.reduce(1, *))
        forEachRun(shape, strides, strides) { out, offset, _, count, stride, _ in
            for index in 0..<count { output[out + index] = values[offset + index * stride] }
        }
        return output
    }
}
