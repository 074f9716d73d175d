import ONNXProto

/// Inlines model-local functions (ModelProto.functions): a node whose domain, op type (and
/// overload) name a function of the model becomes the function's body. Exporters write them for
/// modules kept whole (torch's dynamo exporter, for one); ptq's operators and techniques see only
/// the standard ops inside.
///
/// The function's formal inputs and outputs become the call's actual tensors (an omitted optional
/// input stays omitted); every tensor internal to the body gets a name unique to the call
/// ("call/name"), so two calls never collide; a body attribute that refers to one of the call's
/// (ref_attr_name) takes the call's value, or the function's default, and is dropped when neither
/// exists. Calls inside bodies inline too, up to `maximumDepth` levels, so a recursive function is
/// an error rather than a hang.
enum FunctionInlining {
    static let maximumDepth = 32

    /// The model's graph nodes with every call of a local function replaced by its body, and how many calls there were.
    static func inline(_ model: Onnx_ModelProto) throws -> (nodes: [Onnx_NodeProto], calls: Int) {
        guard !model.functions.isEmpty else { return (model.graph.node, 0) }
        var functions: [String: Onnx_FunctionProto] = [:]
        for function in model.functions { functions[key(function.domain, function.name, function.overload)] = function }
        var nodes = model.graph.node
        var calls = 0
        var taken = Set(nodes.flatMap { $0.input + $0.output } + model.graph.input.map(\.name) + model.graph.initializer.map(\.name))
        for depth in 0...maximumDepth {
            guard nodes.contains(where: { functions[key($0.domain, $0.opType, $0.overload)] != nil }) else { return (nodes, calls) }
            guard depth < maximumDepth else {
                throw PTQError.invalidModel("model-local functions call each other more than \(maximumDepth) levels deep (a recursive function?)")
            }
            var expanded: [Onnx_NodeProto] = []
            for (index, node) in nodes.enumerated() {
                guard let function = functions[key(node.domain, node.opType, node.overload)] else {
                    expanded.append(node)
                    continue
                }
                calls += 1
                expanded += try body(of: function, call: node, prefix: node.name.isEmpty ? "\(node.opType)_\(index)" : node.name, taken: &taken)
            }
            nodes = expanded
        }
        return (nodes, calls)
    }

    static func key(_ domain: String, _ name: String, _ overload: String) -> String { "\(domain)\u{0}\(name)\u{0}\(overload)" }

    static func body(of function: Onnx_FunctionProto, call: Onnx_NodeProto, prefix: String,
                     taken: inout Set<String>) throws -> [Onnx_NodeProto] {
        guard call.input.count <= function.input.count, call.output.count <= function.output.count else {
            throw PTQError.invalidModel("node '\(call.name)' calls function '\(function.name)' with \(call.input.count) inputs and \(call.output.count) outputs; it takes \(function.input.count) and gives \(function.output.count)")
        }
        var renamed: [String: String] = ["": ""]
        for (index, formal) in function.input.enumerated() { renamed[formal] = index < call.input.count ? call.input[index] : "" }
        for (index, formal) in function.output.enumerated() where index < call.output.count { renamed[formal] = call.output[index] }
        func rename(_ name: String) -> String {
            if let actual = renamed[name] { return actual }
            var unique = "\(prefix)/\(name)"
            while taken.contains(unique) { unique += "_" }
            taken.insert(unique)
            renamed[name] = unique
            return unique
        }
        var callAttributes: [String: Onnx_AttributeProto] = [:]
        for attribute in function.attributeProto { callAttributes[attribute.name] = attribute }
        for attribute in call.attribute { callAttributes[attribute.name] = attribute }
        return function.node.enumerated().map { index, original in
            var node = original
            node.input = original.input.map(rename)
            node.output = original.output.map(rename)
            node.name = "\(prefix)/\(original.name.isEmpty ? "\(original.opType)_\(index)" : original.name)"
            node.attribute = original.attribute.compactMap { attribute in
                guard !attribute.refAttrName.isEmpty else { return attribute }
                guard var value = callAttributes[attribute.refAttrName] else { return nil }
                value.name = attribute.name
                return value
            }
            return node
        }
    }
}
