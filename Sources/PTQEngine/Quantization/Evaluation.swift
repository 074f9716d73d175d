/// Accuracy and output error of a model against FP32, over evaluation samples.
public struct EvaluationResult: Sendable, Equatable {
    public var samples: Int
    public var top1: Double?
    public var top5: Double?
    public var fp32Top1: Double?
    public var fp32Top5: Double?
    /// Output SQNR in dB (10·log10 Σy² / Σ(ŷ − y)²) and MSE against FP32, when quantized.
    public var sqnr: Double?
    public var mse: Double?

    public init(samples: Int) { self.samples = samples }

    public var metrics: [(String, Double?)] {
        [("top1", top1), ("top5", top5), ("fp32.top1", fp32Top1), ("fp32.top5", fp32Top5),
         ("delta.top1", top1.flatMap { a in fp32Top1.map { a - $0 } }), ("delta.top5", top5.flatMap { a in fp32Top5.map { a - $0 } }),
         ("sqnr", sqnr), ("mse", mse), ("samples", Double(samples))]
    }
}

public enum Evaluation {
    /// The graph output `name` from a run's results; throws when the run did not produce it.
    public static func output(_ name: String, of outputs: [String: Tensor]) throws -> Tensor {
        guard let tensor = outputs[name] else {
            throw PTQError.invalidModel("the model did not produce its output '\(name)'")
        }
        return tensor
    }

    /// Fraction of samples whose label is among the `k` largest logits (ties: lower index first).
    /// Throws unless the logits are one row per label and every label names one of the row's classes.
    public static func topK(_ logits: Tensor, labels: [Int], k: Int) throws -> Double {
        guard logits.kind == .float, logits.rank >= 1, logits.shape[0] == labels.count, !labels.isEmpty else {
            throw PTQError.shapeMismatch(
                "accuracy needs one row of class scores per labelled sample; the model output is \(describeShape(logits.shape)) for \(labels.count) labels")
        }
        let classes = logits.count / labels.count
        if let (sample, label) = labels.enumerated().first(where: { $0.element < 0 || $0.element >= classes }) {
            throw PTQError.shapeMismatch(
                "label \(label) of sample \(sample) is outside the model's \(classes) classes (expected 0 to \(classes - 1))")
        }
        var hits = 0
        for (sample, label) in labels.enumerated() {
            let row = logits.floats[(sample * classes)..<((sample + 1) * classes)]
            let score = row[row.startIndex + label]
            let better = row.enumerated().filter { $0.element > score || ($0.element == score && $0.offset < label) }.count
            if better < k { hits += 1 }
        }
        return labels.isEmpty ? 0 : Double(hits) / Double(labels.count)
    }

    /// Σ reference² and Σ (output − reference)², in Double.
    public static func errorSums(_ output: Tensor, reference: Tensor) -> (signal: Double, noise: Double) {
        var signal = 0.0, noise = 0.0
        output.floats.withUnsafeBufferPointer { a in
            reference.floats.withUnsafeBufferPointer { b in
                for index in 0..<min(a.count, b.count) {
                    let (x, y) = (Double(a[index]), Double(b[index]))
                    signal += y * y
                    noise += (x - y) * (x - y)
                }
            }
        }
        return (signal, noise)
    }

    public static func errorMetrics(_ output: Tensor, reference: Tensor) -> (sqnr: Double, mse: Double) {
        let (signal, noise) = errorSums(output, reference: reference)
        let sqnr = noise == 0 ? Double.infinity : 10 * log10Double(signal / noise)
        return (sqnr, noise / Double(max(1, output.count)))
    }

    static func log10Double(_ x: Double) -> Double { x <= 0 ? -.infinity : Foundation.log10(x) }
}

import Foundation
