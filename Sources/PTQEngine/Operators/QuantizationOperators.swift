/// QuantizeLinear and DequantizeLinear (per tensor, or per axis from opset 13), so ptq can run the
/// QDQ models it exports. ONNX rounds half to even and saturates to the zero point's type.
enum QuantizationOperators {
    static let all: [String: OperatorFunction] = [
        "QuantizeLinear": { node, inputs, _ in [try quantize(node, inputs)] },
        "DequantizeLinear": { node, inputs, _ in [try dequantize(node, inputs)] },
    ]

    static let typeRanges: [Int: (Int64, Int64)] = [2: (0, 255), 3: (-128, 127), 4: (0, 65535), 5: (-32768, 32767)]

    /// The per-element (scale, zero point) index: whole tensor, or the slice along `axis`.
    static func layout(_ node: Node, _ x: Tensor, _ scale: Tensor) throws -> (axis: Int, inner: Int, channels: Int) {
        if scale.count == 1 { return (0, x.count, 1) }
        let axis = try OperatorSupport.axis(node.int("axis", default: 1), rank: x.rank, node)
        guard x.shape[axis] == scale.count else {
            throw OperatorSupport.fail(node, "\(scale.count) scales for axis \(axis) of size \(x.shape[axis])")
        }
        return (axis, x.shape.dropFirst(axis + 1).reduce(1, *), scale.count)
    }

    static func quantize(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let scale = try OperatorSupport.required(inputs, 1, node).asFloats
        let zero = OperatorSupport.optional(inputs, 2)
        let type = zero?.onnxType ?? 2
        guard let (low, high) = typeRanges[type] else { throw OperatorSupport.fail(node, "unsupported zero-point type \(type)") }
        let zeros = zero?.asIntegers ?? [0]
        let (_, inner, channels) = try layout(node, x, Tensor(shape: [scale.count], floats: scale))
        guard zeros.count == 1 || zeros.count == channels else {
            throw OperatorSupport.fail(node, "zero point has \(zeros.count) values; expected 1 or \(channels)")
        }
        let values = x.asFloats
        var output = [Int64](repeating: 0, count: x.count)
        for index in 0..<x.count {
            let channel = channels == 1 ? 0 : (index / inner) % channels
            let (q, overflow) = Int64(saturating: (values[index] / scale[channel]).rounded(.toNearestOrEven))
                .addingReportingOverflow(zeros[zeros.count == 1 ? 0 : channel])
            output[index] = overflow ? (q < 0 ? high : low) : min(max(q, low), high)
        }
        return Tensor(shape: x.shape, integers: output, onnxType: type)
    }

    static func dequantize(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let scale = try OperatorSupport.required(inputs, 1, node).asFloats
        let zeros = OperatorSupport.optional(inputs, 2)?.asIntegers ?? [0]
        let (_, inner, channels) = try layout(node, x, Tensor(shape: [scale.count], floats: scale))
        guard zeros.count == 1 || zeros.count == channels else {
            throw OperatorSupport.fail(node, "zero point has \(zeros.count) values; expected 1 or \(channels)")
        }
        let values = x.asIntegers
        var output = [Float](repeating: 0, count: x.count)
        for index in 0..<x.count {
            let channel = channels == 1 ? 0 : (index / inner) % channels
            output[index] = (Float(values[index]) - Float(zeros[zeros.count == 1 ? 0 : channel])) * scale[channel]
        }
        return Tensor(shape: x.shape, floats: output)
    }
}
