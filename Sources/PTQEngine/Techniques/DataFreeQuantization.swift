/// dfq — the recipe of Nagel et al. 2019 (fold-bn, relu6-to-relu, cle, high-bias-fold, bias-correction, hybrid:
/// analytical where BN statistics exist, empirical elsewhere when calibration data is attached), with two choices
/// made per model so that the steps meant to keep the function do keep it.
///
/// The paper replaces ReLU6 by ReLU so equalization can pass. That changes the function wherever activations
/// exceed 6, and on a real pretrained EfficientNet-Lite0 it cost 6.6 points of FP32 top-1 (AIMET's flow made the
/// quantized model worse than doing nothing). So by default each ReLU6 between two layers is replaced only where
/// the producer's BatchNorm statistics say 6 is almost never reached (β + 3.72|γ| ≤ 6 in every channel, P < 1e-4);
/// the others stay clips, which cle carries through as per-channel bounds (`ChannelBounds`), function-preserving.
/// High-bias absorption adds a border error where the second layer reads zero padding (the padded zeros do not
/// shift with the bias); on the same network absorbing into the padded depthwise layers cost 1 point of FP32
/// top-1, so dfq absorbs only into layers that read no padding (`high-bias-fold --exact`). `--paper` runs the paper's recipe as published.
public struct DataFreeQuantization: Technique {
    public init() {}
    public let name = "dfq"
    public let summary = "the whole recipe: fold-bn, relu6-to-relu (where harmless), cle, high-bias-fold (no border error), bias-correction"
    public let options: [(String, String?, String)] = [
        ("--iterations", "N", "passed to cle"),
        ("--paper", nil, "the paper's recipe exactly: every ReLU6 between layers becomes ReLU"),
    ]
    public var specification: String {
        """
        dfq: data-free quantization after Nagel et al. 2019: fold-bn, relu6-to-relu, cle, high-bias-fold,
          bias-correction --mode hybrid. Each step is the technique of the same name (see their help); one report.
        The choice it makes per model, for each ReLU6 between two layers:
          - replaced by ReLU (the paper's step) when the producer's BatchNorm statistics say 6 is almost never reached:
            beta + 3.72|gamma| <= 6 in every channel (P(x > 6) < 1e-4), so the function barely changes;
          - otherwise kept: cle carries it as Relu + Min with a per-channel bound (scaled with the channel), so the
            function is unchanged. A model with BN folded on export has no statistics: all its ReLU6 are kept.
        And high-bias-fold --exact: biases move only into layers that read no zero padding (no border error; what
          remains is the paper's own approximation, that values below beta - 3|gamma| are rare).
        --paper: the paper's recipe as published (every ReLU6 between layers becomes ReLU, every link absorbs;
          changes the function: on a real EfficientNet-Lite0 it ended at 55% W8A8 against 80% FP32, dfq at 80.2%).
        Without calibration data the empirical part of bias correction is skipped and reported.
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        let paper = options.flags.contains("--paper")
        var stepOptions = options
        stepOptions.flags.remove("--paper")
        let steps: [any Technique] = [FoldBatchNorm(), ReplaceRelu6(), CrossLayerScaling(), HighBiasFold(), BiasCorrection()]
        for step in steps {
            var thisStep = stepOptions
            if step.name == "bias-correction" { thisStep.values["--mode"] = "hybrid" }
            if step.name == "relu6-to-relu" && !paper { thisStep.flags.insert("--unreached") }
            if step.name == "high-bias-fold" && !paper { thisStep.flags.insert("--exact") }
            let (result, stepReport) = try step.apply(graph, options: thisStep)
            graph = result
            report.changed += stepReport.changed.map { "[\(step.name)] \($0)" }
            report.skipped += stepReport.skipped.map { "[\(step.name)] \($0)" }
            report.notes += stepReport.notes.map { "[\(step.name)] \($0)" }
        }
        report.notes.insert(paper ? "the paper's recipe (--paper): every ReLU6 between layers replaced by ReLU, which changes the function"
                                  : "ReLU6 replaced only where BN statistics say 6 is never reached, the others kept as per-channel clips; "
                                    + "high biases absorbed only into layers that read no padding",
                            at: 0)
        return (graph, report)
    }
}
