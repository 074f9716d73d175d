/// Per-layer quantization sensitivity, AIMET QuantAnalyzer's two views, for every weight layer k of a calibrated
/// simulation:
/// - only k quantized: k's weight and the activation quantizer at the output of k's group; everything else FP32;
/// - all but k: every quantizer of the simulation except those two.
/// The metric is top-1 (with labels) or the output's SQNR against FP32 in dB (without).
///
/// Fast because only one layer differs from a model already run: each chunk of samples goes once through the FP32
/// model and once through the fully quantized one, step by step, keeping their run states just before every layer
/// (the states share tensors, so keeping them costs what one pass's activations cost). The first view then
/// continues k's FP32 state with k quantized, the second k's quantized state with k in float: one suffix of the
/// model per layer and view instead of a whole pass.
public enum LayerSensitivity {
    public struct Row: Sendable, Equatable {
        public var layer: String
        /// The metric with only this layer quantized, and with every layer but this one.
        public var only: Double, allBut: Double
    }

    public struct Result: Sendable, Equatable {
        /// "top1" or "sqnr".
        public var metric: String
        public var fp32: Double, quantized: Double
        public var rows: [Row]
        public var samples: Int
    }

    /// `allBut` false skips the second view (its rows then hold the quantized model's metric there).
    public static func analyze(_ state: QuantizationState, source: SampleSource, labels: [Int]?, count: Int, allBut wantsAllBut: Bool = true,
                               isCancelled: (@Sendable () -> Bool)? = nil,
                               progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        let graph = state.calibratedGraph
        let quantizedGraph = state.quantizedGraph()
        let layers = WeightLayer.all(in: graph).filter { state.weightEncodings[$0.weightName] != nil }
        let fp32 = try Executor(graph: graph)
        let quantized = try Executor(graph: quantizedGraph, activationEncodings: state.activationEncodings)
        let stepOf = Dictionary(uniqueKeysWithValues: (0..<fp32.stepCount).map { (fp32.stepNode($0).node.name, $0) })
        // One executor per layer and view: the same graph with one weight and one activation quantizer changed.
        var onlyExecutors: [Executor] = [], allButExecutors: [Executor] = [], stops: [Int] = [], measured: [WeightLayer] = []
        for layer in layers.sorted(by: { (stepOf[$0.name] ?? .max) < (stepOf[$1.name] ?? .max) }) {
            guard let step = stepOf[layer.name] else { continue }
            measured.append(layer)
            let quantizer = QuantizerPlacement.outputQuantizer(of: layer, graph, isQuantized: { state.activationEncodings[$0] != nil })
            var only = graph
            only.initializers[layer.weightName] = quantizedGraph.initializers[layer.weightName]
            onlyExecutors.append(try Executor(graph: only, activationEncodings: quantizer.map { [$0: state.activationEncodings[$0]!] } ?? [:]))
            var allBut = quantizedGraph
            allBut.initializers[layer.weightName] = graph.initializers[layer.weightName]
            var encodings = state.activationEncodings
            if let quantizer { encodings[quantizer] = nil }
            if wantsAllBut { allButExecutors.append(try Executor(graph: allBut, activationEncodings: encodings)) }
            stops.append(step)
        }
        let outputName = graph.outputs[0].name, inputName = graph.dataInputs[0].name
        var totals = Totals(views: 2 * stops.count + 2)
        let chunk = 16
        try Batching.forEachBatch(source, limit: count, batchSize: chunk, isCancelled: isCancelled) { range, batch in
            let chunkLabels = labels.map { Array($0[range]) }
            let (reference, fp32States) = try run(fp32, from: try fp32.start([inputName: batch]), stops: stops, isCancelled: isCancelled)
            var input = batch
            quantized.fakeQuantize(inputName, &input)
            let (whole, quantizedStates) = try run(quantized, from: try quantized.start([inputName: input]), stops: stops, isCancelled: isCancelled)
            let fp32Output = try Evaluation.output(outputName, of: reference.values)
            try totals.add(fp32Output, view: 0, labels: chunkLabels, reference: fp32Output)
            try totals.add(try Evaluation.output(outputName, of: whole.values), view: 1, labels: chunkLabels, reference: fp32Output)
            for index in stops.indices {
                let (only, _) = try run(onlyExecutors[index], from: fp32States[index], stops: [], isCancelled: isCancelled)
                try totals.add(try Evaluation.output(outputName, of: only.values), view: 2 + 2 * index, labels: chunkLabels, reference: fp32Output)
                if wantsAllBut {
                    let (allBut, _) = try run(allButExecutors[index], from: quantizedStates[index], stops: [], isCancelled: isCancelled)
                    try totals.add(try Evaluation.output(outputName, of: allBut.values), view: 3 + 2 * index, labels: chunkLabels, reference: fp32Output)
                }
                progress?(range.lowerBound + range.count * (index + 1) / stops.count, min(count, source.count))
            }
        }
        let metrics = totals.metrics(labelled: labels != nil)
        let rows = stops.indices.map { Row(layer: measured[$0].name, only: metrics[2 + 2 * $0], allBut: wantsAllBut ? metrics[3 + 2 * $0] : metrics[1]) }
        return Result(metric: labels == nil ? "sqnr" : "top1", fp32: metrics[0], quantized: metrics[1], rows: rows,
                      samples: min(count, source.count))
    }

    /// Advances `state` to the end, fake-quantizing what `executor` quantizes, and returns the final state and a copy
    /// of the state just before each step in `stops` (sorted).
    static func run(_ executor: Executor, from start: Executor.RunState, stops: [Int],
                    isCancelled: (@Sendable () -> Bool)?) throws -> (Executor.RunState, [Executor.RunState]) {
        var state = start, kept: [Executor.RunState] = [], next = 0
        while state.nextStep < executor.stepCount {
            while next < stops.count && stops[next] == state.nextStep {
                kept.append(state)
                next += 1
            }
            if isCancelled?() == true { throw PTQError.cancelled }
            for name in try executor.advance(&state) where !name.isEmpty {
                guard executor.activationEncodings[name] != nil, var tensor = state.values.removeValue(forKey: name) else { continue }
                executor.fakeQuantize(name, &tensor)
                state.values[name] = tensor
            }
        }
        return (state, kept)
    }

    /// Top-1 hits or signal and noise sums per view.
    struct Totals {
        var hits: [Int], signal: [Double], noise: [Double], samples = 0

        init(views: Int) {
            hits = [Int](repeating: 0, count: views)
            signal = [Double](repeating: 0, count: views)
            noise = signal
        }

        mutating func add(_ output: Tensor, view: Int, labels: [Int]?, reference: Tensor) throws {
            if let labels {
                hits[view] += try Evaluation.topKHits(output, labels: labels, k: 1)
                if view == 0 { samples += labels.count }
            } else {
                var sums = (signal: signal[view], noise: noise[view])
                Evaluation.accumulateErrors(output, reference: reference, into: &sums)
                (signal[view], noise[view]) = sums
            }
        }

        func metrics(labelled: Bool) -> [Double] {
            hits.indices.map { view in
                labelled ? Double(hits[view]) / Double(max(1, samples))
                    : (noise[view] == 0 ? .infinity : 10 * Evaluation.log10Double(signal[view] / noise[view]))
            }
        }
    }
}
