import Foundation

/// LayerNormalization (opset 17) and InstanceNormalization.
///
/// LayerNormalization normalizes over the axes from `axis` (default -1) to the end:
/// y = (x - mean) / sqrt(var + epsilon) * scale + bias, scale and bias broadcast over those axes.
/// InstanceNormalization normalizes each (sample, channel) plane over its spatial axes, then
/// applies a per-channel scale and bias. Means and variances are summed in Double.
enum LayerNormalizationOperators {
    static let all: [String: OperatorFunction] = [
        "LayerNormalization": { node, inputs, _ in [try layerNormalization(node, inputs)] },
        "InstanceNormalization": { node, inputs, _ in [try instanceNormalization(node, inputs)] },
    ]

    /// Normalizes `count` consecutive runs of `length` values in place.
    static func normalizeRuns(_ values: inout [Float], runs: Int, length: Int, epsilon: Float,
                              transform: (Int, Int, Float) -> Float) {
        for run in 0..<runs {
            let base = run * length
            var sum = 0.0, squares = 0.0
            for index in 0..<length { sum += Double(values[base + index]) }
            let mean = sum / Double(max(1, length))
            for index in 0..<length {
                let centered = Double(values[base + index]) - mean
                squares += centered * centered
            }
            let inverse = 1 / (squares / Double(max(1, length)) + Double(epsilon)).squareRoot()
            for index in 0..<length {
                values[base + index] = transform(run, index, Float((Double(values[base + index]) - mean) * inverse))
            }
        }
    }

    static func layerNormalization(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let scale = try OperatorSupport.required(inputs, 1, node).asFloats
        let bias = OperatorSupport.optional(inputs, 2)?.asFloats
        let axis = try OperatorSupport.axis(node.int("axis", default: -1), rank: x.rank, node)
        let length = x.shape[axis...].reduce(1, *)
        guard length > 0, length % max(1, scale.count) == 0, bias.map({ length % max(1, $0.count) == 0 }) ?? true else {
            throw OperatorSupport.fail(node, "scale (\(scale.count)) and bias must broadcast over the normalized \(length) values")
        }
        var values = x.floats
        normalizeRuns(&values, runs: x.count / length, length: length, epsilon: node.float("epsilon", default: 1e-5)) { _, index, y in
            y * scale[index % scale.count] + (bias.map { $0[index % $0.count] } ?? 0)
        }
        return Tensor(shape: x.shape, floats: values)
    }

    static func instanceNormalization(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let scale = try OperatorSupport.required(inputs, 1, node).asFloats
        let bias = try OperatorSupport.required(inputs, 2, node).asFloats
        guard x.rank >= 3, scale.count == x.shape[1], bias.count == x.shape[1] else {
            throw OperatorSupport.fail(node, "needs N x C x spatial input with C scales and biases; got \(describeShape(x.shape))")
        }
        let channels = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
        var values = x.floats
        normalizeRuns(&values, runs: x.shape[0] * channels, length: plane, epsilon: node.float("epsilon", default: 1e-5)) { run, _, y in
            y * scale[run % channels] + bias[run % channels]
        }
        return Tensor(shape: x.shape, floats: values)
    }
}
