import Foundation

/// bias-correction — remove the mean output shift quantizing the weights causes, Nagel et al. 2019,
/// section 4.2.
///
/// Weights are quantized with the session's configuration (the defaults when quantization is off;
/// the report says which); activations stay FP32 (as AIMET does); the model input is quantized as
/// configured. Layers: Conv, ConvTranspose, Gemm, MatMul with a constant weight, in topological
/// order, each on the model whose earlier layers are already corrected:
/// - empirical (default): b −= mean over samples and positions of (y_quantized − y_fp32), per output
///   channel, on the calibration data (default 512 samples);
/// - analytical: b −= (Σ_kernel (Q(W) − W)) · E[x], E[x] per input channel from the kept BN
///   statistics (β, |γ|) of the layer feeding it: through Relu E = |γ|·φ(β/|γ|) + β·Φ(β/|γ|); through
///   ReLU6 the clipped-normal expectation; through nothing E = β. Layers without statistics are
///   skipped and reported; it needs no data;
/// - hybrid: analytical where statistics exist, empirical elsewhere (skipped without data).
/// Memory does not grow with the sample count (`EmpiricalBiasCorrection`): the FP32 model runs once, summing its
/// outputs; the quantized one runs 32 samples at a time from checkpoints (at most 768 MB in memory, the rest in a
/// temporary file), recomputing from the last checkpoint to each layer.
public struct BiasCorrection: Technique {
    public init() {}
    public let name = "bias-correction"
    public let summary = "correct the biased output error of quantized weights (empirical, analytical or hybrid)"
    public let options: [(String, String?, String)] = [("--mode", "empirical|analytical|hybrid", "default empirical"),
                                                       ("--samples", "N", "calibration samples (default 512)")]
    public var specification: String {
        """
        bias-correction: remove the mean output error caused by quantized weights (Nagel et al. 2019, section 4.2).
        Weights quantized with the session's configuration (defaults when quantization is off); activations FP32; the
        model input quantized as configured. Conv, ConvTranspose, Gemm, MatMul with constant weights, in topological order,
        on the progressively corrected model.
        empirical (default): b -= mean over samples and positions of (y_q - y_fp32) per output channel (calibration data,
          default 512 samples).
        analytical: b -= (sum over the kernel of (Q(W) - W)) . E[x], E[x] per input channel from the kept BN statistics of the
          layer feeding it: through Relu E = |g| phi(b/|g|) + b Phi(b/|g|); through ReLU6 the clipped-normal expectation;
          through nothing E = b. Layers without statistics are skipped and reported. Needs no data.
        hybrid: analytical where statistics exist, empirical elsewhere (skipped without data).
        Memory is bounded whatever --samples is: 32 samples' live activations plus at most 768 MB of checkpoints (the
          rest go to a temporary file); the quantized model recomputes from its last checkpoint to each layer
          (MobileNetV2 224x224: 512 samples 13 s, 1.2 GB peak; 2048 samples 70 s, 1.2 GB).
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var report = TechniqueReport(technique: name)
        let mode = options.values["--mode"] ?? "empirical"
        guard ["empirical", "analytical", "hybrid"].contains(mode) else {
            throw PTQError.invalidModel("bias-correction: --mode '\(mode)' is not valid; expected empirical, analytical or hybrid")
        }
        let configuration = options.configuration ?? QuantizationConfiguration()
        report.notes.append("mode \(mode); weights \(options.configuration == nil ? "quantized with the defaults (quantization is off)" : "quantized as configured"): \(configuration.summary)")
        var graph = input
        let (encodings, axes) = Calibration.weightEncodings(graph, configuration)
        let quantizedGraph = FakeQuantization.quantizingWeights(graph, encodings, axes: axes)
        let quantizedLayers = WeightLayer.all(in: graph).filter { encodings[$0.weightName] != nil }
        let layers = quantizedLayers.filter { LayerBias.canCarry($0, in: graph) }
        for layer in quantizedLayers where !LayerBias.canCarry(layer, in: graph) {
            report.skipped.append("\(layer.name): has no bias of its own to correct (a MatMul with no following Add of a per-channel constant, or a bias shared with another node)")
        }
        // Analytical corrections first: they need no data.
        var corrections: [String: [Float]] = [:]
        if mode != "empirical" {
            for layer in layers {
                if let expectation = AnalyticalExpectation.inputMean(of: layer, graph) {
                    corrections[layer.name] = Self.analyticalShift(layer, weight: graph.initializers[layer.weightName]!,
                                                                   quantized: quantizedGraph.initializers[layer.weightName]!,
                                                                   expectation: expectation, graph: graph)
                } else if mode == "analytical" {
                    report.skipped.append("\(layer.name): its input has no kept BatchNorm statistics (directly or through Relu/ReLU6)")
                }
            }
        }
        let empiricalLayers = Set(layers.map(\.name).filter { mode == "empirical" || (mode == "hybrid" && corrections[$0] == nil) })
        if !empiricalLayers.isEmpty {
            if let samples = options.samples {
                let count = min(Int(options.values["--samples"] ?? "512") ?? 512, samples.count)
                let lockstep = EmpiricalBiasCorrection(
                    reference: try Executor(graph: graph, fuseActivations: false), simulated: try Executor(graph: quantizedGraph, fuseActivations: false),
                    source: samples, count: count, chunkSize: Self.chunkSize,
                    quantizeInput: configuration.quantizeInput ? (configuration.activationBits, configuration.activationSymmetric) : nil,
                    isCancelled: options.isCancelled, progress: options.progress)
                corrections.merge(try lockstep.run(empirical: empiricalLayers, known: corrections)) { $1 }
                report.notes.append("empirical part on \(count) calibration samples")
            } else {
                for name in empiricalLayers.sorted() { report.skipped.append("\(name): needs calibration data for the empirical correction") }
                if mode == "empirical" { throw PTQError.invalidModel("bias-correction: empirical mode needs calibration data; attach it with `data`") }
            }
        }
        for layer in layers {
            guard let shift = corrections[layer.name] else { continue }
            let bias = LayerBias.values(layer, in: graph) ?? []
            if shift.allSatisfy({ abs($0) <= 1e-6 * max(1, bias.map { abs($0) }.max() ?? 0) }) {
                report.unchanged.append("\(layer.name): its quantized weights move the outputs by less than float noise")
                continue
            }
            guard LayerBias.add(shift.map { -$0 }, layer, in: &graph) else {
                report.skipped.append("\(layer.name): its bias could not take the correction")
                continue
            }
            let largest = shift.map { abs($0) }.max() ?? 0
            let mean = shift.map { abs($0) }.reduce(0, +) / Float(max(1, shift.count))
            let kind = empiricalLayers.contains(layer.name) ? "empirical" : "analytical"
            report.changed.append("\(layer.name): \(kind), mean |shift| \(ReportFormat.number(Double(mean))), max \(ReportFormat.number(Double(largest)))")
        }
        return (graph, report)
    }

    /// (Σ_kernel (Q(W) − W)) · E[x] per output channel.
    static func analyticalShift(_ layer: WeightLayer, weight: Tensor, quantized: Tensor, expectation: [Float], graph: Graph) -> [Float] {
        let node = graph.nodes[layer.nodeIndex]
        let outputs = weight.shape[layer.outputChannelAxis]
        var shift = [Float](repeating: 0, count: outputs)
        let error = zip(quantized.floats, weight.floats).map { $0 - $1 }
        switch layer.opType {
        case "Conv":
            let inPerGroup = weight.shape[1], kernel = weight.shape[2...].reduce(1, *)
            let outPerGroup = outputs / max(1, node.int("group", default: 1))
            for o in 0..<outputs {
                for i in 0..<inPerGroup {
                    let channel = (o / outPerGroup) * inPerGroup + i
                    guard channel < expectation.count else { continue }
                    var sum: Float = 0
                    for k in 0..<kernel { sum += error[(o * inPerGroup + i) * kernel + k] }
                    shift[o] += sum * expectation[channel]
                }
            }
        case "ConvTranspose":
            // A strided ConvTranspose adds a different subset of kernel taps at each output position;
            // on average over positions each tap lands 1/(stride_h x stride_w) of the time.
            let inputs = weight.shape[0], kernel = weight.shape[2...].reduce(1, *)
            let strides = node.ints("strides") ?? [1, 1]
            let share = 1 / Float(max(1, strides.reduce(1, *)))
            for i in 0..<min(inputs, expectation.count) {
                for o in 0..<outputs {
                    var sum: Float = 0
                    for k in 0..<kernel { sum += error[(i * outputs + o) * kernel + k] }
                    shift[o] += sum * expectation[i] * share
                }
            }
        default:  // Gemm / MatMul: [out, in] when the output axis is 0, else [in, out]
            let inputs = weight.count / outputs
            for o in 0..<outputs {
                for i in 0..<min(inputs, expectation.count) {
                    shift[o] += error[layer.outputChannelAxis == 0 ? o * inputs + i : i * outputs + o] * expectation[i]
                }
            }
            if layer.opType == "Gemm" {  // Gemm computes alpha * A * B: the weight error is scaled too
                let alpha = node.float("alpha", default: 1)
                shift = shift.map { $0 * alpha }
            }
        }
        return shift
    }

    /// Samples per chunk of the empirical correction: memory is about this × the model's largest live activations
    /// (plus the checkpoints).
    static let chunkSize = 32
}

extension ChannelScaling {
    /// Adds values[c] to every element of channel c along `axis`.
    public static func add(_ tensor: inout Tensor, axis: Int, values: [Float]) {
        let shape = tensor.shape  // the shape alone: a second reference to the tensor would make the add copy it
        tensor.floats.withUnsafeMutableBufferPointer { buffer in
            Tensor.forEachChannelRun(shape: shape, axis: axis) { channel, run in
                for index in run { buffer[index] += values[channel] }
            }
        }
    }
}
