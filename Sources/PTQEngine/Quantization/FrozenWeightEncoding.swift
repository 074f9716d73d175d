/// A weight's encodings fixed by a technique that chose the weight's grid points itself (AdaRound): calibration keeps
/// them instead of computing new ones from the weight's range, and export writes them, as AIMET's
/// `set_and_freeze_param_encodings` does. Kept in the graph, so checkpoints, `restore` and `undo` carry them with the
/// weights they belong to.
public struct FrozenWeightEncoding: Sendable, Equatable {
    /// One encoding, or one per output channel along `axis`.
    public var encodings: [Encoding]
    public var axis: Int
    /// The technique that froze them, for messages.
    public var technique: String
    /// The weight values the encodings were frozen for: a pass that changes them makes the encodings stale.
    public var weight: Tensor

    public init(encodings: [Encoding], axis: Int, technique: String, weight: Tensor) {
        self.encodings = encodings
        self.axis = axis
        self.technique = technique
        self.weight = weight
    }
}

extension Graph {
    /// Drops frozen encodings whose weight no longer holds the values they were frozen for (a later pass rescaled,
    /// folded or removed it) and returns the names of the layers' weights that lost them, sorted.
    public mutating func dropStaleFrozenEncodings() -> [String] {
        let stale = frozenWeightEncodings.keys.filter { name in initializers[name] != frozenWeightEncodings[name]!.weight }.sorted()
        for name in stale { frozenWeightEncodings.removeValue(forKey: name) }
        return stale
    }
}
