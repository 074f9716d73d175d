import Foundation

/// adaround — learn whether each weight rounds up or down, Nagel et al., "Up or Down? Adaptive Rounding for
/// Post-Training Quantization" (ICML 2020), as AIMET's AdaRound does it.
///
/// Weight encodings come first, from the session's configuration (the defaults when quantization is off), and are
/// then frozen. Layer by layer in graph order, on the calibration data:
/// - inputs x from the model whose earlier layers hold their AdaRounded weights (every other weight quantized to
///   nearest, activations in float), targets from the FP32 model after the layer's activation (`ReconstructionData`);
/// - V initialised so that h(V) is the fractional part of W/s; W̃ = s·(clamp(⌊W/s⌋ + h(V) − o, 0, n) + o)
///   (`AdaRoundVariables`);
/// - loss ‖f(W̃x + b) − t‖² summed over channels, averaged over samples and positions (`LayerReconstruction`), plus
///   λ·Σ(1 − |2h(V) − 1|^β) with λ = 0.01, off for the first 20% of iterations, then β cosine-annealed 20 → 2;
/// - Adam (learning rate 1e-3) on batches of 32 samples drawn at random (seeded) from the cached ones;
/// - iterations: 10,000 for 8-bit weights, 15,000 below (AIMET's defaults).
/// Afterwards each weight sits on the grid point h = [V ≥ 0] chose and its encodings are frozen in the graph:
/// `quantize` keeps them, `export` writes them, and a pass that changes the weight drops them.
/// Cached inputs and targets of one layer stay under a memory bound (default 8 GB): when all samples would not fit,
/// an evenly spaced subset that fits is cached and the report says so. (AIMET re-runs the model up to the layer for
/// every batch instead, a forward pass of the model's prefix per iteration.)
/// Skipped: ConvTranspose and 1-D/3-D convolutions (no weight gradient here), excluded layers, shared weights, and
/// layers already AdaRounded.
public struct AdaRound: Technique {
    public init() {}
    /// Bytes of the two models' run states kept in memory between layers; the rest wait in a temporary file.
    static let stateMemory = 2 << 30
    public let name = "adaround"
    public let summary = "learn each weight's rounding (up or down) layer by layer on calibration data"
    public let changesFunction = true
    public let options: [(String, String?, String)] = [
        ("--iterations", "N", "optimizer steps per layer (default 10000 for 8-bit weights, 15000 below)"),
        ("--samples", "N", "calibration samples (default 1024)"),
        ("--batch", "N", "samples per optimizer step (default 32)"),
        ("--seed", "N", "seed of the batch draws (default 0)"),
        ("--cache-memory", "GB", "bound on one layer's cached inputs and targets (default 8)"),
        ("--layers", "A,B,...", "only these weight layers (default all; AIMET's nodes_to_include)"),
    ]

    public var specification: String {
        """
        adaround: learn whether each weight rounds up or down (Nagel et al. 2020, "Up or Down? Adaptive Rounding"), as
        AIMET does. Weight encodings from the session's configuration (defaults when quantization is off), then frozen.
        Per layer in graph order: inputs x from the model with the earlier layers AdaRounded and activations in float,
        targets t from the FP32 model after the layer's activation f (Relu, Clip, Sigmoid, Tanh; else none).
          h(V) = clamp(sigmoid(V) (zeta - gamma) + gamma, 0, 1), zeta = 1.1, gamma = -0.1; V starts at h(V) = W/s - floor(W/s)
          W~ = s (clamp(floor(W/s) + h(V) - o, 0, n) + o)              (o the grid's offset, n its steps)
          loss = mean over samples and positions of sum over channels (f(W~ x + b) - t)^2
                 + 0.01 sum (1 - |2 h(V) - 1|^beta)    (off for the first 20% of iterations, then beta 20 -> 2, cosine)
        Adam, learning rate 1e-3, batches of --batch samples drawn at random (seeded) from the cached ones; --iterations
        steps per layer (default 10000 for 8-bit weights, 15000 below). Then W = s (clamp(floor(W/s) + [V >= 0] - o, 0, n) + o):
        the weights sit on grid points and their encodings stay frozen (quantize keeps them, export writes them; a pass
        that changes a weight drops its encodings with a warning). Gradients by hand: Conv (2-D, grouped, depthwise), Gemm,
        MatMul. One layer's cached inputs and targets stay under --cache-memory GB (default 8); when all samples do not
        fit, an evenly spaced subset does, and the report says how many. --layers A,B limits it to those layers (the
        others keep nearest rounding). Skipped: ConvTranspose, 1-D and 3-D convolutions, excluded layers, shared weights,
        layers already AdaRounded.
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var report = TechniqueReport(technique: name)
        guard let source = options.samples else {
            throw PTQError.invalidModel("adaround needs calibration samples: its loss compares layer outputs on data")
        }
        let configuration = options.configuration ?? QuantizationConfiguration()
        let settings = try Settings(options.values, weightBits: configuration.weightBits)
        let count = min(settings.samples, source.count)
        report.notes.append("weights \(options.configuration == nil ? "quantized with the defaults (quantization is off)" : "quantized as configured"): \(configuration.summary)")
        report.notes.append("\(settings.iterations) iterations per layer, batches of \(settings.batch) from \(count) samples, seed \(settings.seed)")
        var graph = input
        let (encodings, axes) = Calibration.weightEncodings(graph, configuration)
        let reference = try Executor(graph: input)
        let shapes = try reference.inferShapes(inputShape: [1] + source.sampleShape)
        let order = Dictionary(uniqueKeysWithValues: (0..<reference.stepCount).map { (reference.stepNode($0).node.name, $0) })
        let all = WeightLayer.all(in: graph)
        if let unknown = settings.layers?.first(where: { name in !all.contains { $0.name == name } }) {
            throw PTQError.invalidOption("adaround: '\(unknown)' is not a weight layer of the model; expected names as `layers` lists them")
        }
        var layers: [WeightLayer] = []
        for layer in all.sorted(by: { (order[$0.name] ?? .max, $0.nodeIndex) < (order[$1.name] ?? .max, $1.nodeIndex) }) {
            if let chosen = settings.layers, !chosen.contains(layer.name) {
                report.skipped.append("\(layer.name): not among the layers asked for")
            } else if encodings[layer.weightName] == nil {
                report.skipped.append("\(layer.name): excluded from quantization")
            } else if let frozen = graph.frozenWeightEncodings[layer.weightName], frozen.weight == graph.initializers[layer.weightName] {
                report.skipped.append("\(layer.name): already AdaRounded (its encodings are frozen)")
            } else if let reason = ReconstructionData.unsupportedReason(layer, in: graph) {
                report.skipped.append("\(layer.name): \(reason)")
            } else {
                layers.append(layer)
            }
        }
        // Inputs come from the model as it is now: earlier layers AdaRounded (their weights already on the grid), the
        // rest quantized to nearest.
        var simulatedGraph = FakeQuantization.quantizingWeights(graph, encodings, axes: axes)
        let frontier = try ReconstructionFrontier(reference: reference, source: source, count: count, memoryBudget: Self.stateMemory,
                                                  isCancelled: options.isCancelled)
        for (position, layer) in layers.enumerated() {
            let weightName = layer.weightName
            let weight = graph.initializers[weightName]!
            let label = "adaround — layer \(position + 1) of \(layers.count), \(layer.name)"
            options.progress?(label, position * (settings.iterations + 1), layers.count * (settings.iterations + 1))
            let bytesPerSample = try ReconstructionData.sampleSizes(layer, in: graph, shapes: shapes).reduce(0, +) * 4
            let fitting = max(1, min(count, settings.cacheBytes / max(1, bytesPerSample)))
            let selected = ReconstructionData.evenlySpaced(fitting, of: count)
            let (problem, inputName, targetName) = try ReconstructionData.problem(layer, in: graph, shapes: shapes, samples: selected.count,
                                                                                  batch: settings.batch)
            try frontier.advance(simulated: try Executor(graph: simulatedGraph), input: inputName, target: targetName, selected: selected,
                                 into: problem, isCancelled: options.isCancelled)
            let optimization = try AdaRoundOptimization(problem: problem, weight: weight, encodings: encodings[weightName]!,
                                                        axis: axes[weightName]!, settings: settings, seed: settings.seed &+ UInt64(position))
            let result = try optimization.run(isCancelled: options.isCancelled) { iteration in
                options.progress?(label, position * (settings.iterations + 1) + 1 + iteration, layers.count * (settings.iterations + 1))
            }
            let rounded = Tensor(shape: weight.shape, floats: result.weight)
            graph.initializers[weightName] = rounded
            simulatedGraph.initializers[weightName] = rounded
            graph.frozenWeightEncodings[weightName] = FrozenWeightEncoding(encodings: encodings[weightName]!, axis: axes[weightName]!,
                                                                           technique: name, weight: rounded)
            let subset = selected.count < count ? ", \(selected.count) of \(count) samples cached (memory bound)" : ""
            report.changed.append("\(layer.name): loss \(ReportFormat.number(result.nearestLoss)) -> \(ReportFormat.number(result.learntLoss)) (nearest -> AdaRound, after \(problem.activation.description)), \(String(format: "%.1f%%", 100 * Double(result.flips) / Double(max(1, weight.count)))) of weights rounded away from nearest\(subset)")
        }
        options.progress?("adaround", 1, 1)
        return (graph, report)
    }

    /// The options, parsed and checked.
    struct Settings {
        var iterations: Int, samples: Int, batch: Int, seed: UInt64, cacheBytes: Int
        /// Only these layers, when given.
        var layers: Set<String>?

        init(_ values: [String: String], weightBits: Int) throws {
            func integer(_ option: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
                guard let text = values[option] else { return fallback }
                guard let value = Int(text), range.contains(value) else {
                    throw PTQError.invalidOption("adaround: \(option) '\(text)' is not valid; expected an integer from \(range.lowerBound) to \(range.upperBound)")
                }
                return value
            }
            iterations = try integer("--iterations", weightBits < 8 ? 15_000 : 10_000, 1...1_000_000)
            samples = try integer("--samples", 1024, 1...10_000_000)
            batch = try integer("--batch", 32, 1...4096)
            seed = UInt64(try integer("--seed", 0, 0...Int(Int32.max)))
            cacheBytes = try integer("--cache-memory", 8, 1...1024) << 30
            if let text = values["--layers"] {
                let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !names.isEmpty else {
                    throw PTQError.invalidOption("adaround: --layers '\(text)' names no layer; expected comma-separated weight layer names")
                }
                layers = Set(names)
            }
        }
    }
}
