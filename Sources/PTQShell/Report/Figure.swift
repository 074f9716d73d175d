import PTQEngine

/// What a chart in a cell's output shows, kept beside its ASCII rendering so `report` can draw it as a plot.
/// The terminal text stays the source of truth (transcripts, goldens); a figure carries the numbers the text
/// was drawn from, never anything the text does not say.
public enum Figure: Sendable, Equatable {
    /// `ranges LAYER [--vs CHECKPOINT] [--sort]`: per-channel [min, max] of one layer.
    case channelRanges(ChannelRangesFigure)
    /// `ranges --all`: every layer's spread (largest / smallest live channel range), shown on a log axis.
    case spreads([LayerSpread])
    /// `ranges --activations`: calibrated [min, max] of each quantized activation.
    case intervals([NamedInterval])
    /// `sqnr`: one value per tensor, as the table lists them.
    case bars(BarsFigure)
    /// `sensitivity`: both views per layer, with the configuration and data it was measured with.
    case sensitivity(LayerSensitivity.Result, sorted: Bool, configuration: String, purpose: String)
    /// `mixed-precision`: every measured configuration's cost and top-1.
    case accuracyVersusCost(AccuracyVersusCostFigure)
    /// `evals`: every `eval` of the session so far.
    case accuracyLadder([EvaluationRecord])
}

public struct ChannelRangesFigure: Sendable, Equatable {
    public var current: RangeStatistics
    public var versus: RangeStatistics?
    public var versusName: String?
    public var sorted: Bool
}

public struct LayerSpread: Sendable, Equatable {
    public var layer: String
    public var spread: Double
    public var outliers: Int, dead: Int
}

public struct NamedInterval: Sendable, Equatable {
    public var name: String
    public var minimum: Double, maximum: Double
    public var detail: String
}

public struct BarsFigure: Sendable, Equatable {
    public var title: String
    public var unit: String
    public var rows: [Row]

    public struct Row: Sendable, Equatable {
        public var label: String
        public var value: Double
        /// What the hover text adds (e.g. the op).
        public var detail: String
    }
}

public struct AccuracyVersusCostFigure: Sendable, Equatable {
    /// Relative cost (1 = W8A8 everywhere) and top-1 as a fraction, in the order measured; `fp32` and `targetDrop`
    /// are fractions too.
    public var points: [MixedPrecision.Point]
    public var chosen: Int?
    public var fp32: Double
    public var targetDrop: Double
}

/// A chart inside a cell's output: the figure, and which bytes (UTF-8 offsets) of the text are its ASCII form.
public struct PlacedFigure: Sendable, Equatable {
    public var figure: Figure
    public var textRange: Range<Int>
}

/// One `eval` of the session, as `evals` lists it and the report's ladder draws it. Accuracies in percent,
/// deltas in points, as `eval` prints them; nil where they do not apply (no labels; SQNR of FP32 against itself).
public struct EvaluationRecord: Sendable, Equatable {
    public var cell: Int
    /// The model file's name: a session may load several.
    public var model: String
    /// The checkpoint the model equals, else the cell whose command last changed it.
    public var state: String
    /// "FP32", or the quantization configuration in short.
    public var quantization: String
    public var reference: String
    public var samples: Int
    public var top1: Double?, top5: Double?, fp32Top1: Double?, deltaTop1: Double?, sqnr: Double?
}
