import Foundation

/// Pointwise activations. Clip reads min/max from attributes (opset < 11) or optional inputs.
enum ActivationOperators {
    static let all: [String: OperatorFunction] = [
        "Relu": { node, inputs, _ in [try clamped(node, inputs, low: 0, high: .infinity)] },
        "Clip": { node, inputs, _ in
            let (low, high) = try clipBounds(node, inputs)
            let x = try OperatorSupport.required(inputs, 0, node)
            if x.kind == .integer {
                let (lo, hi) = (Int64(saturating: low.rounded(.up)), Int64(saturating: high.rounded(.down)))
                return [Tensor(shape: x.shape, integers: x.integers.map { min(max($0, lo), hi) }, onnxType: x.onnxType)]
            }
            return [try clamped(node, inputs, low: low, high: high)]
        },
        "LeakyRelu": { node, inputs, _ in
            let alpha = node.float("alpha", default: 0.01)
            return [try map(node, inputs) { $0 >= 0 ? $0 : alpha * $0 }]
        },
        "Sigmoid": { node, inputs, _ in [try vectorMap(node, inputs, .sigmoid)] },
        "HardSigmoid": { node, inputs, _ in
            let alpha = node.float("alpha", default: 0.2), beta = node.float("beta", default: 0.5)
            return [try vectorMap(node, inputs, .hardSigmoid(alpha, beta))]
        },
        "HardSwish": { node, inputs, _ in [try vectorMap(node, inputs, .hardSwish)] },
        "PRelu": { node, inputs, _ in
            var prelu = node
            prelu.opType = "PRelu"
            return [try ElementwiseOperators.binary(prelu, inputs, { $0 >= 0 ? $0 : $0 * $1 }, { $0 >= 0 ? $0 : $0 * $1 })]
        },
    ]

    /// A pointwise float op through `VectorMath.map`: vectorized, and split over threads when large.
    static func vectorMap(_ node: Node, _ inputs: [Tensor?], _ function: PointwiseFunction) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let input = x.asFloats
        // A separate output: in place, LLVM's runtime overlap check fails and the loop runs scalar (8x slower).
        var output = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                if let from = source.baseAddress, let to = target.baseAddress { VectorMath.map(from, to, count: input.count, function) }
            }
        }
        return Tensor(shape: x.shape, floats: output)
    }

    @inline(__always)
    static func map(_ node: Node, _ inputs: [Tensor?], _ function: (Float) -> Float) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        var output = x.asFloats
        output.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<buffer.count { buffer[index] = function(buffer[index]) }
        }
        return Tensor(shape: x.shape, floats: output)
    }

    static func clamped(_ node: Node, _ inputs: [Tensor?], low: Float, high: Float) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        var output = x.asFloats
        if output.isEmpty { return Tensor(shape: x.shape, floats: []) }
        output.withUnsafeMutableBufferPointer { clamp($0.baseAddress!, count: $0.count, low: low, high: high) }
        return Tensor(shape: x.shape, floats: output)
    }

    /// A Clip's bounds when they are attributes or constants (`constant` looks an input name up); nil when a bound
    /// is computed at run time or is not a scalar.
    static func constantClipBounds(_ node: Node, _ constant: (String) -> Tensor?) -> (Float, Float)? {
        let bounds = node.inputs.dropFirst().map { $0.isEmpty ? nil : constant($0) }
        guard !zip(node.inputs.dropFirst(), bounds).contains(where: { !$0.0.isEmpty && $0.1 == nil }) else { return nil }
        return try? clipBounds(node, [nil] + bounds)
    }

    /// Clip's bounds, ±infinity where not given.
    static func clipBounds(_ node: Node, _ inputs: [Tensor?]) throws -> (Float, Float) {
        var low = node.float("min", default: -.infinity)
        var high = node.float("max", default: .infinity)
        if let minimum = OperatorSupport.optional(inputs, 1) {
            guard minimum.count == 1 else { throw OperatorSupport.fail(node, "min must be a scalar") }
            low = minimum.asFloats[0]
        }
        if let maximum = OperatorSupport.optional(inputs, 2) {
            guard maximum.count == 1 else { throw OperatorSupport.fail(node, "max must be a scalar") }
            high = maximum.asFloats[0]
        }
        return (low, high)
    }
}
