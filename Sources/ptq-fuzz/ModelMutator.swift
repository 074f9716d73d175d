import Foundation
import ONNXProto

/// Structural mutations of a valid ModelProto, one field each: what a broken exporter, a truncated
/// download or a hand-edited model gives ptq. Returns the mutated model and a one-line description
/// (kept beside every failing case).
enum ModelMutator {
    static let attributeNames = ["kernel_shape", "strides", "pads", "dilations", "group", "axis", "axes", "perm",
                                 "transA", "transB", "alpha", "beta", "epsilon", "auto_pad", "ceil_mode",
                                 "count_include_pad", "output_padding", "output_shape", "keepdims", "to", "mode",
                                 "equation", "reduction", "fmod"]
    static let operatorNames = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Relu", "Clip", "BatchNormalization",
                                "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Concat",
                                "Add", "Mul", "Softmax", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Pad",
                                "Gather", "Split", "ReduceMean", "Sigmoid", "HardSigmoid", "Identity", "Resize",
                                "QuantizeLinear", "DequantizeLinear", "Shape", "Cast", "Einsum", "ScatterND", "Mod",
                                "NoSuchOp"]

    static func mutate(_ original: Onnx_ModelProto, random: inout FuzzRandom) -> (Onnx_ModelProto, String) {
        var model = original
        let names = tensorNames(model.graph)
        switch random.below(18) {
        case 16:
            // Integer parameters (reshape targets, axes, split sizes, pads) with hostile values.
            let integers = model.graph.initializer.indices.filter { [6, 7].contains(model.graph.initializer[$0].dataType) }
            guard let i = integers.isEmpty ? nil : random.pick(integers) else { break }
            var tensor = model.graph.initializer[i]
            let value = Int64(random.interestingInteger(near: 2))
            if tensor.dataType == 7, tensor.rawData.count >= 8 {
                var bytes = value
                let offset = 8 * random.below(tensor.rawData.count / 8)
                withUnsafeBytes(of: &bytes) { for k in 0..<8 { tensor.rawData[tensor.rawData.startIndex + offset + k] = $0[k] } }
            } else if !tensor.int64Data.isEmpty {
                tensor.int64Data[random.below(tensor.int64Data.count)] = value
            } else { break }
            model.graph.initializer[i] = tensor
            return (model, "integer initializer '\(tensor.name)' value -> \(value)")
        case 17:
            if random.chance(30) {
                model.graph.output = []
                return (model, "graph outputs removed")
            }
            let n = random.below(model.graph.node.count)
            let name = random.chance(50) ? "" : model.graph.node[random.below(model.graph.node.count)].name
            model.graph.node[n].name = name
            return (model, "node \(n) renamed '\(name)'")
        case 0, 1:
            guard !model.graph.initializer.isEmpty else { break }
            let i = random.below(model.graph.initializer.count)
            var tensor = model.graph.initializer[i]
            if tensor.dims.isEmpty || random.chance(20) {
                tensor.dims.insert(Int64(random.interestingInteger()), at: random.below(tensor.dims.count + 1))
            } else {
                let d = random.below(tensor.dims.count)
                tensor.dims[d] = Int64(random.interestingInteger(near: Int(tensor.dims[d])))
            }
            model.graph.initializer[i] = tensor
            return (model, "initializer '\(tensor.name)' dims -> \(tensor.dims)")
        case 2:
            guard !model.graph.initializer.isEmpty else { break }
            let i = random.below(model.graph.initializer.count)
            let type = Int32(random.pick([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13, 16, 17, 40, -1]))
            model.graph.initializer[i].dataType = type
            return (model, "initializer '\(model.graph.initializer[i].name)' data_type -> \(type)")
        case 3:
            guard !model.graph.initializer.isEmpty else { break }
            let i = random.below(model.graph.initializer.count)
            var tensor = model.graph.initializer[i]
            if tensor.rawData.isEmpty { tensor.floatData.append(1) } else if random.chance(50) {
                tensor.rawData = tensor.rawData.prefix(random.below(tensor.rawData.count))
            } else {
                tensor.rawData.append(contentsOf: [UInt8](repeating: 7, count: 1 + random.below(8)))
            }
            model.graph.initializer[i] = tensor
            return (model, "initializer '\(tensor.name)' data length changed")
        case 4:
            guard !model.graph.initializer.isEmpty else { break }
            let i = random.below(model.graph.initializer.count)
            var tensor = model.graph.initializer[i]
            guard tensor.dataType == 1, tensor.rawData.count >= 4 else { break }
            var value = random.interestingFloat()
            let offset = 4 * random.below(tensor.rawData.count / 4)
            withUnsafeBytes(of: &value) { bytes in
                for k in 0..<4 { tensor.rawData[tensor.rawData.startIndex + offset + k] = bytes[k] }
            }
            model.graph.initializer[i] = tensor
            return (model, "initializer '\(tensor.name)' value at byte \(offset) -> \(value)")
        case 5, 6, 7:
            let n = random.below(model.graph.node.count)
            var node = model.graph.node[n]
            let description = mutateAttribute(&node, random: &random)
            model.graph.node[n] = node
            return (model, "node '\(node.name)': \(description)")
        case 8, 9:
            let n = random.below(model.graph.node.count)
            var node = model.graph.node[n]
            let target = random.pick(names + ["", "missing_tensor"])
            if random.chance(70), !node.input.isEmpty {
                let slot = random.below(node.input.count)
                node.input[slot] = target
                model.graph.node[n] = node
                return (model, "node '\(node.name)' input \(slot) -> '\(target)'")
            } else if random.chance(50), !node.output.isEmpty {
                node.output[0] = target
                model.graph.node[n] = node
                return (model, "node '\(node.name)' output 0 -> '\(target)'")
            } else if random.chance(50) {
                node.input.append(target)
                model.graph.node[n] = node
                return (model, "node '\(node.name)' extra input '\(target)'")
            } else if !node.input.isEmpty {
                node.input.removeLast()
                model.graph.node[n] = node
                return (model, "node '\(node.name)' last input dropped")
            }
        case 10:
            let version = Int64(random.pick([0, 1, 5, 6, 7, 9, 10, 11, 12, 13, 17, 18, 21, 22, 99, -3]))
            if model.opsetImport.isEmpty { break }
            model.opsetImport[0].version = version
            return (model, "opset -> \(version)")
        case 11:
            guard !model.graph.input.isEmpty else { break }
            var input = model.graph.input[0]
            var dims = input.type.tensorType.shape.dim
            if dims.isEmpty || random.chance(25) {
                if random.chance(50), !dims.isEmpty { dims.removeLast() } else { dims.append(Onnx_TensorShapeProto.Dimension()) }
            } else {
                let d = random.below(dims.count)
                if random.chance(20) { dims[d].dimParam = "symbolic" } else { dims[d].dimValue = Int64(random.interestingInteger(near: 4)) }
            }
            input.type.tensorType.shape.dim = dims
            if random.chance(20) { input.type.tensorType.elemType = Int32(random.pick([0, 2, 7, 11, 10])) }
            model.graph.input[0] = input
            return (model, "graph input shape/type changed")
        case 12:
            guard !model.graph.output.isEmpty else { break }
            let target = random.pick(names + ["nobody_makes_this"])
            if random.chance(70) { model.graph.output[0].name = target } else { model.graph.output.append(model.graph.output[0]) }
            return (model, "graph output -> '\(target)'")
        case 13:
            let n = random.below(model.graph.node.count)
            let op = random.pick(operatorNames)
            model.graph.node[n].opType = op
            return (model, "node \(n) op -> \(op)")
        case 14:
            let n = random.below(model.graph.node.count)
            if random.chance(50) {
                model.graph.node.remove(at: n)
                return (model, "node \(n) removed")
            }
            model.graph.node.insert(model.graph.node[n], at: random.below(model.graph.node.count))
            return (model, "node \(n) duplicated")
        default:
            if random.chance(50), !model.graph.initializer.isEmpty {
                let i = random.below(model.graph.initializer.count)
                let j = random.below(model.graph.initializer.count)
                model.graph.initializer[i].name = model.graph.initializer[j].name
                return (model, "initializer \(i) renamed to a duplicate '\(model.graph.initializer[j].name)'")
            }
            let n = random.below(model.graph.node.count)
            model.graph.node[n].domain = random.pick(["com.microsoft", "ai.onnx", "x"])
            return (model, "node \(n) domain changed")
        }
        return (model, "unchanged")
    }

    static func mutateAttribute(_ node: inout Onnx_NodeProto, random: inout FuzzRandom) -> String {
        if node.attribute.isEmpty || random.chance(30) {
            var attribute = Onnx_AttributeProto()
            attribute.name = random.pick(attributeNames)
            switch random.below(4) {
            case 0:
                attribute.type = .int
                attribute.i = Int64(random.interestingInteger())
            case 1:
                attribute.type = .ints
                attribute.ints = (0..<random.below(6)).map { _ in Int64(random.interestingInteger(near: 2)) }
            case 2:
                attribute.type = .string
                attribute.s = Data(random.pick(["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET", "nearest", "bogus", "add", "max",
                                                  "bic,bjc->bij", "...ij,jk", "ii->i", "ab,ab,ab", "a-", "->"]).utf8)
            default:
                attribute.type = .float
                attribute.f = random.interestingFloat()
            }
            node.attribute.removeAll { $0.name == attribute.name }
            node.attribute.append(attribute)
            return "attribute \(attribute.name) set (\(attribute.type))"
        }
        let a = random.below(node.attribute.count)
        var attribute = node.attribute[a]
        switch random.below(5) {
        case 0:
            node.attribute.remove(at: a)
            return "attribute \(attribute.name) removed"
        case 1:
            if !attribute.ints.isEmpty { attribute.ints.removeLast() } else { attribute.ints = [Int64(random.interestingInteger())] }
            attribute.type = .ints
        case 2:
            attribute.ints.append(Int64(random.interestingInteger(near: 2)))
            attribute.type = .ints
        case 3:
            if attribute.ints.isEmpty {
                attribute.i = Int64(random.interestingInteger(near: Int(attribute.i)))
            } else {
                let k = random.below(attribute.ints.count)
                attribute.ints[k] = Int64(random.interestingInteger(near: Int(attribute.ints[k])))
            }
        default:
            attribute.type = random.pick([.int, .ints, .float, .string, .tensor, .undefined])
        }
        node.attribute[a] = attribute
        return "attribute \(attribute.name) -> \(attribute.type) i=\(attribute.i) ints=\(attribute.ints)"
    }

    static func tensorNames(_ graph: Onnx_GraphProto) -> [String] {
        var names = graph.input.map(\.name) + graph.initializer.map(\.name)
        for node in graph.node { names += node.output }
        return names
    }
}
