/// A typed node attribute. Kinds ptq does not interpret (sub-graphs, sparse tensors, type protos)
/// are kept as their serialized ONNX bytes so export writes them back untouched.
public enum Attribute: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    case opaque(serialized: [UInt8])
}

/// One graph node: an op with named inputs and outputs. An empty input name is an omitted optional input.
public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// Unknown NodeProto fields (doc strings, metadata) as serialized bytes, restored on export.
    public var preserved: [UInt8]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:], preserved: [UInt8] = []) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.preserved = preserved
    }

    public func int(_ key: String, default value: Int) -> Int {
        if case .int(let v)? = attributes[key] { return v }
        return value
    }
    public func float(_ key: String, default value: Float) -> Float {
        if case .float(let v)? = attributes[key] { return v }
        return value
    }
    public func ints(_ key: String) -> [Int]? {
        if case .ints(let v)? = attributes[key] { return v }
        return nil
    }
    public func string(_ key: String, default value: String) -> String {
        if case .string(let v)? = attributes[key] { return v }
        return value
    }
}

/// A graph input or output: its name, element type and shape (nil dimension = symbolic or unknown).
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var onnxType: Int
    public var shape: [Int?]
    public var dimensionNames: [String?]
    public init(name: String, onnxType: Int = 1, shape: [Int?], dimensionNames: [String?]? = nil) {
        self.name = name
        self.onnxType = onnxType
        self.shape = shape
        self.dimensionNames = dimensionNames ?? shape.map { _ in nil }
    }
}

/// A value-type computation graph. Passes are functions Graph -> (Graph, report), so every earlier
/// state stays usable for undo, diff and charts.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    /// Initializers by name, and their order in the file, kept so export is stable.
    public var initializers: [String: Tensor]
    public var initializerOrder: [String]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Everything else the ModelProto held (metadata, opsets, value_info, doc strings), as bytes.
    public var modelEnvelope: [UInt8]
    public var opsetVersion: Int
    /// BatchNorm statistics kept by fold-bn, by the layer (node name) they were folded into.
    public var foldedStatistics: [String: BatchNormStatistics]
    /// What load-time preparation did to the exported graph (`GraphPreparation`), for `info`.
    public var preparation: [String] = []
    /// The largest batch the graph runs, when preparation found the export fixed to one sample and
    /// could not release it (`FixedBatchRelease`); nil when any batch runs.
    public var batchLimit: Int? = nil
    /// Weight encodings a technique fixed (AdaRound), by weight initializer name; calibration keeps them.
    public var frozenWeightEncodings: [String: FrozenWeightEncoding] = [:]

    public init(name: String = "graph", nodes: [Node], initializers: [String: Tensor] = [:],
                initializerOrder: [String]? = nil, inputs: [ValueInfo], outputs: [ValueInfo],
                opsetVersion: Int = 13, modelEnvelope: [UInt8] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.initializerOrder = initializerOrder ?? initializers.keys.sorted()
        self.inputs = inputs
        self.outputs = outputs
        self.opsetVersion = opsetVersion
        self.modelEnvelope = modelEnvelope
        self.foldedStatistics = [:]
    }

    /// Graph inputs that are not initializers: what the user feeds.
    public var dataInputs: [ValueInfo] { inputs.filter { initializers[$0.name] == nil } }

    public mutating func setInitializer(_ name: String, _ tensor: Tensor) {
        if initializers[name] == nil { initializerOrder.append(name) }
        initializers[name] = tensor
    }

    public mutating func removeInitializer(_ name: String) {
        guard initializers.removeValue(forKey: name) != nil else { return }
        initializerOrder.removeAll { $0 == name }
        inputs.removeAll { $0.name == name }
    }

    /// The node producing each tensor name.
    public func producers() -> [String: Int] {
        var result: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { result[output] = index }
        }
        return result
    }

    /// The nodes reading each tensor name, in node order.
    public func consumers() -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { result[input, default: []].append(index) }
        }
        return result
    }

    /// How many places read a tensor: nodes (once per input slot) and graph outputs.
    public func readerCount(of tensor: String) -> Int {
        var count = outputs.filter { $0.name == tensor }.count
        for node in nodes { count += node.inputs.filter { $0 == tensor }.count }
        return count
    }

    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }

    /// Nodes reordered so each comes after the producers of its inputs; ties keep file order.
    /// Throws when the graph has a cycle or reads a tensor nobody provides.
    public func topologicallySorted() throws -> Graph {
        var available = Set(initializers.keys).union(inputs.map(\.name))
        available.insert("")
        var remaining = Array(nodes.indices)
        var order: [Int] = []
        while !remaining.isEmpty {
            var progressed = false
            var stillWaiting: [Int] = []
            for index in remaining {
                if nodes[index].inputs.allSatisfy({ available.contains($0) }) {
                    order.append(index)
                    nodes[index].outputs.forEach { available.insert($0) }
                    progressed = true
                } else {
                    stillWaiting.append(index)
                }
            }
            remaining = stillWaiting
            if !progressed {
                let node = nodes[remaining[0]]
                let missing = node.inputs.first { !available.contains($0) } ?? "?"
                throw PTQError.invalidModel(
                    "node '\(node.name)' (\(node.opType)) reads '\(missing)', which no node, initializer or input provides (or the graph has a cycle)")
            }
        }
        var sorted = self
        sorted.nodes = order.map { nodes[$0] }
        return sorted
    }

    /// A name not yet used by any tensor or node, built from `base`.
    public func uniqueName(_ base: String) -> String {
        var used = Set(initializers.keys).union(inputs.map(\.name)).union(outputs.map(\.name))
        for node in nodes {
            used.insert(node.name)
            node.inputs.forEach { used.insert($0) }
            node.outputs.forEach { used.insert($0) }
        }
        if !used.contains(base) { return base }
        var suffix = 1
        while used.contains("\(base)_\(suffix)") { suffix += 1 }
        return "\(base)_\(suffix)"
    }
}

/// BatchNorm statistics of a layer's output channels, as the folded BN described them:
/// the output of the layer after folding is distributed with mean `beta` and std `|gamma|`.
public struct BatchNormStatistics: Sendable, Equatable {
    public var gamma: [Float]
    public var beta: [Float]
    public init(gamma: [Float], beta: [Float]) {
        self.gamma = gamma
        self.beta = beta
    }
}
