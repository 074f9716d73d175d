import Foundation

/// Expected layer inputs from kept BatchNorm statistics: a folded layer's pre-activation output
/// is taken as N(β, γ²) per channel.
public enum AnalyticalExpectation {
    static func density(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    static func cumulative(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

    /// E[max(X, 0)] for X ~ N(mean, std²): std·φ(mean/std) + mean·Φ(mean/std).
    public static func relu(mean: Double, std: Double) -> Double {
        clipped(mean: mean, std: std, low: 0, high: .infinity)
    }

    /// E[min(max(X, 0), 6)] for X ~ N(mean, std²).
    public static func relu6(mean: Double, std: Double) -> Double {
        clipped(mean: mean, std: std, low: 0, high: 6)
    }

    /// E[min(max(X, l), u)] for X ~ N(μ, σ²), the clipped-normal expectation
    /// μ(Φ(b) − Φ(a)) + σ(φ(a) − φ(b)) + l·Φ(a) + u(1 − Φ(b)), a = (l − μ)/σ, b = (u − μ)/σ;
    /// an infinite bound's term is 0 (its probability mass vanishes faster than the bound grows).
    public static func clipped(mean: Double, std: Double, low: Double, high: Double) -> Double {
        guard std > 0 else { return min(max(mean, low), high) }
        let a = (low - mean) / std, b = (high - mean) / std
        let lowTerm = low.isFinite ? low * cumulative(a) : 0
        let highTerm = high.isFinite ? high * (1 - cumulative(b)) : 0
        let densities = (a.isFinite ? density(a) : 0) - (b.isFinite ? density(b) : 0)
        return mean * (cumulative(b) - cumulative(a)) + std * densities + lowTerm + highTerm
    }

    /// E[x] per input channel of `layer`, when its input is a folded layer's output directly, through Relu, through
    /// a Clip with constant bounds (ReLU6), or through Relu + Min with a per-channel bound (a ReLU6 that cross-layer
    /// scaling kept); nil otherwise.
    public static func inputMean(of layer: WeightLayer, _ graph: Graph) -> [Float]? {
        let node = graph.nodes[layer.nodeIndex]
        let producers = graph.producers()
        guard let producerIndex = producers[node.inputs[0]] else { return nil }
        let producer = graph.nodes[producerIndex]
        if let statistics = graph.foldedStatistics[producer.name] { return statistics.beta }
        // The activation between the folded layer and this one, as per-channel bounds [low, high].
        var activation = producer
        var bounds: (low: Float, high: [Float]?) = (0, nil)
        if producer.opType == "Min", let reluIndex = producer.inputs.compactMap({ producers[$0] }).first,
           graph.nodes[reluIndex].opType == "Relu",
           let bound = ChannelBounds.bound(of: producer, after: graph.nodes[reluIndex], graph) {
            activation = graph.nodes[reluIndex]
            bounds.high = graph.initializers[bound]!.asFloats
        } else if producer.opType == "Clip" {
            let constants = (try? graph.constantNodeValues()) ?? [:]
            guard let (low, high) = ActivationOperators.constantClipBounds(producer, { graph.initializers[$0] ?? constants[$0] })
            else { return nil }
            bounds = (low, [high])
        } else if producer.opType != "Relu" {
            return nil
        }
        guard let sourceIndex = producers[activation.inputs.first ?? ""],
              let statistics = graph.foldedStatistics[graph.nodes[sourceIndex].name] else { return nil }
        let channels = statistics.beta.count
        let high = bounds.high.map { $0.count == 1 ? [Float](repeating: $0[0], count: channels) : $0 }
            ?? [Float](repeating: .infinity, count: channels)
        guard high.count == channels else { return nil }
        return (0..<channels).map {
            Float(clipped(mean: Double(statistics.beta[$0]), std: Double(abs(statistics.gamma[$0])),
                          low: Double(bounds.low), high: Double(high[$0])))
        }
    }
}
