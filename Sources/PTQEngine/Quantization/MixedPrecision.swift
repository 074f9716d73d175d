/// Automatic mixed precision, greedily over a sensitivity list as AIMET's AMP does: per-layer (weight, activation) bit
/// widths, or float, chosen to stay within a drop of FP32 top-1 at the lowest cost in bit-operations.
///
/// - Cost: Σ over weight layers of MACs × weight bits × activation bits (float counts 32 × 32), per sample; reported
///   relative to every layer at W8A8.
/// - Phase 1: for each layer k and each candidate c below the most expensive one, top-1 with only layer k quantized at
///   c (its weight and its output's quantizer; everything else FP32), by `LayerSensitivity`'s first view.
/// - Phase 2: every layer starts at the most expensive candidate. The (layer, candidate) moves go in rounds, one per
///   candidate from the most expensive down, and within a round by phase-1 top-1, least harmful first; each lowers a
///   layer when it makes it cheaper, a group at a time, keeping what stays within the drop as measured (calibrating the
///   mixed configuration and evaluating it). AIMET instead binary-searches the list, taking top-1 to fall along it; on the
///   bundled model it does not (four 2-bit layers alone are harmless, together they are not), so each configuration
///   kept here is one that was measured. Every measured configuration is a point of the accuracy-versus-cost curve.
public enum MixedPrecision {
    /// A (weight, activation) pair, or float (nil).
    public typealias Candidate = LayerPrecision?

    public static func cost(_ candidate: Candidate) -> Int {
        guard let candidate else { return 32 * 32 }
        return candidate.weightBits * candidate.activationBits
    }

    public static func describe(_ candidate: Candidate) -> String {
        candidate.map { "W\($0.weightBits)A\($0.activationBits)" } ?? "float"
    }

    public struct Point: Sendable, Equatable {
        /// The order it was measured in, its relative cost and its top-1.
        public var moves: Int, cost: Double, top1: Double
    }

    public struct Result: Sendable {
        public var choices: [(layer: String, candidate: Candidate, macs: Int)]
        public var configuration: QuantizationConfiguration
        public var fp32: Double, top1: Double, cost: Double
        public var curve: [Point]
        public var evaluations: Int
    }

    /// Multiply-accumulates per sample of every weight layer, by name.
    public static func multiplyAccumulates(_ graph: Graph, shapes: [String: [Int]]) -> [String: Int] {
        var macs: [String: Int] = [:]
        for layer in WeightLayer.all(in: graph) {
            let node = graph.nodes[layer.nodeIndex]
            // A Conv fused with its Relu/Clip never shows its own output; the activation's has the same shape.
            let fused = ReconstructionActivation.following(layer, in: graph).1
            guard let output = shapes[node.outputs[0]] ?? shapes[fused], let weight = graph.initializers[layer.weightName] else { continue }
            let outputs = output.reduce(1, *)
            switch layer.opType {
            case "Conv": macs[layer.name] = outputs * weight.shape.dropFirst().reduce(1, *)
            case "ConvTranspose": macs[layer.name] = (shapes[node.inputs[0]]?.reduce(1, *) ?? 0) * weight.shape.dropFirst().reduce(1, *)
            case "Gemm": macs[layer.name] = outputs * (node.int("transB", default: 0) != 0 ? weight.shape[1] : weight.shape[0])
            default: macs[layer.name] = outputs * weight.shape[0]
            }
        }
        return macs
    }

    /// Searches per-layer precisions among `candidates` for `graph` (already the model to quantize) with `base`'s grids
    /// and calibration; top-1 measured on the first `count` samples of `evaluation`.
    public static func search(_ graph: Graph, base: QuantizationConfiguration, candidates: [Candidate], targetDrop: Double,
                              calibration: SampleSource, evaluation: SampleSource, labels: [Int], count: Int,
                              isCancelled: (@Sendable () -> Bool)? = nil,
                              progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws -> Result {
        let sorted = candidates.sorted { cost($0) < cost($1) }
        guard let top = sorted.last else { throw PTQError.invalidOption("mixed precision needs at least one candidate") }
        // A new search starts from the user's configuration, not from an earlier search's choice; layers whose
        // encodings AdaRound froze keep them (calibration would ignore a new bit width), so they are not searched.
        var base = base
        base.excludedLayers.removeAll { base.mixedPrecisionFloat.contains($0) }
        (base.layerPrecisions, base.mixedPrecisionFloat) = ([:], [])
        let layers = WeightLayer.all(in: graph).filter {
            !base.excludedLayers.contains($0.name) && graph.frozenWeightEncodings[$0.weightName] == nil
        }
        let shapes = try Executor(graph: graph).inferShapes(inputShape: [1] + evaluation.sampleShape)
        let macs = multiplyAccumulates(graph, shapes: shapes)
        let labels = Array(labels.prefix(count))
        let calibrationCount = min(base.samples, calibration.count)
        // Phase 1: each layer alone at each cheaper candidate.
        var moves: [(layer: String, candidate: Candidate, top1: Double)] = []
        var fp32 = 0.0
        for (position, candidate) in sorted.dropLast().enumerated() {
            guard let precision = candidate else { continue }
            var configuration = base
            configuration.weightBits = precision.weightBits
            configuration.activationBits = precision.activationBits
            configuration.layerPrecisions = [:]
            let state = try Calibration.calibrate(graph, configuration: configuration, source: calibration, limit: calibrationCount,
                                                  isCancelled: isCancelled)
            let label = "mixed precision: each layer alone at \(describe(candidate)) (\(position + 1) of \(sorted.count - 1))"
            let sensitivity = try LayerSensitivity.analyze(state, source: evaluation, labels: labels, count: count, allBut: false,
                                                           isCancelled: isCancelled, progress: { progress?(label, $0, $1) })
            fp32 = sensitivity.fp32
            moves += sensitivity.rows.map { ($0.layer, candidate, $0.only) }
        }
        // One round per candidate, the most expensive first (every layer takes the safe step down before any takes
        // an aggressive one); within a round, least harmful first; ties in graph order (Swift's sort is not stable).
        moves = moves.enumerated().sorted {
            (cost($0.element.candidate), $0.element.top1, $1.offset) > (cost($1.element.candidate), $1.element.top1, $0.offset)
        }.map(\.element)
        let names = layers.map(\.name)
        let totalMacs = Double(max(1, names.reduce(0) { $0 + (macs[$1] ?? 0) }))
        func relativeCost(_ chosen: [String: Candidate]) -> Double {
            names.reduce(0.0) { $0 + Double(macs[$1] ?? 0) * Double(cost(chosen[$1]!)) } / (totalMacs * 64)
        }
        func configuration(_ chosen: [String: Candidate]) -> QuantizationConfiguration {
            var configuration = base
            for name in names {
                if let precision = chosen[name]! {
                    configuration.layerPrecisions[name] = precision
                } else {
                    configuration.excludedLayers.append(name)
                    configuration.mixedPrecisionFloat.append(name)
                }
            }
            return configuration
        }
        var curve: [Point] = []
        func top1(_ chosen: [String: Candidate]) throws -> Double {
            let state = try Calibration.calibrate(graph, configuration: configuration(chosen), source: calibration, limit: calibrationCount,
                                                  isCancelled: isCancelled)
            let value = try EvaluationRun.top1(try state.simulation(), source: evaluation, labels: labels, isCancelled: isCancelled)
            curve.append(Point(moves: curve.count + 1, cost: relativeCost(chosen), top1: value))
            progress?("mixed precision: measuring configurations", curve.count, curve.count + 1)
            return value
        }
        // Phase 2, greedy with rejection: apply the moves a group at a time and keep a group whose configuration stays
        // within the drop; a group that does not is retried move by move, each kept only if it stays within. The result
        // always meets the target as measured, without assuming top-1 falls along the list. A round stops after eight
        // rejected moves in a row: the rest of it is more harmful still.
        let target = fp32 - targetDrop
        var chosen = Dictionary(uniqueKeysWithValues: names.map { ($0, top) })
        // The start is measured too: the input's and other ops' quantizers are on even when every layer is in float.
        var accepted = try top1(chosen), rejectedInARow = 0
        let useful = { (move: (layer: String, candidate: Candidate, top1: Double), current: [String: Candidate]) in
            cost(move.candidate) < cost(current[move.layer]!)
        }
        let groupSize = max(1, (names.count + 3) / 4)
        var start = 0
        while start < moves.count {
            // A group never spans two rounds; a new round starts with a clean count of rejections.
            var end = start
            while end < moves.count && end - start < groupSize && cost(moves[end].candidate) == cost(moves[start].candidate) { end += 1 }
            let group = moves[start..<end]
            if start == 0 || cost(moves[start - 1].candidate) != cost(moves[start].candidate) { rejectedInARow = 0 }
            start = end
            if rejectedInARow >= 8 { continue }
            var trial = chosen
            for move in group where useful(move, trial) { trial[move.layer] = move.candidate }
            if trial == chosen { continue }
            let value = try top1(trial)
            if value >= target {
                (chosen, accepted, rejectedInARow) = (trial, value, 0)
                continue
            }
            for move in group where useful(move, chosen) && rejectedInARow < 8 {
                var single = chosen
                single[move.layer] = move.candidate
                let value = try top1(single)
                if value >= target { (chosen, accepted, rejectedInARow) = (single, value, 0) } else { rejectedInARow += 1 }
            }
        }
        return Result(choices: layers.map { ($0.name, chosen[$0.name]!, macs[$0.name] ?? 0) }, configuration: configuration(chosen),
                      fp32: fp32, top1: accepted, cost: relativeCost(chosen), curve: curve, evaluations: curve.count)
    }
}

/// Top-1 of an executor over the first labels.count samples of a source, a batch at a time.
enum EvaluationRun {
    static func top1(_ executor: Executor, source: SampleSource, labels: [Int], isCancelled: (@Sendable () -> Bool)?) throws -> Double {
        let inputName = executor.graph.dataInputs[0].name, outputName = executor.graph.outputs[0].name
        var hits = 0
        try Batching.forEachBatch(source, limit: labels.count, batchSize: 32, isCancelled: isCancelled) { range, batch in
            let outputs = try executor.run([inputName: batch], isCancelled: isCancelled)
            hits += try Evaluation.topKHits(try Evaluation.output(outputName, of: outputs), labels: Array(labels[range]), k: 1,
                                            firstSample: range.lowerBound)
        }
        return Double(hits) / Double(max(1, labels.count))
    }
}
