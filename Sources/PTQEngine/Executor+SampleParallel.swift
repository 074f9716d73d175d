import Foundation

extension Executor {
    /// Runs a batch one sample at a time, the samples split between the worker threads, each
    /// thread running every kernel single-threaded; nil when the graph's samples are not
    /// independent (`SampleIndependence`) or there is nothing to split.
    ///
    /// Why: run node by node over a whole batch, every activation (up to 150 MB for a batch of 32
    /// at 224×224) travels to DRAM and back between ops, and each op pays for splitting its work.
    /// One sample's activations stay in cache from the op that writes them to the op that reads
    /// them, and the threads never wait for each other (measured 1.3–1.5x on MobileNetV2 and
    /// ResNet-18, batch 32). The outputs are stacked along axis 0.
    func runSampleParallel(_ feeds: [String: Tensor], isCancelled: (() -> Bool)?) throws -> [String: Tensor]? {
        let inputs = graph.dataInputs
        guard samplesIndependent, Parallel.available > 1, let first = inputs.first,
              let batch = feeds[first.name]?.shape.first, batch > 1,
              inputs.allSatisfy({ feeds[$0.name]?.shape.first == batch }) else { return nil }
        // Networks with Winograd convolutions take a few samples per task, so the transformed
        // weights that SGEMM packs on every call serve several images (see WinogradKernel);
        // others take one, which keeps each task's activations smallest.
        let chunk = outputPlan.steps.contains { $0.winogradWeights != nil } ? 4 : 1
        let results = SampleResults(count: batch, chunk: chunk)
        let cancelled = UncheckedBox(isCancelled)
        // Workers take the next sample as they finish one, so a thread slowed by the machine's
        // other load does not leave the rest waiting at the end.
        Parallel.onEachWorkerSerially {
            while let samples = results.nextSamples() {
                do {
                    var sampleFeeds: [String: Tensor] = [:]
                    for input in inputs { sampleFeeds[input.name] = Batching.slice(feeds[input.name]!, samples) }
                    results.store(samples.lowerBound, try runBatch(sampleFeeds, keep: [], hook: nil, isCancelled: cancelled.value))
                } catch {
                    results.fail(error)
                }
            }
        }
        if let error = results.error { throw error }
        var stacked: [String: Tensor] = [:]
        for output in graph.outputs {
            // One entry per task, at its first sample's index: compactMap keeps sample order.
            stacked[output.name] = Batching.stack(results.values.compactMap { $0?[output.name] })
        }
        return stacked
    }
}

/// Outputs of each task (a run of consecutive samples), written by the worker threads.
private final class SampleResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [[String: Tensor]?]
    private(set) var error: Error?

    private var next = 0
    private let chunk: Int

    init(count: Int, chunk: Int) {
        values = Array(repeating: nil, count: count)
        self.chunk = chunk
    }

    /// The next samples no worker has taken, or nil when all are taken or one failed.
    func nextSamples() -> Range<Int>? {
        lock.withLock {
            guard error == nil, next < values.count else { return nil }
            let start = next
            next = min(values.count, next + chunk)
            return start..<next
        }
    }

    func store(_ index: Int, _ outputs: [String: Tensor]) { lock.withLock { values[index] = outputs } }

    func fail(_ error: Error) { lock.withLock { if self.error == nil { self.error = error } } }
}

/// A value handed to worker threads that only read it (the shell's cancellation check reads a
/// signal counter).
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
