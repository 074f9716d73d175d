import Foundation

/// Pointwise math (Tanh, Exp, Log, Sqrt, Neg, Abs, Erf, Elu, Selu, Softplus, Softsign, Sign,
/// Reciprocal, Floor, Ceil, Gelu, Shrink), binary Pow, variadic Min/Max/Sum/Mean, comparisons
/// (bool outputs) and Where, as the ONNX operator specs define them. Neg, Abs, Sign, Min, Max and Sum
/// keep integer tensors integer: exporters use them on shapes.
enum MathOperators {
    static let all: [String: OperatorFunction] = {
        var table: [String: OperatorFunction] = [:]
        let unary: [String: @Sendable (Node) -> (Float) -> Float] = [
            "Tanh": { _ in { tanhf($0) } }, "Log": { _ in { logf($0) } },
            "Sqrt": { _ in { sqrtf($0) } }, "Reciprocal": { _ in { 1 / $0 } },
            "Floor": { _ in { $0.rounded(.down) } }, "Ceil": { _ in { $0.rounded(.up) } },
            "Round": { _ in { $0.rounded(.toNearestOrEven) } },
            "Softplus": { _ in { x in x > 20 ? x : log1pf(expf(x)) } },
            "Softsign": { _ in { $0 / (1 + abs($0)) } },
            "Elu": { node in
                let alpha = node.float("alpha", default: 1)
                return { $0 >= 0 ? $0 : alpha * (expf($0) - 1) }
            },
            "Selu": { node in
                let alpha = node.float("alpha", default: 1.67326319217681884765625)
                let gamma = node.float("gamma", default: 1.05070102214813232421875)
                return { $0 > 0 ? gamma * $0 : gamma * (alpha * expf($0) - alpha) }
            },
            "Shrink": { node in
                let bias = node.float("bias", default: 0), lambd = node.float("lambd", default: 0.5)
                return { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) }
            },
        ]
        for (name, make) in unary {
            table[name] = { node, inputs, _ in [try ActivationOperators.map(node, inputs, make(node))] }
        }
        // The ones real models apply to whole activations, vectorized (see VectorMath).
        table["Exp"] = { node, inputs, _ in [try ActivationOperators.vectorMap(node, inputs, .exp)] }
        table["Erf"] = { node, inputs, _ in [try ActivationOperators.vectorMap(node, inputs, .erf)] }
        table["Gelu"] = { node, inputs, _ in
            if node.string("approximate", default: "none") == "tanh" {
                return [try ActivationOperators.map(node, inputs) { x in 0.5 * x * (1 + tanhf(0.7978845608028654 * (x + 0.044715 * x * x * x))) }]
            }
            return [try ActivationOperators.vectorMap(node, inputs, .gelu)]
        }
        table["Neg"] = { node, inputs, _ in [try signed(node, inputs, { -$0 }, { 0 &- $0 })] }
        table["Abs"] = { node, inputs, _ in [try signed(node, inputs, { abs($0) }, { $0 == .min ? .max : abs($0) })] }
        table["Sign"] = { node, inputs, _ in [try signed(node, inputs, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { $0.signum() })] }
        table["Pow"] = { node, inputs, _ in
            // A decomposed LayerNorm squares with Pow(x, 2): a product, not powf's exp and log per element.
            if let x = inputs.first ?? nil, x.kind == .float, inputs.count > 1, let exponent = inputs[1], exponent.count == 1,
               exponent.rank <= x.rank, exponent.asFloats[0] == 2 {
                return [Tensor(shape: x.shape, floats: x.floats.map { $0 * $0 })]
            }
            return [try ElementwiseOperators.binary(node, inputs, { powf($0, $1) }, { base, exponent in
                exponent < 0 ? 0 : (0..<min(exponent, 64)).reduce(Int64(1)) { result, _ in result &* base } })]
        }
        table["Max"] = { node, inputs, _ in [try variadic(node, inputs, { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }, { max($0, $1) })] }
        table["Min"] = { node, inputs, _ in [try variadic(node, inputs, { $0.isNaN || $1.isNaN ? .nan : min($0, $1) }, { min($0, $1) })] }
        table["Sum"] = { node, inputs, _ in [try variadic(node, inputs, { $0 + $1 }, { $0 &+ $1 })] }
        table["Mean"] = { node, inputs, _ in
            let count = Float(inputs.compactMap { $0 }.count)
            let sum = try variadic(node, inputs, { $0 + $1 }, { $0 &+ $1 })
            return [Tensor(shape: sum.shape, floats: sum.asFloats.map { $0 / count })]
        }
        let comparisons: [String: @Sendable (Double, Double) -> Bool] = [
            "Equal": { $0 == $1 }, "Less": { $0 < $1 }, "Greater": { $0 > $1 }, "LessOrEqual": { $0 <= $1 },
            "GreaterOrEqual": { $0 >= $1 },
        ]
        for (name, compare) in comparisons {
            table[name] = { node, inputs, _ in [try comparison(node, inputs, compare)] }
        }
        table["Not"] = { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            return [Tensor(shape: x.shape, integers: x.asIntegers.map { $0 == 0 ? 1 : 0 }, onnxType: 9)]
        }
        table["Where"] = { node, inputs, _ in [try whereSelect(node, inputs)] }
        return table
    }()

    /// A unary op that keeps integers integer.
    static func signed(_ node: Node, _ inputs: [Tensor?], _ floatOp: (Float) -> Float,
                       _ integerOp: (Int64) -> Int64) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        if x.kind == .integer { return Tensor(shape: x.shape, integers: x.integers.map(integerOp), onnxType: x.onnxType) }
        return try ActivationOperators.map(node, inputs, floatOp)
    }

    /// Min, Max, Sum, Mean: the binary op folded over every input, with broadcasting.
    static func variadic(_ node: Node, _ inputs: [Tensor?], _ floatOp: @escaping (Float, Float) -> Float,
                         _ integerOp: @escaping (Int64, Int64) -> Int64) throws -> Tensor {
        let operands = inputs.compactMap { $0 }
        guard var result = operands.first else { throw OperatorSupport.fail(node, "needs at least one input") }
        for operand in operands.dropFirst() {
            result = try ElementwiseOperators.binary(node, [result, operand], floatOp, integerOp)
        }
        return result
    }

    /// A comparison with broadcasting; the output is bool (held as integers 0 and 1).
    static func comparison(_ node: Node, _ inputs: [Tensor?], _ compare: @escaping (Double, Double) -> Bool) throws -> Tensor {
        let a = try OperatorSupport.required(inputs, 0, node), b = try OperatorSupport.required(inputs, 1, node)
        let result: Tensor
        if a.kind == .integer && b.kind == .integer {
            result = try ElementwiseOperators.binary(node, [a, b], { _, _ in 0 }, { compare(Double($0), Double($1)) ? 1 : 0 })
        } else {
            result = try ElementwiseOperators.binary(node, [a, b], { compare(Double($0), Double($1)) ? 1 : 0 }, { _, _ in 0 })
        }
        return Tensor(shape: result.shape, integers: result.asIntegers, onnxType: 9)
    }

    /// Where(condition, x, y) with three-way broadcasting; x and y of one kind.
    static func whereSelect(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let condition = try OperatorSupport.required(inputs, 0, node)
        let x = try OperatorSupport.required(inputs, 1, node), y = try OperatorSupport.required(inputs, 2, node)
        let shape = try ElementwiseOperators.broadcastShape(
            try ElementwiseOperators.broadcastShape(condition.shape, x.shape, node), y.shape, node)
        guard let count = TensorLimits.elementCount(shape) else { throw OperatorSupport.fail(node, "output too large") }
        let strides = [condition, x, y].map { ElementwiseOperators.broadcastStrides($0.shape, to: shape) }
        let outputStrides = stridesOf(shape)
        func source(_ index: Int, _ which: Int) -> Int {
            var offset = 0, rest = index
            for axis in 0..<shape.count {
                let position = rest / outputStrides[axis]
                rest %= outputStrides[axis]
                offset += position * strides[which][axis]
            }
            return offset
        }
        let flags = condition.asIntegers
        if x.kind == .integer && y.kind == .integer {
            let values = (0..<count).map { flags[source($0, 0)] != 0 ? x.integers[source($0, 1)] : y.integers[source($0, 2)] }
            return Tensor(shape: shape, integers: values, onnxType: x.onnxType)
        }
        let (xs, ys) = (x.asFloats, y.asFloats)
        return Tensor(shape: shape, floats: (0..<count).map { flags[source($0, 0)] != 0 ? xs[source($0, 1)] : ys[source($0, 2)] })
    }
}
