/// Splitting sample tensors along the batch axis and running models over them in batches.
public enum Batching {
    /// Samples [start, end) of an N×... tensor.
    public static func slice(_ tensor: Tensor, _ range: Range<Int>) -> Tensor {
        let per = tensor.shape.dropFirst().reduce(1, *)
        var shape = tensor.shape
        shape[0] = range.count
        if tensor.kind == .float {
            return Tensor(shape: shape, floats: Array(tensor.floats[(range.lowerBound * per)..<(range.upperBound * per)]))
        }
        return Tensor(shape: shape, integers: Array(tensor.integers[(range.lowerBound * per)..<(range.upperBound * per)]),
                      onnxType: tensor.onnxType)
    }

    /// Concatenates tensors along axis 0.
    /// Parts without a batch axis (a scalar output) cannot be stacked: the first is returned, and
    /// callers that run more than one batch check the output's rank first (`Batching.run`).
    public static func stack(_ parts: [Tensor]) -> Tensor {
        guard var result = parts.first else { return Tensor(zeros: [0]) }
        guard result.rank >= 1, parts.allSatisfy({ $0.rank == result.rank }) else { return result }
        for part in parts.dropFirst() {
            result.shape[0] += part.shape[0]
            if result.kind == .float { result.floats += part.floats } else { result.integers += part.integers }
        }
        return result
    }

    /// Runs `executor` over `samples` in batches of `batchSize` and returns each graph output stacked.
    public static func run(_ executor: Executor, samples: Tensor, batchSize: Int = 32,
                           hook: ((String, inout Tensor) throws -> Void)? = nil,
                           isCancelled: (() -> Bool)? = nil,
                           progress: ((Int, Int) -> Void)? = nil) throws -> [String: Tensor] {
        guard let input = executor.graph.dataInputs.first else {
            throw PTQError.invalidModel("the model has no data input")
        }
        guard samples.rank >= 1 else {
            throw PTQError.shapeMismatch("the samples are a single value (shape []); expected a batch axis first")
        }
        var collected: [String: [Tensor]] = [:]
        let count = samples.shape[0]
        let batchSize = min(batchSize, executor.graph.batchLimit ?? batchSize)
        var start = 0
        while start < count {
            let end = min(count, start + batchSize)
            let outputs = try executor.run([input.name: slice(samples, start..<end)], hook: hook, isCancelled: isCancelled)
            for (name, tensor) in outputs {
                if tensor.rank == 0 && end < count {
                    throw PTQError.shapeMismatch("output '\(name)' has no batch axis (shape []), so batches of samples cannot be stacked; run one batch (--batch \(count))")
                }
                collected[name, default: []].append(tensor)
            }
            progress?(end, count)
            start = end
        }
        return collected.mapValues(stack)
    }
}
