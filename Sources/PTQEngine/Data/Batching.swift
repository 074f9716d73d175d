import Dispatch

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
        guard samples.rank >= 1 else {
            throw PTQError.shapeMismatch("the samples are a single value (shape []); expected a batch axis first")
        }
        return try run(executor, source: TensorSamples(samples), batchSize: batchSize, hook: hook, isCancelled: isCancelled, progress: progress)
    }

    /// Runs `executor` over the first `limit` samples of `source` in batches and returns each graph output stacked.
    public static func run(_ executor: Executor, source: SampleSource, limit: Int = .max, batchSize: Int = 32,
                           hook: ((String, inout Tensor) throws -> Void)? = nil,
                           isCancelled: (() -> Bool)? = nil,
                           progress: ((Int, Int) -> Void)? = nil) throws -> [String: Tensor] {
        guard let input = executor.graph.dataInputs.first else {
            throw PTQError.invalidModel("the model has no data input")
        }
        var collected: [String: [Tensor]] = [:]
        let count = min(limit, source.count)
        let batchSize = min(batchSize, executor.graph.batchLimit ?? batchSize)
        try forEachBatch(source, limit: count, batchSize: batchSize, isCancelled: isCancelled) { range, batch in
            let outputs = try executor.run([input.name: batch], hook: hook, isCancelled: isCancelled)
            for (name, tensor) in outputs {
                if tensor.rank == 0 && range.upperBound < count {
                    throw PTQError.shapeMismatch("output '\(name)' has no batch axis (shape []), so batches of samples cannot be stacked; run one batch (--batch \(count))")
                }
                collected[name, default: []].append(tensor)
            }
            progress?(range.upperBound, count)
        }
        return collected.mapValues(stack)
    }

    /// Hands `body` the first `limit` samples of `source` a batch at a time, in order. The next batch is read (decoded,
    /// for images) on another thread while `body` works on this one.
    public static func forEachBatch(_ source: SampleSource, limit: Int = .max, batchSize: Int,
                                    isCancelled: (() -> Bool)? = nil,
                                    _ body: (Range<Int>, Tensor) throws -> Void) throws {
        let count = min(limit, source.count), size = max(1, batchSize)
        guard count > 0 else { return }
        var pending = Prefetch(source, 0..<min(count, size))
        while true {
            let range = pending.range
            let batch = try pending.value()
            if range.upperBound < count { pending = Prefetch(source, range.upperBound..<min(count, range.upperBound + size)) }
            if isCancelled?() == true { throw PTQError.cancelled }
            try body(range, batch)
            if range.upperBound >= count { return }
        }
    }
}

/// One batch being read on a background thread.
final class Prefetch: @unchecked Sendable {
    let range: Range<Int>
    private var result: Result<Tensor, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ source: SampleSource, _ range: Range<Int>) {
        self.range = range
        DispatchQueue.global().async { [self] in
            result = Result { try source.samples(range) }
            done.signal()
        }
    }

    func value() throws -> Tensor {
        done.wait()
        done.signal()  // a second call returns at once
        return try result!.get()
    }
}
