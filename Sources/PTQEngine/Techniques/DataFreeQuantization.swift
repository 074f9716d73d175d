/// dfq — the whole recipe of Nagel et al. 2019 in the paper's order: fold-bn, relu6-to-relu,
/// cle, high-bias-fold, bias-correction (hybrid: analytical where BN statistics exist, empirical
/// elsewhere when calibration data is attached). One combined report.
public struct DataFreeQuantization: Technique {
    public init() {}
    public let name = "dfq"
    public let summary = "the whole recipe: fold-bn, relu6-to-relu, cle, high-bias-fold, bias-correction (hybrid)"
    public let options: [(String, String?, String)] = [("--iterations", "N", "passed to cle")]
    public var specification: String {
        """
        dfq: data-free quantization, the recipe of Nagel et al. 2019, in the paper's order:
          fold-bn, relu6-to-relu, cle, high-bias-fold, bias-correction --mode hybrid.
        Each step is the technique of the same name (see `help fold-bn` and the others); one combined report.
        Without calibration data the empirical part of bias correction is skipped and reported.
        """
    }

    public func apply(_ input: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport) {
        var graph = input
        var report = TechniqueReport(technique: name)
        var stepOptions = options
        let steps: [any Technique] = [FoldBatchNorm(), ReplaceRelu6(), CrossLayerScaling(), HighBiasFold(), BiasCorrection()]
        for step in steps {
            if step.name == "bias-correction" { stepOptions.values["--mode"] = "hybrid" }
            let (result, stepReport) = try step.apply(graph, options: stepOptions)
            graph = result
            report.changed += stepReport.changed.map { "[\(step.name)] \($0)" }
            report.skipped += stepReport.skipped.map { "[\(step.name)] \($0)" }
            report.notes += stepReport.notes.map { "[\(step.name)] \($0)" }
        }
        return (graph, report)
    }
}
