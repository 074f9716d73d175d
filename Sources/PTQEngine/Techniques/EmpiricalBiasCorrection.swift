import Foundation

/// Empirical bias correction in bounded memory. A layer's correction is the per-channel mean of y_q − y_fp over all
/// samples and positions, which is mean(y_q) − mean(y_fp): the FP32 model does not depend on any correction, so one
/// pass over the data sums its outputs at every layer to correct. The weight-quantized model then advances over the
/// samples a chunk at a time and stops at each layer to correct until every chunk has reached it (its correction
/// needs all samples, and the model must not go past it uncorrected).
///
/// Holding every chunk's live activations at each stop is what made memory grow with the sample count (7.7 GB for
/// MobileNetV2 with 512 samples). Instead each chunk's run state is kept at a *checkpoint* (`StateSpill`: memory up
/// to a budget, then a file, whose pages are file cache rather than process memory), and to reach the next layer a
/// chunk resumes from its checkpoint, recomputing the steps since. A stop becomes the new checkpoint when its states
/// fit the memory budget, when its live activations are at most twice those of the current checkpoint (after a
/// block's last conv, where a network's state is smallest), or after eight stops without one, so recomputation
/// stays a small multiple of one forward pass.
/// Memory: one chunk's live activations (32 samples) of one model and at most 768 MB of checkpoints, whatever the
/// sample count.
///
/// The corrections are the ones a single lockstep pass over all samples at once gives, to float rounding: the sums
/// are in Double, but a chunk's convolutions may sum in another order than a whole batch's.
struct EmpiricalBiasCorrection {
    let reference: Executor
    let simulated: Executor
    let source: SampleSource
    let count: Int
    let chunkSize: Int
    let quantizeInput: (bits: Int, symmetric: Bool)?
    let isCancelled: (@Sendable () -> Bool)?
    var progress: (@Sendable (String, Int, Int) -> Void)? = nil

    /// Bytes of checkpoints held in memory (the current one and the one being written together); the rest go to a file.
    static let checkpointMemory = 768 << 20

    /// Corrections of the layers named `empirical`, measured with the `known` ones (analytical) applied as they are met.
    func run(empirical: Set<String>, known: [String: [Float]]) throws -> [String: [Float]] {
        let inputName = reference.graph.dataInputs[0].name
        let chunks = (count + chunkSize - 1) / chunkSize
        var shifts: [Int: [Float]] = [:]
        var stops: [Int] = []
        for step in 0..<simulated.stepCount {
            let node = simulated.stepNode(step).node
            guard WeightLayer.opTypes.contains(node.opType) else { continue }
            if empirical.contains(node.name) { stops.append(step) } else if let shift = known[node.name] { shifts[step] = shift }
        }
        guard let last = stops.last else { return [:] }
        let stopSteps = Set(stops)
        // One pass over the data: the inputs kept as the first checkpoint, their range (the input encoding), and the
        // FP32 sums at every stop.
        var checkpoint = try StateSpill(memoryBudget: Self.checkpointMemory)
        var range: (Float, Float) = (.infinity, -.infinity)
        var referenceSums: [Int: [Double]] = [:]
        try Batching.forEachBatch(source, limit: count, batchSize: chunkSize, isCancelled: isCancelled) { batchRange, batch in
            if quantizeInput != nil { range = FiniteRange.of(batch.floats, extending: range) }
            progress?("bias correction — FP32 pass", batchRange.lowerBound, count * (stops.count + 1))
            try checkpoint.write(batchRange.lowerBound / chunkSize, [Executor.RunState(values: [inputName: batch])])
            var state = try reference.start([inputName: batch])
            while state.nextStep <= last {
                let step = state.nextStep
                try reference.advance(&state)
                if stopSteps.contains(step) { try Self.accumulate(reference.stepNode(step), state, into: &referenceSums[step]) }
            }
        }
        let inputEncoding = quantizeInput.map { configuration in
            Encoding(minimum: range.0 > range.1 ? 0 : range.0, maximum: range.0 > range.1 ? 0 : range.1,
                     bitwidth: configuration.bits, symmetric: configuration.symmetric)
        }
        var checkpointStep = -1, checkpointBytes = source.sampleShape.reduce(1, *) * 4 * chunkSize, stopsSinceCheckpoint = 0
        var corrections: [String: [Float]] = [:]
        for (position, stop) in stops.enumerated() {
            let node = simulated.stepNode(stop).node
            var sums: [Double]? = nil, values = 0
            var next: StateSpill? = nil
            var nextBytes = 0
            for chunk in 0..<chunks {
                progress?("bias correction — layer \(position + 1) of \(stops.count), \(node.name)",
                          (position + 1) * count + chunk * chunkSize, count * (stops.count + 1))
                var state = try resume(chunk, from: checkpoint, at: checkpointStep, shifts, inputEncoding)
                while state.nextStep <= stop {
                    if isCancelled?() == true { throw PTQError.cancelled }
                    let step = state.nextStep
                    try simulated.advance(&state)
                    if step < stop, let shift = shifts[step] { try Self.subtract(shift, from: &state, simulated.stepNode(step)) }
                }
                values += try Self.accumulate(simulated.stepNode(stop), state, into: &sums)
                // Decided on the first chunk, the same for all: is this stop the next checkpoint?
                if chunk == 0 {
                    nextBytes = StateSpill.bytes(state)
                    let budget = Self.checkpointMemory - checkpoint.memoryBytes
                    if nextBytes * chunks <= budget || nextBytes <= 2 * checkpointBytes || stopsSinceCheckpoint >= 8 {
                        next = try StateSpill(memoryBudget: budget)
                    }
                }
                try next?.write(chunk, [state])
            }
            guard let sums, let reference = referenceSums[stop], reference.count == sums.count else {
                throw PTQError.execution(node: node.name, op: node.opType, problem: "its output was not produced for bias correction")
            }
            let perChannel = Double(Swift.max(1, values / Swift.max(1, sums.count)))
            let shift = zip(sums, reference).map { Float(($0 - $1) / perChannel) }
            corrections[node.name] = shift
            shifts[stop] = shift
            if let next {
                (checkpoint, checkpointStep, checkpointBytes, stopsSinceCheckpoint) = (next, stop, nextBytes, 0)
            } else {
                stopsSinceCheckpoint += 1
            }
        }
        progress?("bias correction", 1, 1)
        return corrections
    }

    /// A chunk's run state at the checkpoint, with the checkpoint step's correction applied (it was not known when
    /// the state was stored). Step −1 is the model input.
    func resume(_ chunk: Int, from spill: StateSpill, at step: Int, _ shifts: [Int: [Float]],
                _ inputEncoding: Encoding?) throws -> Executor.RunState {
        var state = try spill.read(chunk)[0]
        guard step >= 0 else {
            let inputName = simulated.graph.dataInputs[0].name
            var quantized = state.values[inputName]!
            if let inputEncoding { FakeQuantization.apply(&quantized, inputEncoding) }
            return try simulated.start([inputName: quantized])
        }
        if let shift = shifts[step] { try Self.subtract(shift, from: &state, simulated.stepNode(step)) }
        return state
    }

    static func subtract(_ shift: [Float], from state: inout Executor.RunState, _ step: (node: Node, outputs: [String])) throws {
        // Taken out of the state while it changes, so the change does not copy it.
        guard let output = step.outputs.first, var actual = state.values.removeValue(forKey: output) else { return }
        defer { state.values[output] = actual }
        let axis = step.node.opType == "MatMul" ? actual.rank - 1 : 1
        guard actual.rank > axis, shift.count == actual.shape[axis] else {
            throw PTQError.execution(node: step.node.name, op: step.node.opType,
                problem: "output \(describeShape(actual.shape)) does not have the \(shift.count) channels its weight gives on axis \(axis)")
        }
        ChannelScaling.add(&actual, axis: axis, values: shift.map { -$0 })
    }

    /// Adds the per-channel sums of step `step`'s first output (channels on axis 1, or the last axis of a MatMul)
    /// to `sums`; returns how many values were summed.
    @discardableResult
    static func accumulate(_ step: (node: Node, outputs: [String]), _ state: Executor.RunState, into sums: inout [Double]?) throws -> Int {
        guard let output = step.outputs.first, let tensor = state.values[output], tensor.kind == .float, tensor.rank >= 2 else {
            throw PTQError.execution(node: step.node.name, op: step.node.opType, problem: "its output was not produced for bias correction")
        }
        let axis = step.node.opType == "MatMul" ? tensor.rank - 1 : 1
        var totals = sums ?? [Double](repeating: 0, count: tensor.shape[axis])
        tensor.floats.withUnsafeBufferPointer { x in
            tensor.forEachChannelRun(axis: axis) { channel, run in
                // Four running sums side by side, then added in a fixed order: deterministic, and not bound by one
                // long chain of dependent additions.
                var lanes = SIMD4<Double>(repeating: 0)
                var index = run.lowerBound
                while index + 4 <= run.upperBound {
                    lanes += SIMD4<Double>(Double(x[index]), Double(x[index + 1]), Double(x[index + 2]), Double(x[index + 3]))
                    index += 4
                }
                var total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
                while index < run.upperBound {
                    total += Double(x[index])
                    index += 1
                }
                totals[channel] += total
            }
        }
        sums = totals
        return tensor.count
    }
}
