/// The metrics `eval` keeps for `expect` and `--json`, in the units its table prints: accuracies in
/// percent (0 to 100), their deltas in percentage points (-100 to 100), SQNR in dB. One unit
/// everywhere, so `expect top1 >= 97` means what the table shows.
enum Metrics {
    struct Metric {
        var name: String
        var unit: String
        var range: ClosedRange<Double>?
    }

    static let all: [Metric] = [
        Metric(name: "top1", unit: "%", range: 0...100), Metric(name: "top5", unit: "%", range: 0...100),
        Metric(name: "fp32.top1", unit: "%", range: 0...100), Metric(name: "fp32.top5", unit: "%", range: 0...100),
        Metric(name: "delta.top1", unit: " points", range: -100...100), Metric(name: "delta.top5", unit: " points", range: -100...100),
        Metric(name: "sqnr", unit: " dB", range: nil), Metric(name: "mse", unit: "", range: 0...Double.greatestFiniteMagnitude),
        Metric(name: "samples", unit: "", range: 0...Double.greatestFiniteMagnitude),
    ]

    static var names: [String] { all.map(\.name) }

    static func metric(_ name: String) -> Metric? { all.first { $0.name == name } }

    /// The table's numbers: fractions become percent and points.
    static func values(top1: Double?, top5: Double?, fp32Top1: Double?, fp32Top5: Double?, sqnr: Double?, mse: Double?,
                       samples: Int) -> [(String, Double?)] {
        func percent(_ value: Double?) -> Double? { value.map { $0 * 100 } }
        func delta(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { (a - $0) * 100 } } }
        return [("top1", percent(top1)), ("top5", percent(top5)), ("fp32.top1", percent(fp32Top1)),
                ("fp32.top5", percent(fp32Top5)), ("delta.top1", delta(top1, fp32Top1)), ("delta.top5", delta(top5, fp32Top5)),
                ("sqnr", sqnr), ("mse", mse), ("samples", Double(samples))]
    }

    /// A value as `expect` prints it: two decimals and the unit.
    static func show(_ value: Double, _ metric: Metric) -> String {
        metric.name == "mse" ? Format.number(value) : Format.fixed(value, metric.name == "samples" ? 0 : 2) + metric.unit
    }
}
