/// What each operator ptq runs accepts, from the ONNX operator specs: how many inputs and outputs,
/// and the type of each attribute it reads. `GraphValidation` checks every node against its entry
/// at load; the operators check shapes when they run (the load's dry run reaches all of them).
struct OperatorContract {
    var inputs: ClosedRange<Int>
    var outputs: ClosedRange<Int> = 1...1
    var ints: [String] = []
    var lists: [String] = []
    var floats: [String] = []
    var strings: [String] = []
    /// Conv, ConvTranspose and the windowed pools: `SpatialAttributes` checks the rest.
    var spatial = false
    /// Int attributes that are flags: 0 or 1.
    var flags: [String] = []
    /// Inputs the kernel reads as float data: an integer tensor there (a weight stored as int32, a
    /// shape fed to a Conv) is refused when the node runs, since its float storage is empty.
    var floatInputs: [Int] = []

    static let unbounded = Int.max

    static let table: [String: OperatorContract] = {
        var table: [String: OperatorContract] = [:]
        for op in ["Relu", "Sigmoid", "HardSwish", "Identity", "GlobalAveragePool", "GlobalMaxPool"] {
            table[op] = OperatorContract(inputs: 1...1)
        }
        for op in ["Add", "Sub", "Mul", "Div", "MatMul", "PRelu"] { table[op] = OperatorContract(inputs: 2...2) }
        table["Clip"] = OperatorContract(inputs: 1...3, floats: ["min", "max"])
        table["LeakyRelu"] = OperatorContract(inputs: 1...1, floats: ["alpha"])
        table["HardSigmoid"] = OperatorContract(inputs: 1...1, floats: ["alpha", "beta"])
        let convolution = ["kernel_shape", "strides", "dilations", "pads"]
        table["Conv"] = OperatorContract(inputs: 2...3, ints: ["group"], lists: convolution, strings: ["auto_pad"], spatial: true)
        table["ConvTranspose"] = OperatorContract(
            inputs: 2...3, ints: ["group"], lists: convolution + ["output_padding", "output_shape"],
            strings: ["auto_pad"], spatial: true)
        table["MaxPool"] = OperatorContract(
            inputs: 1...1, outputs: 1...2, ints: ["ceil_mode", "storage_order"], lists: convolution,
            strings: ["auto_pad"], spatial: true, flags: ["ceil_mode", "storage_order"])
        table["AveragePool"] = OperatorContract(
            inputs: 1...1, ints: ["ceil_mode", "count_include_pad"], lists: convolution, strings: ["auto_pad"],
            spatial: true, flags: ["ceil_mode", "count_include_pad"])
        table["Gather"] = OperatorContract(inputs: 2...2, ints: ["axis"])
        table["Slice"] = OperatorContract(inputs: 1...5, lists: ["starts", "ends", "axes"])
        table["Pad"] = OperatorContract(inputs: 1...4, lists: ["pads"], floats: ["value"], strings: ["mode"])
        table["ReduceMean"] = OperatorContract(
            inputs: 1...2, ints: ["keepdims", "noop_with_empty_axes"], lists: ["axes"],
            flags: ["keepdims", "noop_with_empty_axes"])
        table["Gemm"] = OperatorContract(
            inputs: 2...3, ints: ["transA", "transB"], floats: ["alpha", "beta"], flags: ["transA", "transB"])
        table["BatchNormalization"] = OperatorContract(
            inputs: 5...5, outputs: 1...5, ints: ["training_mode", "spatial"], floats: ["epsilon", "momentum"])
        table["Softmax"] = OperatorContract(inputs: 1...1, ints: ["axis"])
        table["QuantizeLinear"] = OperatorContract(inputs: 2...3, ints: ["axis", "saturate", "block_size"])
        table["DequantizeLinear"] = OperatorContract(inputs: 2...3, ints: ["axis", "block_size"])
        table["Dropout"] = OperatorContract(inputs: 1...3, outputs: 1...2, ints: ["seed"], floats: ["ratio"])
        table["Reshape"] = OperatorContract(inputs: 2...2, ints: ["allowzero"], flags: ["allowzero"])
        table["Flatten"] = OperatorContract(inputs: 1...1, ints: ["axis"])
        table["Squeeze"] = OperatorContract(inputs: 1...2, lists: ["axes"])
        table["Unsqueeze"] = OperatorContract(inputs: 1...2, lists: ["axes"])
        table["Transpose"] = OperatorContract(inputs: 1...1, lists: ["perm"])
        table["Concat"] = OperatorContract(inputs: 1...unbounded, ints: ["axis"])
        table["Split"] = OperatorContract(inputs: 1...2, outputs: 1...unbounded, ints: ["axis", "num_outputs"], lists: ["split"])
        table["Shape"] = OperatorContract(inputs: 1...1, ints: ["start", "end"])
        table["Constant"] = OperatorContract(inputs: 0...0, ints: ["value_int"], lists: ["value_ints"], floats: ["value_float"])
        table["Cast"] = OperatorContract(inputs: 1...1, ints: ["to", "saturate"])
        for op in ["Tanh", "Exp", "Log", "Sqrt", "Erf", "Reciprocal", "Floor", "Ceil", "Round", "Softplus", "Softsign",
                   "Neg", "Abs", "Sign", "Not"] {
            table[op] = OperatorContract(inputs: 1...1)
        }
        table["Elu"] = OperatorContract(inputs: 1...1, floats: ["alpha"])
        table["Selu"] = OperatorContract(inputs: 1...1, floats: ["alpha", "gamma"])
        table["Gelu"] = OperatorContract(inputs: 1...1, strings: ["approximate"])
        table["Shrink"] = OperatorContract(inputs: 1...1, floats: ["bias", "lambd"])
        for op in ["Pow", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"] { table[op] = OperatorContract(inputs: 2...2) }
        for op in ["Min", "Max", "Sum", "Mean"] { table[op] = OperatorContract(inputs: 1...unbounded) }
        table["Where"] = OperatorContract(inputs: 3...3)
        for op in ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"] {
            table[op] = table["ReduceMean"]
        }
        table["LogSoftmax"] = OperatorContract(inputs: 1...1, ints: ["axis"])
        table["LayerNormalization"] = OperatorContract(inputs: 2...3, outputs: 1...3, ints: ["axis", "stash_type"], floats: ["epsilon"])
        table["InstanceNormalization"] = OperatorContract(inputs: 3...3, floats: ["epsilon"])
        table["Resize"] = OperatorContract(inputs: 1...4, lists: ["axes"], floats: ["cubic_coeff_a", "extrapolation_value"],
            strings: ["mode", "coordinate_transformation_mode", "nearest_mode", "keep_aspect_ratio_policy"],
            flags: ["antialias", "exclude_outside"])
        table["Upsample"] = OperatorContract(inputs: 1...2, strings: ["mode"])
        table["LRN"] = OperatorContract(inputs: 1...1, ints: ["size"], floats: ["alpha", "beta", "bias"])
        table["ConstantOfShape"] = OperatorContract(inputs: 1...1)
        table["Range"] = OperatorContract(inputs: 3...3)
        table["Expand"] = OperatorContract(inputs: 2...2)
        table["Tile"] = OperatorContract(inputs: 2...2)
        table["Mod"] = OperatorContract(inputs: 2...2, ints: ["fmod"], flags: ["fmod"])
        table["Einsum"] = OperatorContract(inputs: 1...unbounded, strings: ["equation"])
        table["ScatterND"] = OperatorContract(inputs: 3...3, strings: ["reduction"])
        let floatInputs: [String: [Int]] = [
            "Relu": [0], "Sigmoid": [0], "HardSwish": [0], "GlobalAveragePool": [0], "GlobalMaxPool": [0],
            "LeakyRelu": [0], "HardSigmoid": [0], "PRelu": [0, 1], "Conv": [0, 1, 2], "ConvTranspose": [0, 1, 2],
            "MaxPool": [0], "AveragePool": [0], "Gemm": [0, 1, 2], "MatMul": [0, 1], "BatchNormalization": [0, 1, 2, 3, 4],
            "Softmax": [0], "LRN": [0], "Resize": [0], "Upsample": [0], "QuantizeLinear": [0, 1], "DequantizeLinear": [1], "LogSoftmax": [0],
            "LayerNormalization": [0, 1, 2], "InstanceNormalization": [0, 1, 2], "Elu": [0], "Selu": [0], "Gelu": [0],
            "Tanh": [0], "Exp": [0], "Log": [0], "Sqrt": [0], "Erf": [0], "Softplus": [0], "Softsign": [0],
        ]
        for (op, indices) in floatInputs { table[op]?.floatInputs = indices }
        return table
    }()

    /// Throws when an input the kernel reads as floats holds integers.
    static func checkFloatInputs(_ node: Node, _ indices: [Int], _ inputs: [Tensor?]) throws {
        for index in indices where index < inputs.count {
            if let tensor = inputs[index], tensor.kind != .float {
                throw OperatorSupport.fail(node,
                    "input \(index) ('\(node.inputs[index])') holds \(ONNXTensorCoding.typeName(tensor.onnxType)) values; expected float")
            }
        }
    }

    /// Throws naming the node and what it breaks.
    func check(_ node: Node) throws {
        // Trailing empty names are omitted optional inputs; they do not count.
        var inputCount = node.inputs.count
        while inputCount > 0 && node.inputs[inputCount - 1].isEmpty { inputCount -= 1 }
        guard inputs.contains(inputCount) else {
            throw PTQError.invalidModel(
                "node '\(node.name)' (\(node.opType)) has \(inputCount) inputs; expected \(Self.describe(inputs))")
        }
        guard outputs.contains(node.outputs.count), node.outputs.first.map({ !$0.isEmpty }) ?? false else {
            throw PTQError.invalidModel(
                "node '\(node.name)' (\(node.opType)) has \(node.outputs.count) outputs (the first named); expected \(Self.describe(outputs))")
        }
        for key in ints { _ = try AttributeReading.int(node, key) }
        for key in lists { _ = try AttributeReading.ints(node, key) }
        for key in floats { _ = try AttributeReading.float(node, key) }
        for key in strings { _ = try AttributeReading.string(node, key) }
        for key in flags {
            if let value = try AttributeReading.int(node, key), value != 0 && value != 1 {
                throw AttributeReading.fail(node, key, "is \(value); expected 0 or 1")
            }
        }
        if spatial { _ = try SpatialAttributes(node) }
        if node.opType == "Transpose", let perm = try AttributeReading.ints(node, "perm"), perm.sorted() != Array(0..<perm.count) {
            throw AttributeReading.fail(node, "perm", "is \(perm); expected a permutation of 0..<\(perm.count)")
        }
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == unbounded { return "at least \(range.lowerBound)" }
        return range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
    }
}
