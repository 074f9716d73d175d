/// The spatial attributes of a 2-D Conv, ConvTranspose, MaxPool or AveragePool, read and checked in
/// one place: load-time validation and the operators both build this, so a kernel never sees a
/// short `pads` list, a zero stride or a negative kernel size.
///
/// ONNX's rules, restricted to ptq's two spatial axes: kernel_shape, strides, dilations and
/// output_padding hold one value per spatial axis, pads two (begin values, then end values);
/// kernel sizes, strides and dilations are at least 1, pads and output padding at least 0 (and
/// output padding below its stride), group at least 1; auto_pad is NOTSET, SAME_UPPER, SAME_LOWER
/// or VALID. Every value is at most `TensorLimits.maximumExtent`.
struct SpatialAttributes {
    var kernel: [Int]?
    var strides: [Int]
    var dilations: [Int]
    var pads: [Int]
    var outputPadding: [Int]
    var autoPad: String
    var group: Int

    static let rank = 2

    init(_ node: Node) throws {
        kernel = try Self.list(node, "kernel_shape", count: Self.rank, minimum: 1)
        strides = try Self.list(node, "strides", count: Self.rank, minimum: 1) ?? [1, 1]
        dilations = try Self.list(node, "dilations", count: Self.rank, minimum: 1) ?? [1, 1]
        pads = try Self.list(node, "pads", count: 2 * Self.rank, minimum: 0) ?? [0, 0, 0, 0]
        outputPadding = try Self.list(node, "output_padding", count: Self.rank, minimum: 0) ?? [0, 0]
        autoPad = try AttributeReading.string(node, "auto_pad") ?? "NOTSET"
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw AttributeReading.fail(node, "auto_pad", "is '\(autoPad)'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        }
        group = try AttributeReading.int(node, "group") ?? 1
        guard (1...TensorLimits.maximumExtent).contains(group) else {
            throw AttributeReading.fail(node, "group", "is \(group); expected at least 1")
        }
        if node.opType == "ConvTranspose" {
            for axis in 0..<Self.rank where outputPadding[axis] >= max(strides[axis], dilations[axis]) {
                throw AttributeReading.fail(node, "output_padding",
                    "is \(outputPadding); each value must be below its stride or dilation (\(strides), \(dilations))")
            }
        }
    }

    /// A list attribute of `count` values in minimum...maximumExtent, or nil when absent.
    static func list(_ node: Node, _ key: String, count: Int, minimum: Int) throws -> [Int]? {
        guard let values = try AttributeReading.ints(node, key) else { return nil }
        guard values.count == count else {
            throw AttributeReading.fail(node, key,
                "has \(values.count) values \(values); ptq runs 2-D \(node.opType) and expects \(count)")
        }
        if let bad = values.first(where: { $0 < minimum || $0 > TensorLimits.maximumExtent }) {
            throw AttributeReading.fail(node, key,
                "holds \(bad) in \(values); expected values from \(minimum) to \(TensorLimits.maximumExtent)")
        }
        return values
    }

    /// Output size along one axis from explicit pads; throws when the window does not fit.
    static func checkedOutputs(_ node: Node, _ sizes: [Int], outputs: [Int]) throws {
        if let axis = outputs.firstIndex(where: { $0 <= 0 }) {
            throw OperatorSupport.fail(node,
                "the window does not fit the input: spatial size \(sizes) gives output size \(outputs[axis]) on axis \(axis + 2)")
        }
    }
}
