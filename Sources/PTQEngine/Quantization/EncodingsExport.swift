import Foundation

/// AIMET-style encodings JSON for a calibrated simulation. Names are the ONNX tensor and
/// initializer names (a layer that absorbed a BatchNorm keeps its own output name).
/// - 0.6.1: {version, activation_encodings: {tensor: [enc]}, param_encodings: {initializer: [enc, one per
///   channel when per-channel]}, excluded_layers, quantizer_args}; enc = {bitwidth, dtype "int",
///   is_symmetric "True"/"False" (strings), min, max (the grid ends), scale, offset (an integer)}.
/// - 1.0.0: lists of {name, dtype "INT", enc_type PER_TENSOR|PER_CHANNEL, bw, is_sym (boolean),
///   scale: [...], offset: [...]}, no min/max.
public enum EncodingsExport {
    public static let versions = ["0.6.1", "1.0.0"]

    public static func json(_ state: QuantizationState, version: String) throws -> Data {
        let configuration = state.configuration
        let scheme: String
        switch configuration.scheme {
        case .minmax: scheme = "post_training_tf"
        case .sqnr: scheme = "post_training_tf_enhanced"
        case .percentile: scheme = "post_training_percentile"
        }
        let arguments: [String: Any] = [
            "activation_bitwidth": configuration.activationBits, "dtype": "int", "is_symmetric": configuration.weightSymmetric,
            "param_bitwidth": configuration.weightBits, "per_channel_quantization": configuration.perChannel, "quant_scheme": scheme,
        ]
        var object: [String: Any] = ["version": version, "excluded_layers": configuration.excludedLayers, "quantizer_args": arguments]
        let parameters = state.weightEncodings.keys.sorted()
        if version == "0.6.1" {
            object["activation_encodings"] = Dictionary(uniqueKeysWithValues: state.activationOrder.map { ($0, [legacy(state.activationEncodings[$0]!)]) })
            object["param_encodings"] = Dictionary(uniqueKeysWithValues: parameters.map { ($0, state.weightEncodings[$0]!.map(legacy)) })
        } else if version == "1.0.0" {
            object["activation_encodings"] = state.activationOrder.map { current(name: $0, [state.activationEncodings[$0]!]) }
            object["param_encodings"] = parameters.map { current(name: $0, state.weightEncodings[$0]!) }
        } else {
            throw PTQError.invalidModel("encoding version '\(version)' is not supported; expected \(versions.joined(separator: " or "))")
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    static func legacy(_ encoding: Encoding) -> [String: Any] {
        ["bitwidth": encoding.bitwidth, "dtype": "int", "is_symmetric": encoding.isSymmetric ? "True" : "False",
         "min": Double(encoding.minimum), "max": Double(encoding.maximum), "scale": Double(encoding.scale), "offset": encoding.offset]
    }

    static func current(name: String, _ encodings: [Encoding]) -> [String: Any] {
        ["name": name, "dtype": "INT", "enc_type": encodings.count == 1 ? "PER_TENSOR" : "PER_CHANNEL", "bw": encodings[0].bitwidth,
         "is_sym": encodings[0].isSymmetric, "scale": encodings.map { Double($0.scale) }, "offset": encodings.map { $0.offset }]
    }
}
