/// What a technique did: the layers it changed (with the numbers a user wants) and every candidate
/// it skipped, with the reason.
public struct TechniqueReport: Sendable, Equatable {
    public var technique: String
    public var changed: [String] = []
    /// Candidates the technique looked at and left as they were (or moved only by float noise), with why.
    public var unchanged: [String] = []
    public var skipped: [String] = []
    public var notes: [String] = []

    public init(technique: String) { self.technique = technique }

    public var text: String {
        let unchangedCount = unchanged.isEmpty ? "" : "\(unchanged.count) unchanged, "
        var lines = ["\(technique): \(changed.count) changed, \(unchangedCount)\(skipped.count) skipped"]
        lines += changed.map { "  changed  \($0)" }
        lines += unchanged.map { "  unchanged  \($0)" }
        lines += skipped.map { "  skipped  \($0)" }
        lines += notes.map { "  \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Options a technique accepts, parsed by the shell.
public struct TechniqueOptions: Sendable {
    public var flags: Set<String> = []
    public var values: [String: String] = [:]
    /// Calibration samples, for techniques that look at data (bias correction).
    public var samples: SampleSource?
    /// The session's quantization configuration (nil: quantization is off; techniques use the defaults).
    public var configuration: QuantizationConfiguration?
    public var isCancelled: (@Sendable () -> Bool)?
    /// Told (label, done, total) as long work advances.
    public var progress: (@Sendable (String, Int, Int) -> Void)?
    public init(flags: Set<String> = [], values: [String: String] = [:], samples: SampleSource? = nil,
                configuration: QuantizationConfiguration? = nil, isCancelled: (@Sendable () -> Bool)? = nil,
                progress: (@Sendable (String, Int, Int) -> Void)? = nil) {
        self.progress = progress
        self.flags = flags
        self.values = values
        self.samples = samples
        self.configuration = configuration
        self.isCancelled = isCancelled
    }
}

/// A graph pass: Graph → (Graph, report). Its `specification` is the doc `help TECHNIQUE` prints.
public protocol Technique: Sendable {
    var name: String { get }
    var summary: String { get }
    var specification: String { get }
    /// Options as (name, value name or nil for a flag, help).
    var options: [(String, String?, String)] { get }
    func apply(_ graph: Graph, options: TechniqueOptions) throws -> (Graph, TechniqueReport)
    /// True for passes that change the model's function (the shell then reports FP32 accuracy before and after).
    var changesFunction: Bool { get }
}

extension Technique {
    public var changesFunction: Bool { false }
}

extension Graph {
    /// Removes initializers no node reads any more (and their graph-input entries).
    public mutating func removeUnusedInitializers() {
        var used = Set<String>(outputs.map(\.name))
        for node in nodes { node.inputs.forEach { used.insert($0) } }
        for name in initializerOrder where !used.contains(name) { removeInitializer(name) }
    }

    /// Removes Constant nodes and initializers that nothing reads any more (after a rewrite dropped their reader).
    public mutating func removeUnreadConstants() {
        let unread = Set(nodes.filter { $0.opType == "Constant" && readerCount(of: $0.outputs[0]) == 0 }.map(\.name))
        nodes.removeAll { unread.contains($0.name) }
        removeUnusedInitializers()
    }

    /// Points every reader of `old` (nodes and graph outputs) at `new`.
    public mutating func rename(tensor old: String, to new: String) {
        for index in nodes.indices {
            nodes[index].inputs = nodes[index].inputs.map { $0 == old ? new : $0 }
        }
        for index in outputs.indices where outputs[index].name == old { outputs[index].name = new }
    }

    /// The values of the graph's Constant nodes, by output name.
    public func constantNodeValues() throws -> [String: Tensor] {
        var constants: [String: Tensor] = [:]
        for node in nodes where node.opType == "Constant" { constants[node.outputs[0]] = try ShapeOperators.constant(node) }
        return constants
    }

    /// How many nodes read an initializer.
    public func readers(ofInitializer name: String) -> Int {
        nodes.reduce(0) { $0 + $1.inputs.filter { $0 == name }.count }
    }
}
