import Foundation

/// LRN (AlexNet, GoogLeNet, ZFNet): each value divided by a power of the summed squares of its
/// neighbours across channels,
/// y[n,c,...] = x[n,c,...] / (bias + alpha / size · Σ x[n,i,...]²)^beta,
/// i from c − ⌊(size−1)/2⌋ to c + ⌈(size−1)/2⌉, clipped to the channels there are. Sums in Double.
enum LocalResponseNormalizationOperator {
    static let all: [String: OperatorFunction] = [
        "LRN": { node, inputs, _ in [try localResponseNormalization(node, inputs)] },
    ]

    static func localResponseNormalization(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try OperatorSupport.required(inputs, 0, node)
        guard x.rank >= 3 else { throw OperatorSupport.fail(node, "input must be N×C×spatial; got \(describeShape(x.shape))") }
        let size = node.int("size", default: 0)
        guard size >= 1 && size <= TensorLimits.maximumExtent else {
            throw OperatorSupport.fail(node, "attribute 'size' is \(size); expected a window of at least 1 channel")
        }
        let alpha = Double(node.float("alpha", default: 1e-4)), beta = Double(node.float("beta", default: 0.75))
        let bias = Double(node.float("bias", default: 1))
        let (batch, channels, plane) = (x.shape[0], x.shape[1], x.shape.dropFirst(2).reduce(1, *))
        let below = (size - 1) / 2, above = size - 1 - below
        var output = [Float](repeating: 0, count: x.count)
        x.floats.withUnsafeBufferPointer { input in
            for n in 0..<batch {
                for c in 0..<channels {
                    let first = max(0, c - below), last = min(channels - 1, c + above)
                    for position in 0..<plane {
                        var squares = 0.0
                        for i in first...last {
                            let value = Double(input[(n * channels + i) * plane + position])
                            squares += value * value
                        }
                        let index = (n * channels + c) * plane + position
                        output[index] = Float(Double(input[index]) / pow(bias + alpha / Double(size) * squares, beta))
                    }
                }
            }
        }
        return Tensor(shape: x.shape, floats: output)
    }
}
