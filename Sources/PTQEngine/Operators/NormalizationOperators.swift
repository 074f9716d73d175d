import Foundation

/// BatchNormalization (inference form), Softmax and LogSoftmax (layer and instance normalization
/// are in LayerNormalizationOperators.swift).
enum NormalizationOperators {
    static let all: [String: OperatorFunction] = [
        "BatchNormalization": { node, inputs, _ in [try batchNormalization(node, inputs)] },
        "Softmax": { node, inputs, opset in [try softmax(node, inputs, opset: opset)] },
        "LogSoftmax": { node, inputs, opset in [try softmax(node, inputs, opset: opset, logarithm: true)] },
    ]

    /// y = γ·(x − μ)/sqrt(σ² + ε) + β per channel (axis 1).
    static func batchNormalization(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let parameters = try (1...4).map { try OperatorSupport.required(inputs, $0, node).asFloats }
        let epsilon = node.float("epsilon", default: 1e-5)
        guard x.rank >= 2 else { throw OperatorSupport.fail(node, "input must have a channel axis") }
        let channels = x.shape[1]
        guard parameters.allSatisfy({ $0.count == channels }) else {
            throw OperatorSupport.fail(node, "scale, bias, mean and var need \(channels) values each")
        }
        let (gamma, beta, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3])
        let scale = (0..<channels).map { gamma[$0] / sqrtf(variance[$0] + epsilon) }
        let shift = (0..<channels).map { beta[$0] - mean[$0] * scale[$0] }
        let plane = x.shape.dropFirst(2).reduce(1, *)
        var output = x.floats
        output.withUnsafeMutableBufferPointer { buffer in
            for block in 0..<(x.shape[0] * channels) {
                let channel = block % channels
                let (a, b) = (scale[channel], shift[channel])
                let base = block * plane
                for index in 0..<plane { buffer[base + index] = buffer[base + index] * a + b }
            }
        }
        return Tensor(shape: x.shape, floats: output)
    }

    /// Opset < 13 flattens to 2-D at `axis` (default 1); opset 13+ normalizes along `axis` (default −1).
    static func softmax(_ node: Node, _ inputs: [Tensor?], opset: Int, logarithm: Bool = false) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        let axis = try OperatorSupport.axis(node.int("axis", default: opset < 13 ? 1 : -1), rank: x.rank, node)
        let (outer, length, inner): (Int, Int, Int)
        if opset < 13 {
            (outer, length, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
        } else {
            (outer, length, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
        }
        var output = x.floats
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var largest = -Float.infinity
                for j in 0..<length { largest = max(largest, output[base + j * inner]) }
                var sum: Float = 0
                for j in 0..<length {
                    let value = expf(output[base + j * inner] - largest)
                    output[base + j * inner] = value
                    sum += value
                }
                if logarithm {
                    // log softmax = x - max - log(sum exp(x - max)), from the inputs for precision.
                    let logSum = logf(sum)
                    for j in 0..<length { output[base + j * inner] = x.floats[base + j * inner] - largest - logSum }
                } else {
                    for j in 0..<length { output[base + j * inner] /= sum }
                }
            }
        }
        return Tensor(shape: x.shape, floats: output)
    }
}
