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
        Double(try topKHits(logits, labels: labels, k: k)) / Double(labels.count)
    }

    /// How many samples have their label among the `k` largest logits; `firstSample` numbers the samples in messages.
    public static func topKHits(_ logits: Tensor, labels: [Int], k: Int, firstSample: Int = 0) throws -> Int {
        guard logits.kind == .float, logits.rank >= 1, logits.shape[0] == labels.count, !labels.isEmpty else {
            throw PTQError.shapeMismatch(
                "accuracy needs one row of class scores per labelled sample; the model output is \(describeShape(logits.shape)) for \(labels.count) labels")
        }
        let classes = logits.count / labels.count
        if let (sample, label) = labels.enumerated().first(where: { $0.element < 0 || $0.element >= classes }) {
            throw PTQError.shapeMismatch(
                "label \(label) of sample \(firstSample + sample) is outside the model's \(classes) classes (expected 0 to \(classes - 1))")
        }
        var hits = 0
        for (sample, label) in labels.enumerated() {
            let row = logits.floats[(sample * classes)..<((sample + 1) * classes)]
            let score = row[row.startIndex + label]
            let better = row.enumerated().filter { $0.element > score || ($0.element == score && $0.offset < label) }.count
            if better < k { hits += 1 }
        }
        return hits
    }

    /// Σ reference² and Σ (output − reference)², in Double.
    public static func errorSums(_ output: Tensor, reference: Tensor) -> (signal: Double, noise: Double) {
        var sums = (signal: 0.0, noise: 0.0)
        accumulateErrors(output, reference: reference, into: &sums)
        return sums
    }

    /// Adds this batch's Σ reference² and Σ (output − reference)² to `sums`, in the order one pass over all batches
    /// would (so batching does not change the result).
    public static func accumulateErrors(_ output: Tensor, reference: Tensor, into sums: inout (signal: Double, noise: Double)) {
        var (signal, noise) = sums
        output.floats.withUnsafeBufferPointer { a in
            reference.floats.withUnsafeBufferPointer { b in
                for index in 0..<min(a.count, b.count) {
                    let (x, y) = (Double(a[index]), Double(b[index]))
                    signal += y * y
                    noise += (x - y) * (x - y)
                }
            }
        }
        sums = (signal, noise)
    }

    /// SQNR in dB and MSE from summed errors over `count` values.
    public static func errorMetrics(sums: (signal: Double, noise: Double), count: Int) -> (sqnr: Double, mse: Double) {
        let sqnr = sums.noise == 0 ? Double.infinity : 10 * log10Double(sums.signal / sums.noise)
        return (sqnr, sums.noise / Double(max(1, count)))
    }

    public static func errorMetrics(_ output: Tensor, reference: Tensor) -> (sqnr: Double, mse: Double) {
        errorMetrics(sums: errorSums(output, reference: reference), count: output.count)
    }

    static func log10Double(_ x: Double) -> Double { x <= 0 ? -.infinity : Foundation.log10(x) }
}

import Foundation
