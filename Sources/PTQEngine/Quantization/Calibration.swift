/// A calibrated quantization simulation: encodings for weights and activations, and the graph they
/// were computed for (a changed graph needs calibrating again).
public struct QuantizationState: Sendable, Equatable {
    public var configuration: QuantizationConfiguration
    /// Weight initializer → one encoding, or one per output channel (with the channel axis).
    public var weightEncodings: [String: [Encoding]]
    public var weightAxes: [String: Int]
    /// Activation tensor → encoding, and the tensors in graph order.
    public var activationEncodings: [String: Encoding]
    public var activationOrder: [String]
    public var calibratedGraph: Graph

    /// The graph with every quantized weight replaced by its quantize-dequantized values.
    public func quantizedGraph() -> Graph {
        FakeQuantization.quantizingWeights(calibratedGraph, weightEncodings, axes: weightAxes)
    }

    /// An executor of the simulated model: quantized weights, and activations fake-quantized as
    /// they are produced.
    public func simulation() throws -> Executor {
        try Executor(graph: quantizedGraph(), activationEncodings: activationEncodings)
    }
}

/// Computes encodings: weights by min-max (per tensor, or per output channel for Conv and
/// ConvTranspose under `perChannel`; Gemm and MatMul stay per-tensor, as in AIMET's per-channel
/// config); activations by streaming the calibration samples through the model with quantized
/// weights and unquantized activations (as AIMET's compute_encodings does), in batches, so memory
/// does not grow with the number of samples. Percentile and SQNR schemes take a first pass for each
/// tensor's min/max and a second for a 2048-bin histogram over it, so the batch size cannot change
/// the result.
public enum Calibration {
    /// Min-max encodings of every weight layer's weight (per output channel for Conv and ConvTranspose
    /// under `perChannel`), and each weight's channel axis. A weight with frozen encodings (AdaRound's) keeps them,
    /// whatever the configuration says.
    public static func weightEncodings(_ graph: Graph, _ configuration: QuantizationConfiguration) -> ([String: [Encoding]], [String: Int]) {
        var encodings: [String: [Encoding]] = [:], axes: [String: Int] = [:]
        let excluded = Set(configuration.excludedLayers)
        for layer in WeightLayer.all(in: graph) where !excluded.contains(layer.name) {
            let weight = graph.initializers[layer.weightName]!
            if let frozen = graph.frozenWeightEncodings[layer.weightName], frozen.weight == weight {
                encodings[layer.weightName] = frozen.encodings
                axes[layer.weightName] = frozen.axis
                continue
            }
            let perChannel = configuration.perChannel && (layer.opType == "Conv" || layer.opType == "ConvTranspose")
            let ranges = perChannel ? FakeQuantization.channelRanges(weight, axis: layer.outputChannelAxis)
                                    : [FiniteRange.of(weight.floats)]
            encodings[layer.weightName] = ranges.map {
                Encoding(minimum: $0.0, maximum: $0.1, bitwidth: configuration.weightBits(of: layer.name), symmetric: configuration.weightSymmetric,
                         strict: configuration.strictSymmetric)
            }
            axes[layer.weightName] = layer.outputChannelAxis
        }
        return (encodings, axes)
    }

    /// The activation bits of the quantizers at the outputs of layers with their own precision (mixed precision).
    static func activationBits(_ graph: Graph, _ configuration: QuantizationConfiguration, quantized: Set<String>) -> [String: Int] {
        guard !configuration.layerPrecisions.isEmpty else { return [:] }
        var bits: [String: Int] = [:]
        for layer in WeightLayer.all(in: graph) {
            guard let precision = configuration.layerPrecisions[layer.name] else { continue }
            if let tensor = QuantizerPlacement.outputQuantizer(of: layer, graph, isQuantized: quantized.contains) {
                bits[tensor] = precision.activationBits
            }
        }
        return bits
    }

    public static func calibrate(_ graph: Graph, configuration: QuantizationConfiguration, samples: Tensor,
                                 batchSize: Int = 32, isCancelled: (() -> Bool)? = nil,
                                 progress: ((Int, Int) -> Void)? = nil) throws -> QuantizationState {
        try calibrate(graph, configuration: configuration, source: TensorSamples(samples), batchSize: batchSize,
                      isCancelled: isCancelled, progress: progress)
    }

    /// Calibrates on the first `limit` samples of `source`, a batch at a time (histogram schemes read them twice:
    /// once for the range, once to fill the histograms).
    public static func calibrate(_ graph: Graph, configuration: QuantizationConfiguration, source: SampleSource, limit: Int = .max,
                                 batchSize: Int = 32, isCancelled: (() -> Bool)? = nil,
                                 progress: ((Int, Int) -> Void)? = nil) throws -> QuantizationState {
        var state = QuantizationState(configuration: configuration, weightEncodings: [:], weightAxes: [:],
                                      activationEncodings: [:], activationOrder: [], calibratedGraph: graph)
        let excluded = Set(configuration.excludedLayers)
        (state.weightEncodings, state.weightAxes) = weightEncodings(graph, configuration)
        let executor = try Executor(graph: state.quantizedGraph())
        var integerTensors = Set<String>()
        _ = try executor.run(Dictionary(uniqueKeysWithValues: graph.dataInputs.map { ($0.name, Tensor(zeros: $0.shape.map { $0 ?? 1 })) })) { name, tensor in
            if tensor.kind == .integer { integerTensors.insert(name) }
        }
        let produced = Set(executor.producedTensors).union(graph.dataInputs.map(\.name))
        let tensors = QuantizerPlacement.activationTensors(graph, integerTensors: integerTensors, excludedLayers: excluded,
                                                           quantizeInput: configuration.quantizeInput).filter { produced.contains($0) }
        let watched = Set(tensors)
        var ranges: [String: (Float, Float)] = [:]
        let passes = configuration.scheme == .minmax ? 1 : 2
        _ = try Batching.run(executor, source: source, limit: limit, batchSize: batchSize, hook: { name, tensor in
            guard watched.contains(name) else { return }
            ranges[name] = FiniteRange.of(tensor.floats, extending: ranges[name])
        }, isCancelled: isCancelled, progress: { done, total in progress?(done, total * passes) })
        let layerBits = activationBits(graph, configuration, quantized: Set(tensors))
        if passes == 2 {
            var histograms: [String: Histogram] = [:]
            for (name, range) in ranges {
                histograms[name] = range.0 > range.1 ? Histogram(minimum: 0, maximum: 0) : Histogram(minimum: range.0, maximum: range.1)
            }
            _ = try Batching.run(executor, source: source, limit: limit, batchSize: batchSize, hook: { name, tensor in
                guard watched.contains(name) else { return }
                histograms[name]!.add(tensor.floats)
            }, isCancelled: isCancelled, progress: { done, total in progress?(total + done, total * 2) })
            for (name, histogram) in histograms {
                ranges[name] = histogram.range(for: configuration.scheme, bitwidth: layerBits[name] ?? configuration.activationBits,
                                               symmetric: configuration.activationSymmetric)
            }
        }
        for name in tensors {
            guard var range = ranges[name] else { continue }
            if range.0 > range.1 { range = (0, 0) }  // nothing finite was seen
            state.activationEncodings[name] = Encoding(minimum: range.0, maximum: range.1, bitwidth: layerBits[name] ?? configuration.activationBits,
                                                       symmetric: configuration.activationSymmetric, strict: configuration.strictSymmetric)
            state.activationOrder.append(name)
        }
        return state
    }
}
