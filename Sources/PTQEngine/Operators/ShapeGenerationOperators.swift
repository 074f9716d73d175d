/// Ops that build tensors from shapes: ConstantOfShape, Range, Expand and Tile. Exporters emit them
/// around reshapes and padding; every output size is checked against `TensorLimits` before it is made.
enum ShapeGenerationOperators {
    static let all: [String: OperatorFunction] = [
        "ConstantOfShape": { node, inputs, _ in [try constantOfShape(node, inputs)] },
        "Range": { node, inputs, _ in [try range(node, inputs)] },
        "Expand": { node, inputs, _ in [try expand(node, inputs)] },
        "Tile": { node, inputs, _ in [try tile(node, inputs)] },
    ]

    static func shapeInput(_ node: Node, _ tensor: Tensor) throws -> [Int] {
        let shape = tensor.asIntegers.map { Int($0) }
        guard TensorLimits.elementCount(shape) != nil else {
            throw OperatorSupport.fail(node, "shape \(shape) has a negative size or more than \(TensorLimits.maximumElements) elements")
        }
        return shape
    }

    static func constantOfShape(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let shape = try shapeInput(node, try OperatorSupport.required(inputs, 0, node))
        let count = shape.reduce(1, *)
        guard case .tensor(let value)? = node.attributes["value"] else { return Tensor(zeros: shape) }
        guard value.count == 1 else { throw OperatorSupport.fail(node, "value must hold one element") }
        if value.kind == .integer {
            return Tensor(shape: shape, integers: [Int64](repeating: value.integers[0], count: count), onnxType: value.onnxType)
        }
        return Tensor(shape: shape, floats: [Float](repeating: value.floats[0], count: count))
    }

    static func range(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let parts = try (0..<3).map { try OperatorSupport.required(inputs, $0, node) }
        guard parts.allSatisfy({ $0.count == 1 }) else { throw OperatorSupport.fail(node, "start, limit and delta must be scalars") }
        if parts.allSatisfy({ $0.kind == .integer }) {
            let (start, limit, delta) = (parts[0].integers[0], parts[1].integers[0], parts[2].integers[0])
            guard delta != 0 else { throw OperatorSupport.fail(node, "delta is 0") }
            let count = max(0, Int((Double(limit) - Double(start)) / Double(delta)).advanced(by: 0) + ((limit - start) % delta == 0 ? 0 : 1))
            guard count <= TensorLimits.maximumElements else { throw OperatorSupport.fail(node, "range too long") }
            return Tensor(shape: [count], integers: (0..<count).map { start &+ Int64($0) &* delta }, onnxType: parts[0].onnxType)
        }
        let (start, limit, delta) = (parts[0].asFloats[0], parts[1].asFloats[0], parts[2].asFloats[0])
        guard delta != 0, start.isFinite, limit.isFinite, delta.isFinite else {
            throw OperatorSupport.fail(node, "start, limit and delta must be finite and delta non-zero")
        }
        let length = ((limit - start) / delta).rounded(.up)
        guard length < Float(TensorLimits.maximumElements) else { throw OperatorSupport.fail(node, "range too long") }
        let count = max(0, Int(length))
        return Tensor(shape: [count], floats: (0..<count).map { start + Float($0) * delta })
    }

    static func expand(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let requested = try shapeInput(node, try OperatorSupport.required(inputs, 1, node))
        let shape = try ElementwiseOperators.broadcastShape(x.shape, requested, node)
        guard TensorLimits.elementCount(shape) != nil else { throw OperatorSupport.fail(node, "output too large") }
        return try broadcast(x, to: shape, node)
    }

    /// `x` broadcast to `shape`, integers kept integer.
    static func broadcast(_ x: Tensor, to shape: [Int], _ node: Node) throws -> Tensor {
        if x.kind == .float { return Tensor(shape: shape, floats: try ElementwiseOperators.broadcast(x, to: shape, node)) }
        let strides = ElementwiseOperators.broadcastStrides(x.shape, to: shape)
        var output = [Int64](repeating: 0, count: shape.reduce(1, *))
        ElementwiseOperators.forEachRun(shape, strides, strides) { out, offset, _, count, stride, _ in
            for index in 0..<count { output[out + index] = x.integers[offset + index * stride] }
        }
        return Tensor(shape: shape, integers: output, onnxType: x.onnxType)
    }

    static func tile(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let repeats = try OperatorSupport.required(inputs, 1, node).asIntegers.map { Int($0) }
        guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw OperatorSupport.fail(node, "repeats \(repeats) must hold \(x.rank) non-negative values")
        }
        let shape = zip(x.shape, repeats).map { $0 * $1 }
        guard let count = TensorLimits.elementCount(shape) else { throw OperatorSupport.fail(node, "output too large") }
        let outputStrides = stridesOf(shape), inputStrides = stridesOf(x.shape)
        let sources = (0..<count).map { index -> Int in
            var rest = index, offset = 0
            for axis in 0..<shape.count {
                let position = rest / outputStrides[axis]
                rest %= outputStrides[axis]
                offset += (position % x.shape[axis]) * inputStrides[axis]
            }
            return offset
        }
        if x.kind == .integer { return Tensor(shape: shape, integers: sources.map { x.integers[$0] }, onnxType: x.onnxType) }
        return Tensor(shape: shape, floats: sources.map { x.floats[$0] })
    }
}
