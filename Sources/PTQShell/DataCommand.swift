import Foundation
import PTQEngine

/// `data`: attach input samples and labels for calibration and/or evaluation.
enum DataCommand {
    static let spec = CommandSpec(
        name: "data", arguments: [ArgumentSpec("FILE.npy|FILE.npz", isFile: true)],
        options: [
            OptionSpec("--labels", value: "LABELS.npy", help: "integer class labels, one per sample", isFile: true),
            OptionSpec("--for", value: "calibration|evaluation|both", help: "what the data is for (default both)"),
            OptionSpec("--limit", value: "N", help: "take the first N samples in file order"),
            OptionSpec("--scale", value: "S", help: "uint8 data becomes x*S (default 1/255)"),
            OptionSpec("--mean", value: "M,...", help: "per-channel mean subtracted after scaling"),
            OptionSpec("--std", value: "S,...", help: "per-channel std divided by after the mean"),
            OptionSpec("--key", value: "KEY", help: ".npz array holding the samples (default x or inputs)"),
            OptionSpec("--labels-key", value: "KEY", help: ".npz array holding the labels (default y or labels)"),
            OptionSpec("--allow-nonfinite", help: "accept NaN and infinite values (calibration skips them)"),
        ],
        summary: "attach input samples (NCHW) and optional integer labels",
        discussion: "Samples must match the model input's C×H×W. uint8 samples become x*S, then (x-mean)/std. Samples holding NaN or infinity are refused (with how many and where the first is) unless --allow-nonfinite is given.",
        examples: ["data eval.npy --labels eval_labels.npy --for evaluation", "data mnist.npz --limit 512 --for calibration"],
        changesState: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        let purpose = arguments["--for"] ?? "both"
        guard ["calibration", "evaluation", "both"].contains(purpose) else {
            throw ShellError.badValue(command: "data", option: "--for", value: purpose, expected: "calibration, evaluation or both")
        }
        var samples: Tensor
        var labels: Tensor?
        if path.hasSuffix(".npz") {
            let keys = try NumpyArchive.keys(path: path)
            let sampleKey = arguments["--key"] ?? (keys.contains("x") ? "x" : "inputs")
            samples = try NumpyArchive.read(path: path, key: sampleKey)
            let labelKey = arguments["--labels-key"] ?? (keys.contains("y") ? "y" : (keys.contains("labels") ? "labels" : nil))
            if let labelKey { labels = try NumpyArchive.read(path: path, key: labelKey) }
        } else {
            samples = try NumpyFile.read(path: path)
        }
        if let labelPath = arguments["--labels"] { labels = try NumpyFile.read(path: session.resolve(labelPath)) }
        if let limit = try arguments.integer("--limit", command: "data", range: 1...Int.max), limit < samples.shape.first ?? 0 {
            samples = Batching.slice(samples, 0..<limit)
            if let current = labels, current.count > limit { labels = Batching.slice(current, 0..<limit) }
        }
        guard samples.rank >= 1 else {
            throw PTQError.invalidData(file: path, problem: "holds a single value (shape []); expected samples with a batch axis, N×C×H×W")
        }
        samples = try normalize(samples, arguments)
        if !arguments.has("--allow-nonfinite"), let first = samples.floats.firstIndex(where: { !$0.isFinite }) {
            let count = samples.floats.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            throw PTQError.invalidData(file: path, problem:
                "\(count) value\(count == 1 ? " is" : "s are") NaN or infinite (the first at flat index \(first), sample \(first / max(1, samples.count / max(1, samples.shape[0])))); expected finite numbers, or pass --allow-nonfinite")
        }
        if let graph = session.graph { try checkShape(samples, graph: graph, file: path) }
        var labelValues: [Int]?
        if let labels {
            guard labels.kind == .integer else {
                throw PTQError.invalidData(file: arguments["--labels"] ?? path, problem: "labels must be integers; got floats")
            }
            guard labels.count == samples.shape[0] else {
                throw PTQError.invalidData(file: arguments["--labels"] ?? path, problem: "\(labels.count) labels for \(samples.shape[0]) samples")
            }
            labelValues = labels.integers.map { Int($0) }
        }
        let attached = AttachedData(path: path, samples: samples, labels: labelValues, purpose: purpose)
        if purpose != "evaluation" { session.calibrationData = attached }
        if purpose != "calibration" { session.evaluationData = attached }
        output.line("attached \(samples.shape[0]) samples \(describeShape(Array(samples.shape.dropFirst())))\(labelValues == nil ? "" : " with labels") for \(purpose == "both" ? "calibration and evaluation" : purpose)")
    }

    static func normalize(_ samples: Tensor, _ arguments: Arguments) throws -> Tensor {
        var values = samples.asFloats
        if samples.kind == .integer {
            let scale = Float(try arguments.number("--scale", command: "data") ?? 1.0 / 255.0)
            for index in values.indices { values[index] *= scale }
        } else if let scale = try arguments.number("--scale", command: "data") {
            for index in values.indices { values[index] *= Float(scale) }
        }
        let channels = samples.rank >= 2 ? samples.shape[1] : 1
        let plane = samples.shape.dropFirst(2).reduce(1, *)
        for (option, apply) in [("--mean", { (x: Float, m: Float) in x - m }), ("--std", { (x: Float, s: Float) in x / s })] {
            guard let text = arguments[option] else { continue }
            let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.allSatisfy({ $0 != nil }), parts.count == 1 || parts.count == channels else {
                throw ShellError.badValue(command: "data", option: option, value: text, expected: "1 or \(channels) comma-separated numbers")
            }
            let numbers = parts.map { $0! }
            if option == "--std", numbers.contains(where: { $0 == 0 || !$0.isFinite }) {
                throw ShellError.badValue(command: "data", option: option, value: text, expected: "non-zero finite numbers")
            }
            for index in values.indices {
                let channel = (index / plane) % channels
                values[index] = apply(values[index], numbers.count == 1 ? numbers[0] : numbers[channel])
            }
        }
        return Tensor(shape: samples.shape, floats: values)
    }

    /// Samples must be N × (the model input's shape without its batch axis).
    static func checkShape(_ samples: Tensor, graph: Graph, file: String) throws {
        guard let input = graph.dataInputs.first else { return }
        let expected = Array(input.shape.dropFirst())
        let got = Array(samples.shape.dropFirst())
        let fits = samples.rank == input.shape.count && zip(expected, got).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
        if !fits {
            let wanted = "[N, " + expected.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
            throw PTQError.invalidData(file: file, problem: "samples have shape \(describeShape(samples.shape)); model input '\(input.name)' expects \(wanted)")
        }
    }
}
