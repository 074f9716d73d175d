/// Where AdaRound's two models stand on the calibration samples: each 32-sample chunk's run state in the model being
/// AdaRounded and in the FP32 model, advanced layer by layer, so both models run over the data once in all rather
/// than once per layer up to it (MobileNetV2: 53 prefixes, about 27 forward passes of each model, had cost minutes).
///
/// For layer k the AdaRounded model advances each chunk until the layer's input exists, with the weights of layers
/// before k already AdaRounded (a new executor per layer: the same graph with other weights has the same steps); the
/// FP32 model until the layer's target (its activation's output) exists. The tensors of the cached samples are copied
/// into the layer's `LayerReconstruction`; the states wait at that point for the next layer. States stay in memory up
/// to `memoryBudget` bytes and go to an unlinked temporary file beyond it (`StateSpill`).
final class ReconstructionFrontier {
    let reference: Executor
    let count: Int
    let chunkSize = 32
    private var spill: StateSpill
    private let memoryBudget: Int

    /// Starts both models on the first `count` samples of `source` (read once, a chunk at a time).
    init(reference: Executor, source: SampleSource, count: Int, memoryBudget: Int, isCancelled: (@Sendable () -> Bool)?) throws {
        self.reference = reference
        self.count = count
        self.memoryBudget = memoryBudget
        spill = try StateSpill(memoryBudget: memoryBudget)
        let inputName = reference.graph.dataInputs[0].name
        var chunk = 0
        try Batching.forEachBatch(source, limit: count, batchSize: chunkSize, isCancelled: isCancelled) { _, batch in
            let state = try reference.start([inputName: batch])
            try spill.write(chunk, [state, state])
            chunk += 1
        }
    }

    /// Advances both models to `layer`'s input and target and copies them, for the samples `selected` (sorted), into
    /// `problem`'s caches.
    func advance(simulated: Executor, input: String, target: String, selected: [Int], into problem: LayerReconstruction,
                 isCancelled: (@Sendable () -> Bool)?) throws {
        let next = try StateSpill(memoryBudget: memoryBudget)
        var position = 0
        for chunk in 0..<((count + chunkSize - 1) / chunkSize) {
            if isCancelled?() == true { throw PTQError.cancelled }
            var states = try spill.take(chunk)
            let range = (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize)
            let first = position
            try Self.advance(simulated, &states[0], until: input)
            try Self.advance(reference, &states[1], until: target)
            position = try Self.store(states[0].values[input]!, states[1].values[target]!, range: range, selected: selected, from: first,
                                      into: problem)
            next.memoryBudget = memoryBudget - spill.memoryBytes
            try next.write(chunk, states)
        }
        spill = next
    }

    static func advance(_ executor: Executor, _ state: inout Executor.RunState, until name: String) throws {
        while state.values[name] == nil {
            guard state.nextStep < executor.stepCount else {
                throw PTQError.invalidModel("the model did not produce tensor '\(name)' for AdaRound")
            }
            try executor.advance(&state)
        }
    }

    /// Stores the samples of `inputs` and `targets` (the samples `range`) that `selected` names, starting at
    /// selected[first], as cached samples numbered by their position in `selected`; returns the position after them.
    static func store(_ inputs: Tensor, _ targets: Tensor, range: Range<Int>, selected: [Int], from first: Int,
                      into problem: LayerReconstruction) throws -> Int {
        for (tensor, size) in [(inputs, problem.inputSize), (targets, problem.outputSize)] {
            guard tensor.kind == .float, tensor.count == range.count * size else {
                throw PTQError.shapeMismatch("a tensor AdaRound caches holds \(tensor.count) values for \(range.count) samples; expected \(size) per sample")
            }
        }
        var position = first
        inputs.floats.withUnsafeBufferPointer { x in
            targets.floats.withUnsafeBufferPointer { t in
                while position < selected.count, selected[position] < range.upperBound {
                    let offset = selected[position] - range.lowerBound
                    problem.store(input: x.baseAddress! + offset * problem.inputSize, target: t.baseAddress! + offset * problem.outputSize,
                                  sample: position)
                    position += 1
                }
            }
        }
        return position
    }
}
