import Foundation
import Testing
@testable import PTQEngine

/// Empirical bias correction a chunk at a time, resuming from checkpoints spilled to a file, gives the corrections
/// of one pass over all samples at once, to float rounding, on a real architecture (MobileNetV2: residual adds, depthwise
/// convs, so checkpoints are taken after some stops and not others).
@Suite struct StagedBiasCorrectionTests {
    @Test func chunkSizeDoesNotChangeTheCorrections() throws {
        let graph = try ONNXImport.load(path: fixtures.appendingPathComponent("parity/mobilenet_v2.folded.onnx").path)
        let input = try NumpyFile.read(path: fixtures.appendingPathComponent("parity/mobilenet_v2.input.npy").path)
        var generator = SeededGenerator(seed: 5)
        let perSample = input.count / input.shape[0]
        let count = 5
        let samples = Tensor(shape: [count] + Array(input.shape.dropFirst()), floats: (0..<(count * perSample)).map {
            input.floats[$0 % input.count] + Float(generator.normal()) * 0.1
        })
        let configuration = QuantizationConfiguration()
        let (encodings, _) = Calibration.weightEncodings(graph, configuration)
        var quantizedGraph = graph
        for (name, list) in encodings {
            var weight = graph.initializers[name]!
            FakeQuantization.apply(&weight, list[0])
            quantizedGraph.initializers[name] = weight
        }
        let layers = Set(WeightLayer.all(in: graph).filter { LayerBias.canCarry($0, in: graph) }.map(\.name))
        #expect(layers.count > 40)
        func corrections(chunk: Int) throws -> [String: [Float]] {
            try EmpiricalBiasCorrection(reference: Executor(graph: graph, fuseActivations: false),
                                        simulated: Executor(graph: quantizedGraph, fuseActivations: false),
                                        source: TensorSamples(samples), count: count, chunkSize: chunk,
                                        quantizeInput: (8, false), isCancelled: nil).run(empirical: layers, known: [:])
        }
        let whole = try corrections(chunk: count)
        #expect(whole.count == layers.count && whole.values.contains { $0.contains { abs($0) > 1e-4 } })
        for chunk in [1, 2] {
            let staged = try corrections(chunk: chunk)
            #expect(staged.keys.sorted() == whole.keys.sorted())
            // Float rounding only: a chunk's convolutions may sum in another order than the whole batch's.
            for (name, shift) in whole {
                let largest = shift.map { abs($0) }.max()!, difference = zip(staged[name]!, shift).map { abs($0 - $1) }.max()!
                #expect(difference <= 1e-3 * largest + 1e-7, "\(name), chunks of \(chunk): \(difference) against \(largest)")
            }
        }
    }
}
