/// How activations are calibrated.
public enum CalibrationScheme: Sendable, Equatable, CustomStringConvertible {
    /// Observed min and max (AIMET "tf").
    case minmax
    /// The range between the (100 − P)th and Pth percentiles of the observed values.
    case percentile(Double)
    /// AIMET "tf_enhanced": the grid minimizing rounding plus 3× clipping noise over a histogram.
    case sqnr

    public var description: String {
        switch self {
        case .minmax: return "minmax"
        case .percentile(let value): return "percentile:\(value)"
        case .sqnr: return "sqnr"
        }
    }
}

/// A quantization-simulation configuration. The defaults are ptq's: 8/8 bits, symmetric weights,
/// asymmetric activations, per-tensor, min-max calibration, biases not quantized, model input quantized.
public struct QuantizationConfiguration: Sendable, Equatable {
    public var weightBits = 8
    public var activationBits = 8
    public var perChannel = false
    public var weightSymmetric = true
    public var activationSymmetric = false
    public var strictSymmetric = false
    public var scheme = CalibrationScheme.minmax
    public var excludedLayers: [String] = []
    public var quantizeInput = true
    public var samples = 512
    /// Per-layer bit widths (mixed precision), by layer name: the layer's weight and the activation quantizer at its
    /// group's output. Layers left in float are in `excludedLayers`.
    public var layerPrecisions: [String: LayerPrecision] = [:]
    /// The layers mixed precision left in float (also in `excludedLayers`), so a new search can tell them from the
    /// user's own exclusions.
    public var mixedPrecisionFloat: [String] = []

    public init() {}

    public var summary: String {
        "W\(weightBits)A\(activationBits), \(perChannel ? "per-channel" : "per-tensor") weights (\(weightSymmetric ? "symmetric" : "asymmetric")), "
            + "\(activationSymmetric ? "symmetric" : "asymmetric") activations, \(scheme)"
            + (strictSymmetric ? ", strict symmetric" : "")
            + (layerPrecisions.isEmpty ? "" : ", mixed precision in \(layerPrecisions.count) layers")
            + (excludedLayers.isEmpty ? "" : layerPrecisions.isEmpty ? ", excluding \(excludedLayers.joined(separator: ", "))"
                : ", \(excludedLayers.count) layers in float")
    }

    /// The weight bits of layer `name`.
    public func weightBits(of name: String) -> Int { layerPrecisions[name]?.weightBits ?? weightBits }
}

/// A layer's weight and activation bit widths under mixed precision.
public struct LayerPrecision: Sendable, Equatable {
    public var weightBits: Int, activationBits: Int
    public init(weightBits: Int, activationBits: Int) {
        self.weightBits = weightBits
        self.activationBits = activationBits
    }
}
