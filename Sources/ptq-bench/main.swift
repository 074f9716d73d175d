import Foundation
import PTQEngine

// Times the FP32 executor on one model: `ptq-bench MODEL.onnx BATCH SECONDS [--simulate | --bias-correction N]`.
// Prints one line: images per second (best of the timed runs) and the run count. --simulate times the
// W8A8 simulation (calibrated on the same random batch) instead; --bias-correction N times empirical
// bias correction on N seeded N(0,1) samples (made as they are read, like a file) and prints seconds and peak
// resident memory (MB).
// Driven by scripts/bench, which runs ONNX Runtime on the same models in the same session.

/// A seeded linear congruential generator: cheap and repeatable (the system generator made a
/// getrandom call per value, a second of setup for a batch of 32 images).
struct Seeded {
    var state: UInt64
    /// Uniform in [0, 1).
    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}

let arguments = CommandLine.arguments
if arguments.count >= 2 && arguments[1] == "decode" {
    do { try decodeCommand(Array(arguments.dropFirst(2))) } catch {
        FileHandle.standardError.write(Data("ptq-bench decode: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
guard arguments.count >= 3, let batch = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: ptq-bench MODEL.onnx BATCH [SECONDS]\n".utf8))
    exit(2)
}
let seconds = arguments.count > 3 ? Double(arguments[3]) ?? 5 : 5
do {
    let graph = try ONNXImport.load(path: arguments[1])
    var executor = try Executor(graph: graph, fuseActivations: ProcessInfo.processInfo.environment["PTQ_PROFILE"] == nil)
    let input = graph.dataInputs[0]
    var shape = input.shape.map { $0 ?? 1 }
    shape[0] = batch
    var inputGenerator = Seeded(state: 7)
    let samples = Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float(2 * inputGenerator.uniform() - 1) })
    if let index = arguments.firstIndex(of: "--bias-correction"), index + 1 < arguments.count, let count = Int(arguments[index + 1]) {
        let data = NormalSamples(count: count, sampleShape: Array(shape.dropFirst()))
        let folded = try FoldBatchNorm().apply(graph, options: TechniqueOptions()).0
        let begin = Date()
        _ = try BiasCorrection().apply(folded, options: TechniqueOptions(values: ["--samples": "\(count)"], samples: data))
        let elapsed = Date().timeIntervalSince(begin)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "%.1f %.0f", elapsed, Double(usage.ru_maxrss) / 1024))
        exit(0)
    }
    if arguments.contains("--simulate") {
        let state = try Calibration.calibrate(graph, configuration: QuantizationConfiguration(), samples: samples)
        executor = try state.simulation()
    }
    _ = try executor.run([input.name: samples])  // warm-up
    var best = Double.infinity
    var runs = 0
    let start = Date()
    while Date().timeIntervalSince(start) < seconds || runs < 3 {
        let begin = Date()
        _ = try executor.run([input.name: samples])
        best = min(best, Date().timeIntervalSince(begin))
        runs += 1
    }
    print(String(format: "%.2f %d", Double(batch) / best, runs))
    if ProcessInfo.processInfo.environment["PTQ_PROFILE"] != nil {
        // Time attributed to the op that produced each tensor (fused activations count as Conv).
        var producer: [String: String] = [:]
        for node in graph.nodes {
            var kind = node.opType
            if node.opType == "Conv", let weight = graph.initializers[node.inputs[1]] {
                kind = node.int("group", default: 1) > 1 ? "dw \(weight.shape[0]) s\(node.ints("strides")?[0] ?? 1)" : (weight.shape[2] == 1 ? (ProcessInfo.processInfo.environment["PTQ_PROFILE"] == "layers" ? "Conv 1x1 \(weight.shape[1])->\(weight.shape[0]) \(node.name)" : "Conv 1x1") : "Conv \(weight.shape[2])x\(weight.shape[3])")
            }
            for output in node.outputs { producer[output] = kind }
        }
        var totals: [String: Double] = [:]
        var last = Date()
        _ = try executor.run([input.name: samples]) { name, _ in
            let now = Date()
            totals[producer[name] ?? name, default: 0] += now.timeIntervalSince(last)
            last = now
        }
        for (op, time) in totals.sorted(by: { $0.value > $1.value }) {
            FileHandle.standardError.write(Data(String(format: "%-20@ %8.1f ms\n", op as NSString, time * 1000).utf8))
        }
    }
} catch {
    FileHandle.standardError.write(Data("ptq-bench: \(error)\n".utf8))
    exit(1)
}

/// Seeded N(0, 1) samples made when asked for (sample i from seed i), so the data does not sit in memory.
struct NormalSamples: SampleSource {
    let count: Int
    let sampleShape: [Int]
    func samples(_ range: Range<Int>) throws -> Tensor {
        let perSample = sampleShape.reduce(1, *)
        var values = [Float](repeating: 0, count: range.count * perSample)
        for (offset, sample) in range.enumerated() {
            var generator = Seeded(state: 42 &+ UInt64(sample) &* 0x9E3779B97F4A7C15)
            // Box-Muller, both normals of each pair used.
            for index in stride(from: 0, to: perSample, by: 2) {
                let radius = (-2 * log(max(generator.uniform(), 1e-300))).squareRoot(), angle = 2 * .pi * generator.uniform()
                values[offset * perSample + index] = Float(radius * cos(angle))
                if index + 1 < perSample { values[offset * perSample + index + 1] = Float(radius * sin(angle)) }
            }
        }
        return Tensor(shape: [range.count] + sampleShape, floats: values)
    }
}
