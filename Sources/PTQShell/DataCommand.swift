import Foundation
import PTQEngine

/// `data`: attach input samples and labels for calibration and/or evaluation: a .npy file (read a batch at a
/// time), a .npz archive (read whole), or a folder of images (decoded a batch ahead of the model).
enum DataCommand {
    static let spec = CommandSpec(
        name: "data", arguments: [ArgumentSpec("FILE.npy|FILE.npz|FOLDER", isFile: true)],
        options: [
            OptionSpec("--labels", value: "LABELS.npy|LABELS.csv", help: "integer class labels, one per sample (a folder: CSV of file,label)", isFile: true),
            OptionSpec("--for", value: "calibration|evaluation|both", help: "what the data is for (default both)"),
            OptionSpec("--limit", value: "N", help: "take N samples (after --skip), in file order"),
            OptionSpec("--skip", value: "N", help: "leave out the first N samples"),
            OptionSpec("--scale", value: "S", help: "uint8 data becomes x*S (default x/255)"),
            OptionSpec("--mean", value: "M,...", help: "per-channel mean subtracted after scaling"),
            OptionSpec("--std", value: "S,...", help: "per-channel std divided by after the mean"),
            OptionSpec("--key", value: "KEY", help: ".npz array holding the samples (default x or inputs)"),
            OptionSpec("--labels-key", value: "KEY", help: ".npz array holding the labels (default y or labels)"),
            OptionSpec("--allow-nonfinite", help: "accept NaN and infinite values (calibration skips them)"),
        ] + ImageDataOptions.options,
        summary: "attach input samples (NCHW .npy/.npz, or a folder of images) and optional integer labels",
        discussion: """
            Samples must match the model input's C×H×W. uint8 samples become x*S, then (x-mean)/std. Samples holding NaN or \
            infinity are refused (with how many and where the first is) unless --allow-nonfinite is given. A .npy file is read \
            a batch at a time (never held whole); a .npz archive is read whole. \
            \(ImageDataOptions.discussion)
            """,
        examples: ["data eval.npy --labels eval_labels.npy --for evaluation", "data mnist.npz --limit 512 --for calibration",
                   "data val/ --classes synset_words.txt --resize 256 --crop 224 --preset imagenet --for evaluation"],
        changesState: true
    ) { session, arguments, output in
        let path = session.resolve(arguments.positionals[0])
        let purpose = arguments["--for"] ?? "both"
        guard ["calibration", "evaluation", "both"].contains(purpose) else {
            throw ShellError.badValue(command: "data", option: "--for", value: purpose, expected: "calibration, evaluation or both")
        }
        let skip = try arguments.integer("--skip", command: "data", range: 0...Int.max) ?? 0
        let limit = try arguments.integer("--limit", command: "data", range: 1...Int.max) ?? Int.max
        var isDirectory: ObjCBool = false
        let attached: AttachedData
        var described: String
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            (attached, described) = try ImageDataOptions.attach(path, arguments, session: session, skip: skip, limit: limit, purpose: purpose)
        } else {
            if let image = ImageDataOptions.options.map(\.name).first(where: { arguments.has($0) || arguments[$0] != nil }) {
                throw ShellError.other("data: \(image) applies to a folder of images; \(arguments.positionals[0]) is a file")
            }
            attached = try arrays(path, arguments, session: session, skip: skip, limit: limit, purpose: purpose)
            described = "\(attached.source.count) samples \(describeShape(attached.source.sampleShape))"
        }
        if let graph = session.graph { try checkShape(attached.source.sampleShape, count: attached.source.count, graph: graph, file: path) }
        if purpose != "evaluation" { session.calibrationData = attached }
        if purpose != "calibration" { session.evaluationData = attached }
        output.line("attached \(described)\(attached.labels == nil ? "" : " with labels") for \(purpose == "both" ? "calibration and evaluation" : purpose)")
    }

    /// A .npy (streamed) or .npz (in memory) file of samples, with labels.
    static func arrays(_ path: String, _ arguments: Arguments, session: Session, skip: Int, limit: Int, purpose: String) throws -> AttachedData {
        let normalization = try normalization(arguments, channels: nil)
        var source: SampleSource
        var labels: Tensor?
        let total: Int  // samples in the file, before --skip and --limit
        if path.hasSuffix(".npz") {
            let keys = try NumpyArchive.keys(path: path)
            let sampleKey = arguments["--key"] ?? (keys.contains("x") ? "x" : "inputs")
            let samples = try NumpyArchive.read(path: path, key: sampleKey)
            guard samples.rank >= 1 else {
                throw PTQError.invalidData(file: path, problem: "holds a single value (shape []); expected samples with a batch axis, N×C×H×W")
            }
            let range = min(skip, samples.shape[0])..<min(samples.shape[0], skip.addingReportingOverflow(limit).overflow ? Int.max : skip + limit)
            source = TensorSamples(normalization.apply(Batching.slice(samples, range)))
            total = samples.shape[0]
            let labelKey = arguments["--labels-key"] ?? (keys.contains("y") ? "y" : (keys.contains("labels") ? "labels" : nil))
            if let labelKey { labels = try NumpyArchive.read(path: path, key: labelKey) }
        } else {
            let whole = try NumpySamples(path: path, normalization: normalization)
            total = whole.count
            source = whole.taking(skip: skip, limit: limit)
        }
        if let labelPath = arguments["--labels"] { labels = try NumpyFile.read(path: session.resolve(labelPath)) }
        // Labels for every sample in the file follow --skip and --limit; any other count is refused below.
        if let current = labels, current.rank >= 1, current.shape[0] == total, total != source.count {
            let start = min(skip, current.shape[0])
            labels = Batching.slice(current, start..<min(current.shape[0], start + source.count))
        }
        guard source.count > 0 else {
            throw PTQError.invalidData(file: path, problem: "no samples are left after --skip/--limit (it holds \(total)); expected at least one")
        }
        try checkNormalization(normalization, channels: source.sampleShape.first ?? 1, arguments)
        if !arguments.has("--allow-nonfinite") { try checkFinite(source, file: path, isCancelled: session.isCancelled) }
        var labelValues: [Int]?
        if let labels {
            guard labels.kind == .integer else {
                throw PTQError.invalidData(file: arguments["--labels"] ?? path, problem: "labels must be integers; got floats")
            }
            guard labels.count == source.count else {
                throw PTQError.invalidData(file: arguments["--labels"] ?? path, problem: "\(labels.count) labels for \(source.count) samples")
            }
            labelValues = labels.integers.map { Int($0) }
        }
        return AttachedData(path: path, source: source, labels: labelValues, purpose: purpose)
    }

    /// Refuses NaN and infinity, reading the samples a batch at a time.
    static func checkFinite(_ source: SampleSource, file: String, isCancelled: (() -> Bool)? = nil) throws {
        let perSample = max(1, source.sampleShape.reduce(1, *))
        var count = 0, first: Int?
        try Batching.forEachBatch(source, batchSize: max(1, (16 << 20) / (perSample * 4)), isCancelled: isCancelled) { range, batch in
            for (index, value) in batch.floats.enumerated() where !value.isFinite {
                count += 1
                if first == nil { first = range.lowerBound * perSample + index }
            }
        }
        if let first {
            throw PTQError.invalidData(file: file, problem:
                "\(count) value\(count == 1 ? " is" : "s are") NaN or infinite (the first at flat index \(first), sample \(first / perSample)); expected finite numbers, or pass --allow-nonfinite")
        }
    }

    /// --scale, --mean and --std as given (checked against the channel count once it is known).
    static func normalization(_ arguments: Arguments, channels: Int?) throws -> SampleNormalization {
        var result = SampleNormalization()
        if let scale = try arguments.number("--scale", command: "data") { result.scale = Float(scale) }
        for option in ["--mean", "--std"] {
            guard let text = arguments[option] else { continue }
            let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw ShellError.badValue(command: "data", option: option, value: text, expected: "1 or \(channels.map(String.init) ?? "C") comma-separated numbers")
            }
            let numbers = parts.map { $0! }
            if option == "--std", numbers.contains(where: { $0 == 0 || !$0.isFinite }) {
                throw ShellError.badValue(command: "data", option: option, value: text, expected: "non-zero finite numbers")
            }
            if option == "--mean" { result.mean = numbers } else { result.std = numbers }
        }
        return result
    }

    static func checkNormalization(_ normalization: SampleNormalization, channels: Int, _ arguments: Arguments) throws {
        for (option, values) in [("--mean", normalization.mean), ("--std", normalization.std)] {
            if let values, values.count != 1 && values.count != channels {
                throw ShellError.badValue(command: "data", option: option, value: arguments[option] ?? "", expected: "1 or \(channels) comma-separated numbers")
            }
        }
    }

    /// Samples must be N × (the model input's shape without its batch axis).
    static func checkShape(_ sampleShape: [Int], count: Int, graph: Graph, file: String) throws {
        guard let input = graph.dataInputs.first else { return }
        let expected = Array(input.shape.dropFirst())
        let fits = sampleShape.count + 1 == input.shape.count && zip(expected, sampleShape).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
        if !fits {
            let wanted = "[N, " + expected.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
            throw PTQError.invalidData(file: file, problem: "samples have shape \(describeShape([count] + sampleShape)); model input '\(input.name)' expects \(wanted)")
        }
    }
}
