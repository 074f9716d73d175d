/// The spatial attributes of a Conv, ConvTranspose, MaxPool or AveragePool over 1, 2 or 3 spatial
/// axes, read and checked in one place: load-time validation and the operators both build this, so
/// a kernel never sees a short `pads` list, a zero stride or a negative kernel size.
///
/// ONNX's rules: kernel_shape, strides, dilations and output_padding hold one value per spatial
/// axis, pads two (begin values, then end values);
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

    /// The number of spatial axes.
    let rank: Int

    /// The spatial ranks ptq runs: 1-D (audio), 2-D (images) and 3-D (video, volumes).
    static let ranks = 1...3

    /// Reads the attributes for `rank` spatial axes (the input's rank minus 2), or, at load time
    /// when the input's rank is not known yet, for as many axes as the lists give (2 if none does).
    init(_ node: Node, rank given: Int? = nil) throws {
        let rank = try given ?? Self.declaredRank(node)
        guard Self.ranks.contains(rank) else {
            throw OperatorSupport.fail(node, "has \(rank) spatial axes; ptq runs \(node.opType) over 1, 2 or 3")
        }
        self.rank = rank
        kernel = try Self.list(node, "kernel_shape", count: rank, minimum: 1)
        strides = try Self.list(node, "strides", count: rank, minimum: 1) ?? Array(repeating: 1, count: rank)
        dilations = try Self.list(node, "dilations", count: rank, minimum: 1) ?? Array(repeating: 1, count: rank)
        pads = try Self.list(node, "pads", count: 2 * rank, minimum: 0) ?? Array(repeating: 0, count: 2 * rank)
        outputPadding = try Self.list(node, "output_padding", count: rank, minimum: 0) ?? Array(repeating: 0, count: rank)
        autoPad = try AttributeReading.string(node, "auto_pad") ?? "NOTSET"
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw AttributeReading.fail(node, "auto_pad", "is '\(autoPad)'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        }
        group = try AttributeReading.int(node, "group") ?? 1
        guard (1...TensorLimits.maximumExtent).contains(group) else {
            throw AttributeReading.fail(node, "group", "is \(group); expected at least 1")
        }
        if node.opType == "ConvTranspose" {
            for axis in 0..<rank where outputPadding[axis] >= max(strides[axis], dilations[axis]) {
                throw AttributeReading.fail(node, "output_padding",
                    "is \(outputPadding); each value must be below its stride or dilation (\(strides), \(dilations))")
            }
        }
    }

    /// The spatial rank the first list attribute present implies; the others must agree (`list`).
    static func declaredRank(_ node: Node) throws -> Int {
        for key in ["kernel_shape", "strides", "dilations", "output_padding"] {
            if let values = try AttributeReading.ints(node, key) { return values.count }
        }
        if let pads = try AttributeReading.ints(node, "pads") { return pads.count / 2 }
        return 2
    }

    /// Explicit begin and end pads for every axis: auto_pad resolved against the input's spatial
    /// sizes and the effective kernel extents, ONNX's SAME rule: output = ⌈input / stride⌉, the
    /// padding total split in half, the odd one at the end (SAME_UPPER) or the beginning (SAME_LOWER).
    func resolvedPads(sizes: [Int], kernel: [Int]) -> [Int] {
        switch autoPad {
        case "VALID":
            return Array(repeating: 0, count: 2 * rank)
        case "SAME_UPPER", "SAME_LOWER":
            var resolved = Array(repeating: 0, count: 2 * rank)
            for axis in 0..<rank {
                let output = (sizes[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (output - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - sizes[axis])
                resolved[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                resolved[axis + rank] = total - resolved[axis]
            }
            return resolved
        default:
            return pads
        }
    }

    /// A list attribute of `count` values in minimum...maximumExtent, or nil when absent.
    static func list(_ node: Node, _ key: String, count: Int, minimum: Int) throws -> [Int]? {
        guard let values = try AttributeReading.ints(node, key) else { return nil }
        guard values.count == count else {
            throw AttributeReading.fail(node, key,
                "has \(values.count) values \(values); expected \(count), one per spatial axis\(key == "pads" ? " at the beginning and one at the end" : "")")
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
