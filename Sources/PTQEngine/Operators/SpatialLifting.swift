/// Runs a 1-D Conv, ConvTranspose, MaxPool or AveragePool (N×C×L, audio and sequence CNNs) as the
/// 2-D operator over N×C×1×L, then drops the unit axis.
///
/// Exact, not an approximation: every attribute gains a leading axis that does nothing (kernel 1,
/// stride 1, dilation 1, no padding, no output padding), and over a height of 1 a SAME auto_pad
/// pads nothing there either, so each output value sums or compares the same inputs in the same
/// order as a 1-D kernel would. The weights of Conv and ConvTranspose (M×C×k, C×M×k) gain the same
/// unit axis.
enum SpatialLifting {
    static func run1D(_ node: Node, _ inputs: [Tensor?], liftWeight: Bool,
                      _ body: (Node, [Tensor?]) throws -> Tensor) throws -> Tensor {
        _ = try SpatialAttributes(node, rank: 1)  // every list has one value per axis before it gains one
        var lifted = node
        for key in ["kernel_shape", "strides", "dilations", "output_padding", "output_shape"] {
            if let values = try AttributeReading.ints(node, key) {
                let unit = key == "output_padding" ? 0 : 1
                lifted.attributes[key] = .ints([unit] + values.suffix(1))
            }
        }
        if let pads = try AttributeReading.ints(node, "pads") {
            lifted.attributes["pads"] = .ints([0, pads[0], 0, pads[1]])
        }
        var liftedInputs = inputs
        liftedInputs[0] = inputs[0].map(addUnitAxis)
        if liftWeight, inputs.count > 1, let weight = inputs[1] {
            guard weight.rank == 3 else {
                throw OperatorSupport.fail(node, "a 1-D \(node.opType) needs a 3-D weight; got \(describeShape(weight.shape))")
            }
            liftedInputs[1] = addUnitAxis(weight)
        }
        let output = try body(lifted, liftedInputs)
        return output.reshaped([output.shape[0], output.shape[1]] + output.shape.dropFirst(3))
    }

    /// A × B × L → A × B × 1 × L.
    static func addUnitAxis(_ tensor: Tensor) -> Tensor {
        guard tensor.rank == 3 else { return tensor }
        return tensor.reshaped([tensor.shape[0], tensor.shape[1], 1, tensor.shape[2]])
    }
}
