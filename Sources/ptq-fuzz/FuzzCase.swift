import Foundation
import PTQEngine
import PTQShell
import SwiftProtobuf

/// The kinds of input the fuzzer breaks.
enum FuzzKind: String, CaseIterable {
    case model, array, script, image
}

/// One generated case: the files it needs (written into its folder) and the command lines to run.
/// Generating a case runs no ptq code on hostile input, so the parent process can write a failing
/// case out again from its seed and index alone.
struct FuzzCase {
    var kind: FuzzKind
    var description: String
    var lines: [String]

    static func make(kind: FuzzKind, seed: UInt64, index: Int, folder: String) throws -> FuzzCase {
        var random = FuzzRandom(seed: seed, index: index)
        let base = random.pick(FuzzModels.all)
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: folder)
        try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func path(_ name: String) -> URL { URL(fileURLWithPath: folder).appendingPathComponent(name) }

        let model = try ONNXExport.modelProto(base.graph)
        let samples = sampleTensor(shape: [4] + base.inputShape, random: &random)
        let labels = Tensor(shape: [4], integers: (0..<4).map { _ in Int64(random.below(base.classes)) })
        var modelBytes: Data = try model.serializedBytes()
        var samplesBytes = NumpyFile.encode(samples)
        var labelsBytes = NumpyFile.encode(labels)
        var description = "\(kind.rawValue) case on the '\(base.name)' model: "
        var lines = ["load model.onnx", "info", "data x.npy --labels labels.npy", "infer x.npy --out out.npy --force",
                     "quantize", "apply dfq", "eval"]
        switch kind {
        case .model:
            let (mutated, change) = ModelMutator.mutate(model, random: &random)
            modelBytes = try mutated.serializedBytes()
            description += change
        case .array:
            if random.chance(30) {
                var members = [("x.npy", samplesBytes), ("labels.npy", labelsBytes)]
                let which = random.below(2)
                let (bytes, change) = ArrayMutator.mutateNumpy(members[which].1, random: &random)
                if random.chance(70) { members[which].1 = bytes; description += "\(members[which].0) \(change); " }
                description += try ArrayMutator.archive(members, at: path("data.npz").path, random: &random)
                lines[2] = "data data.npz --key x --labels-key labels"
            } else if random.chance(70) {
                let (bytes, change) = ArrayMutator.mutateNumpy(samplesBytes, random: &random)
                samplesBytes = bytes
                description += "samples \(change)"
            } else {
                let (bytes, change) = ArrayMutator.mutateNumpy(labelsBytes, random: &random)
                labelsBytes = bytes
                description += "labels \(change)"
            }
            lines += ["apply bias-correction --mode empirical", "sqnr", "eval --json report.json --force"]
        case .image:
            // A folder of images, some broken; the "cnn" model takes 3x8x8, so its cases reach the decoders.
            let size = base.inputShape.last ?? 8
            description += try ImageMutator.writeFolder(path("images/c").path, random: &random)
            let options = ["", " --preset imagenet", " --bgr", " --per-class 1", " --skip 1", " --limit 2", " --mean 0.5 --std 0.25"]
            lines = ["load model.onnx", "data images --resize \(size + random.below(3)) --crop \(size)\(random.pick(options)) --for evaluation",
                     "eval", "data images --crop \(size) --for calibration", "quantize", "apply bias-correction", "eval", "info"]
        case .script:
            lines = ["load model.onnx"]
            if random.chance(70) { lines.append("data x.npy --labels labels.npy") }
            var script = (0..<(1 + random.below(3))).map { _ in ScriptGenerator.line(&random) }
            if random.chance(15) { script.append("run self.ptq") }
            try script.joined(separator: "\n").write(to: path("self.ptq"), atomically: true, encoding: .utf8)
            lines += (0..<(2 + random.below(6))).map { _ in ScriptGenerator.line(&random) }
            if random.chance(10) { lines.append("run self.ptq") }
            description += "random commands"
        }
        try modelBytes.write(to: path("model.onnx"))
        try samplesBytes.write(to: path("x.npy"))
        try labelsBytes.write(to: path("labels.npy"))
        try (lines.joined(separator: "\n") + "\n").write(to: path("case.ptq"), atomically: true, encoding: .utf8)
        return FuzzCase(kind: kind, description: description, lines: lines)
    }

    static func sampleTensor(shape: [Int], random: inout FuzzRandom) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, floats: (0..<count).map { _ in Float(random.below(2001)) / 1000 - 1 })
    }

    /// Runs the case's lines in-process, every line whatever the one before did (as
    /// `ptq run --keep-going`). Returns error lines that do not read as ptq's own messages: an error
    /// type nobody rendered, or a Swift value dumped as text.
    /// Also returns how many lines succeeded: how deep the mutated inputs got.
    func run(in folder: String) -> (unrendered: [String], succeeded: Int) {
        var errors: [String] = []
        let interpreter = Interpreter(session: Session(baseDirectory: folder), write: { _ in },
                                      writeError: { errors.append($0) })
        var succeeded = 0
        for line in lines where interpreter.execute(line) == .success { succeeded += 1 }
        let unrendered = ["Error(", "Swift.", "PTQEngine.", "PTQShell.", "ZIPFoundation", "NSCocoaError",
                          "The operation could not", "Optional("]
        return (errors.filter { text in unrendered.contains { text.contains($0) } }, succeeded)
    }
}
