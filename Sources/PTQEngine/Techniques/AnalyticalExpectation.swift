import Foundation

/// Expected layer inputs from kept BatchNorm statistics: a folded layer's pre-activation output
/// is taken as N(β, γ²) per channel.
public enum AnalyticalExpectation {
    static func density(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    static func cumulative(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

    /// E[max(X, 0)] for X ~ N(mean, std²): std·φ(mean/std) + mean·Φ(mean/std).
    public static func relu(mean: Double, std: Double) -> Double {
        guard std > 0 else { return max(mean, 0) }
        return std * density(mean / std) + mean * cumulative(mean / std)
    }

    /// E[min(max(X, 0), 6)] for X ~ N(mean, std²): the clipped-normal expectation
    /// μ(Φ(b) − Φ(a)) + σ(φ(a) − φ(b)) + 6(1 − Φ(b)), a = −μ/σ, b = (6 − μ)/σ.
    public static func relu6(mean: Double, std: Double) -> Double {
        guard std > 0 else { return min(max(mean, 0), 6) }
        let a = -mean / std, b = (6 - mean) / std
        return mean * (cumulative(b) - cumulative(a)) + std * (density(a) - density(b)) + 6 * (1 - cumulative(b))
    }

    /// E[x] per input channel of `layer`, when its input is a folded layer's output directly, through
    /// Relu, or through ReLU6; nil otherwise.
    public static func inputMean(of layer: WeightLayer, _ graph: Graph) -> [Float]? {
        let node = graph.nodes[layer.nodeIndex]
        let producers = graph.producers()
        guard let producerIndex = producers[node.inputs[0]] else { return nil }
        let producer = graph.nodes[producerIndex]
        if let statistics = graph.foldedStatistics[producer.name] {
            return statistics.beta
        }
        guard let sourceIndex = producers[producer.inputs.first ?? ""],
              let statistics = graph.foldedStatistics[graph.nodes[sourceIndex].name] else { return nil }
        let pairs = zip(statistics.beta, statistics.gamma).map { (Double($0), Double(abs($1))) }
        if producer.opType == "Relu" { return pairs.map { Float(relu(mean: $0.0, std: $0.1)) } }
        if ReplaceRelu6.isRelu6(producer, graph, constants: (try? graph.constantNodeValues()) ?? [:]) {
            return pairs.map { Float(relu6(mean: $0.0, std: $0.1)) }
        }
        return nil
    }
}
