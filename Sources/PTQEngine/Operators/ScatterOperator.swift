/// ScatterND (opsets 11-18): a copy of `data` with the slices that `indices` address replaced by (or, with
/// `reduction`, combined with) the slices of `updates`.
///
/// Math: indices has shape [i1, ..., iq-1, k] with k ≤ rank(data); each of its rows addresses the slice
/// data[row[0], ..., row[k-1], :, ..., :], and updates has shape [i1, ..., iq-1] + data.shape[k...], one slice per
/// row. Rows are applied in order, so with `reduction = none` a repeated row keeps the last update (ONNX leaves
/// that case undefined; ONNX Runtime also keeps the last). Exporters write it for in-place slice assignment
/// (Swin's shifted-window attention mask, built from constants, so load-time preparation folds it away).
enum ScatterOperator {
    static let all: [String: OperatorFunction] = [
        "ScatterND": { node, inputs, _ in [try scatterND(node, inputs)] },
    ]

    static func scatterND(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let data = try OperatorSupport.required(inputs, 0, node)
        let indices = try OperatorSupport.required(inputs, 1, node)
        let updates = try OperatorSupport.required(inputs, 2, node)
        let reduction = node.string("reduction", default: "none")
        guard ["none", "add", "mul", "max", "min"].contains(reduction) else {
            throw OperatorSupport.fail(node, "reduction '\(reduction)' is not one of none, add, mul, max, min")
        }
        guard indices.kind == .integer, indices.rank >= 1 else {
            throw OperatorSupport.fail(node, "indices must be an integer tensor of rank 1 or more; got \(describeShape(indices.shape))")
        }
        guard updates.kind == data.kind else {
            throw OperatorSupport.fail(node, "updates and data must have the same element type")
        }
        let depth = indices.shape[indices.rank - 1]
        guard depth <= data.rank else {
            throw OperatorSupport.fail(node, "indices address \(depth) axes of a rank-\(data.rank) tensor")
        }
        let rows = Array(indices.shape.dropLast()), sliceShape = Array(data.shape[depth...])
        guard updates.shape == rows + sliceShape else {
            throw OperatorSupport.fail(node, "updates is \(describeShape(updates.shape)); expected \(describeShape(rows + sliceShape))")
        }
        let slice = sliceShape.reduce(1, *), strides = stridesOf(data.shape)
        let offsets = try (0..<rows.reduce(1, *)).map { row -> Int in
            var offset = 0
            for axis in 0..<depth {
                let raw = Int(indices.integers[row * depth + axis]), size = data.shape[axis]
                let index = raw < 0 ? raw + size : raw
                guard index >= 0 && index < size else {
                    throw OperatorSupport.fail(node, "index \(raw) is out of range for axis \(axis) of size \(size)")
                }
                offset += index * strides[axis]
            }
            return offset
        }
        if data.kind == .float {
            var values = data.floats
            let combine: (Float, Float) -> Float = combiner(reduction, add: { $0 + $1 }, multiply: { $0 * $1 })
            for (row, offset) in offsets.enumerated() {
                for index in 0..<slice { values[offset + index] = combine(values[offset + index], updates.floats[row * slice + index]) }
            }
            return Tensor(shape: data.shape, floats: values)
        }
        var values = data.integers
        let combine: (Int64, Int64) -> Int64 = combiner(reduction, add: { $0 &+ $1 }, multiply: { $0 &* $1 })
        for (row, offset) in offsets.enumerated() {
            for index in 0..<slice { values[offset + index] = combine(values[offset + index], updates.integers[row * slice + index]) }
        }
        return Tensor(shape: data.shape, integers: values, onnxType: data.onnxType)
    }

    /// How an update meets the value already there (integer sums and products wrap rather than trap).
    static func combiner<Value: Comparable>(_ reduction: String, add: @escaping (Value, Value) -> Value,
                                            multiply: @escaping (Value, Value) -> Value) -> (Value, Value) -> Value {
        switch reduction {
        case "add": return add
        case "mul": return multiply
        case "max": return { max($0, $1) }
        case "min": return { min($0, $1) }
        default: return { $1 }
        }
    }
}
