/// Data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Identity,
/// Dropout (inference: identity), Shape, Constant and Cast. They work on float and integer tensors.
enum ShapeOperators {
    static let all: [String: OperatorFunction] = [
        "Identity": { node, inputs, _ in [try OperatorSupport.required(inputs, 0, node)] },
        "Dropout": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let mask = Tensor(shape: x.shape, integers: [Int64](repeating: 1, count: x.count), onnxType: 9)
            return node.outputs.count > 1 ? [x, mask] : [x]
        },
        "Reshape": { node, inputs, _ in [try reshape(node, inputs)] },
        "Flatten": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let axis = try OperatorSupport.axis(node.int("axis", default: 1), rank: x.rank + 1, node)
            return [x.reshaped([x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])]
        },
        "Squeeze": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let axes = try (OperatorSupport.axes(node, inputs, inputIndex: 1) ?? x.shape.indices.filter { x.shape[$0] == 1 })
                .map { try OperatorSupport.axis($0, rank: x.rank, node) }
            for axis in axes where x.shape[axis] != 1 {
                throw OperatorSupport.fail(node, "cannot squeeze axis \(axis) of size \(x.shape[axis])")
            }
            return [x.reshaped(x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })]
        },
        "Unsqueeze": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            guard let given = OperatorSupport.axes(node, inputs, inputIndex: 1) else {
                throw OperatorSupport.fail(node, "axes are missing")
            }
            let rank = x.rank + given.count
            let axes = Set(try given.map { try OperatorSupport.axis($0, rank: rank, node) })
            guard axes.count == given.count else { throw OperatorSupport.fail(node, "axes \(given) name an axis twice") }
            var source = x.shape.makeIterator()
            return [x.reshaped((0..<rank).map { axes.contains($0) ? 1 : source.next()! })]
        },
        "Transpose": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let permutation = node.ints("perm") ?? Array((0..<x.rank).reversed())
            guard permutation.sorted() == Array(0..<x.rank) else {
                throw OperatorSupport.fail(node, "perm \(permutation) is not a permutation of 0..<\(x.rank)")
            }
            return [transpose(x, permutation)]
        },
        "Concat": { node, inputs, _ in [try concat(node, inputs)] },
        "Split": { node, inputs, opset in try split(node, inputs, opset: opset) },
        "Shape": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let rank = x.rank
            func clampAxis(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
            let start = clampAxis(node.int("start", default: 0)), end = clampAxis(node.int("end", default: rank))
            let dims = start < end ? x.shape[start..<end].map { Int64($0) } : []
            return [Tensor(shape: [dims.count], integers: dims)]
        },
        "Constant": { node, _, _ in [try constant(node)] },
        "Cast": { node, inputs, _ in
            let x = try OperatorSupport.required(inputs, 0, node)
            let to = node.int("to", default: 1)
            switch to {
            case 1, 10, 11, 16: return [Tensor(shape: x.shape, floats: x.asFloats)]
            case 9: return [Tensor(shape: x.shape, integers: x.asFloats.map { $0 != 0 ? 1 : 0 }, onnxType: 9)]
            case 2, 3, 4, 5, 6, 7, 12, 13: return [Tensor(shape: x.shape, integers: x.asIntegers, onnxType: to)]
            default: throw OperatorSupport.fail(node, "cannot cast to \(ONNXTensorCoding.typeName(to))")
            }
        },
    ]

    static func reshape(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let requested = try OperatorSupport.required(inputs, 1, node).asIntegers.map { Int($0) }
        guard requested.allSatisfy({ $0 >= -1 }), requested.filter({ $0 == -1 }).count <= 1 else {
            throw OperatorSupport.fail(node, "target \(requested) holds a size below -1 or more than one -1")
        }
        let allowZero = node.int("allowzero", default: 0) != 0
        var shape = requested.enumerated().map { index, value in
            value == 0 && !allowZero && index < x.rank ? x.shape[index] : value
        }
        if let inferred = shape.firstIndex(of: -1) {
            guard let known = TensorLimits.elementCount(shape.enumerated().filter { $0.offset != inferred }.map(\.element)) else {
                throw OperatorSupport.fail(node, "target \(requested) is too large")
            }
            guard known > 0, x.count % known == 0 else {
                throw OperatorSupport.fail(node, "cannot reshape \(describeShape(x.shape)) to \(requested)")
            }
            shape[inferred] = x.count / known
        }
        guard TensorLimits.elementCount(shape) == x.count else {
            throw OperatorSupport.fail(node, "cannot reshape \(describeShape(x.shape)) (\(x.count) values) to \(requested)")
        }
        return x.reshaped(shape)
    }

    /// Gathers `tensor`'s values at `sourceIndices` (flat) into a tensor of `shape`, keeping its kind.
    static func gather(_ tensor: Tensor, _ sourceIndices: [Int], shape: [Int]) -> Tensor {
        if tensor.kind == .float {
            return Tensor(shape: shape, floats: sourceIndices.map { tensor.floats[$0] })
        }
        return Tensor(shape: shape, integers: sourceIndices.map { tensor.integers[$0] }, onnxType: tensor.onnxType)
    }

    static func transpose(_ x: Tensor, _ permutation: [Int]) -> Tensor {
        let sourceStrides = stridesOf(x.shape)
        return strided(x, shape: permutation.map { x.shape[$0] }, strides: permutation.map { sourceStrides[$0] })
    }

    /// The view of `x` that starts at element `base` and steps `strides[axis]` elements along each axis of `shape`,
    /// copied into a dense tensor: what Transpose, Slice and Einsum's diagonals read. Floats are copied run by run
    /// (whole runs at stride 1), without the index array the general gather builds.
    static func strided(_ x: Tensor, shape: [Int], strides: [Int], base: Int = 0) -> Tensor {
        let count = shape.reduce(1, *)
        if x.kind == .float && count > 0 {
            var output = [Float](repeating: 0, count: count)
            x.floats.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { target in
                    let (from, to) = (source.baseAddress! + base, target.baseAddress!)
                    ElementwiseOperators.forEachRun(shape, strides, strides) { out, offset, _, run, stride, _ in
                        if stride == 1 {
                            (to + out).update(from: from + offset, count: run)
                        } else {
                            for index in 0..<run { to[out + index] = from[offset + index * stride] }
                        }
                    }
                }
            }
            return Tensor(shape: shape, floats: output)
        }
        var indices = [Int](repeating: 0, count: count)
        ElementwiseOperators.forEachRun(shape, strides, strides) { out, offset, _, run, stride, _ in
            for index in 0..<run { indices[out + index] = base + offset + index * stride }
        }
        return gather(x, indices, shape: shape)
    }

    static func concat(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw OperatorSupport.fail(node, "no inputs") }
        let axis = try OperatorSupport.axis(node.int("axis", default: 0), rank: first.rank, node)
        for part in parts where part.rank != first.rank
            || part.shape.enumerated().contains(where: { $0.offset != axis && $0.element != first.shape[$0.offset] }) {
            throw OperatorSupport.fail(node, "inputs \(describeShape(first.shape)) and \(describeShape(part.shape)) differ off axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let blocks = parts.map { $0.shape[axis...].reduce(1, *) }
        var shape = first.shape
        shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        if parts.allSatisfy({ $0.kind == .float }) {
            var output: [Float] = []
            output.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                for (part, block) in zip(parts, blocks) { output.append(contentsOf: part.floats[(o * block)..<((o + 1) * block)]) }
            }
            return Tensor(shape: shape, floats: output)
        }
        var output: [Int64] = []
        for o in 0..<outer {
            for (part, block) in zip(parts, blocks) { output.append(contentsOf: part.asIntegers[(o * block)..<((o + 1) * block)]) }
        }
        return Tensor(shape: shape, integers: output, onnxType: first.onnxType)
    }

    static func split(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let x = try OperatorSupport.required(inputs, 0, node)
        let axis = try OperatorSupport.axis(node.int("axis", default: 0), rank: x.rank, node)
        let size = x.shape[axis]
        var sizes = OperatorSupport.optional(inputs, 1)?.asIntegers.map { Int($0) } ?? node.ints("split")
        if sizes == nil {
            let parts = node.outputs.count
            let chunk = (size + parts - 1) / parts
            sizes = (0..<parts).map { min(chunk, max(0, size - $0 * chunk)) }
        }
        guard let sizes, sizes.allSatisfy({ $0 >= 0 && $0 <= size }), sizes.reduce(0, +) == size,
              sizes.count == node.outputs.count else {
            throw OperatorSupport.fail(node, "split sizes do not add up to \(size) over \(node.outputs.count) outputs")
        }
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        var start = 0
        return sizes.map { length in
            var indices: [Int] = []
            indices.reserveCapacity(outer * length * inner)
            for o in 0..<outer {
                let base = (o * size + start) * inner
                indices.append(contentsOf: base..<(base + length * inner))
            }
            var shape = x.shape
            shape[axis] = length
            start += length
            return gather(x, indices, shape: shape)
        }
    }

    static func constant(_ node: Node) throws -> Tensor {
        switch (node.attributes["value"], node.attributes["value_float"], node.attributes["value_floats"],
                node.attributes["value_int"], node.attributes["value_ints"]) {
        case (.tensor(let tensor)?, _, _, _, _): return tensor
        case (_, .float(let value)?, _, _, _): return Tensor.scalar(value)
        case (_, _, .floats(let values)?, _, _): return Tensor(shape: [values.count], floats: values)
        case (_, _, _, .int(let value)?, _): return Tensor(shape: [], integers: [Int64(value)])
        case (_, _, _, _, .ints(let values)?): return Tensor(shape: [values.count], integers: values.map { Int64($0) })
        default: throw OperatorSupport.fail(node, "Constant needs a value, value_float(s) or value_int(s) attribute")
        }
    }
}
