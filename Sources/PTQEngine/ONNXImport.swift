import Foundation
import SwiftProtobuf
import ONNXProto

/// Reads an ONNX ModelProto into a Graph. What ptq does not interpret is kept as serialized bytes
/// (the model envelope, each node's proto, opaque attributes) so that export writes it back.
public enum ONNXImport {
    /// Reads, validates and (unless `prepare` is off) prepares a model: see `GraphPreparation`.
    public static func load(path: String, prepare: Bool = true) throws -> Graph {
        let data = try FileReading.contents(of: path, expected: "an ONNX model (.onnx)")
        var model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw PTQError.invalidData(file: path, problem: "not an ONNX model (protobuf parse failed: \(error))")
        }
        do {
            try ExternalData.resolve(&model, modelPath: path)
        } catch let error as PTQError {
            throw PTQError.invalidData(file: path, problem: error.description)
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw PTQError.invalidData(file: path, problem: "not an ONNX model (no graph or no nodes)")
        }
        let loaded = try graph(from: model, path: path)
        guard prepare else { return loaded }
        do {
            return try GraphPreparation.prepare(loaded)
        } catch let error as PTQError {
            throw PTQError.invalidData(file: path, problem: error.description)
        }
    }

    static func graph(from model: Onnx_ModelProto, path: String) throws -> Graph {
        let source = model.graph
        var initializers: [String: Tensor] = [:]
        var order: [String] = []
        for proto in source.initializer {
            do {
                initializers[proto.name] = try ONNXTensorCoding.decode(proto, context: "initializer")
            } catch let error as PTQError {
                throw PTQError.invalidData(file: path, problem: error.description)
            }
            if order.contains(proto.name) {
                throw PTQError.invalidData(file: path, problem: "invalid model: initializer '\(proto.name)' is defined twice")
            }
            order.append(proto.name)
        }
        let (sourceNodes, calls): ([Onnx_NodeProto], Int)
        do {
            (sourceNodes, calls) = try FunctionInlining.inline(model)
        } catch let error as PTQError {
            throw PTQError.invalidData(file: path, problem: error.description)
        }
        var nodes: [Node] = []
        let given = Set(sourceNodes.map(\.name))
        for (index, proto) in sourceNodes.enumerated() {
            // A generated name must not collide with a name the exporter gave another node.
            var name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
            while proto.name.isEmpty && given.contains(name) { name += "_" }
            var attributes: [String: Attribute] = [:]
            for attribute in proto.attribute {
                attributes[attribute.name] = try decodeAttribute(attribute, node: name, path: path)
            }
            var stripped = proto
            stripped.input = []
            stripped.output = []
            stripped.attribute = []
            nodes.append(Node(
                name: name, opType: proto.opType, domain: proto.domain, inputs: proto.input,
                outputs: proto.output, attributes: attributes,
                preserved: try [UInt8](stripped.serializedBytes() as Data)))
        }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 1
        var envelope = model
        envelope.graph.node = []
        envelope.graph.initializer = []
        if calls > 0 { envelope.functions = [] }  // inlined: the exported graph calls none
        var graph = Graph(
            name: source.name, nodes: nodes, initializers: initializers, initializerOrder: order,
            inputs: source.input.map(valueInfo), outputs: source.output.map(valueInfo),
            opsetVersion: Int(opset),
            modelEnvelope: try [UInt8](envelope.serializedBytes() as Data))
        if calls > 0 {
            graph.preparation.append("inlined \(calls) call\(calls == 1 ? "" : "s") of the model's \(model.functions.count) local function\(model.functions.count == 1 ? "" : "s")")
        }
        do {
            try graph.validate()
        } catch let error as PTQError {
            throw PTQError.invalidData(file: path, problem: error.description)
        }
        graph = try graph.topologicallySorted()
        return graph
    }

    static func valueInfo(_ proto: Onnx_ValueInfoProto) -> ValueInfo {
        let tensorType = proto.type.tensorType
        let dims = tensorType.shape.dim
        return ValueInfo(
            name: proto.name, onnxType: Int(tensorType.elemType),
            shape: dims.map { dim -> Int? in
                if case .dimValue(let value)? = dim.value { return Int(value) }
                return nil
            },
            dimensionNames: dims.map { dim -> String? in
                if case .dimParam(let name)? = dim.value { return name }
                return nil
            })
    }

    static func decodeAttribute(_ proto: Onnx_AttributeProto, node: String, path: String) throws -> Attribute {
        switch proto.type {
        case .int: return .int(Int(proto.i))
        case .float: return .float(proto.f)
        case .string: return .string(String(decoding: proto.s, as: UTF8.self))
        case .ints: return .ints(proto.ints.map { Int($0) })
        case .floats: return .floats(proto.floats)
        case .strings: return .strings(proto.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor:
            do {
                return .tensor(try ONNXTensorCoding.decode(proto.t, context: "attribute '\(proto.name)' of node '\(node)'"))
            } catch let error as PTQError {
                throw PTQError.invalidData(file: path, problem: error.description)
            }
        default:
            return .opaque(serialized: try [UInt8](proto.serializedBytes() as Data))
        }
    }
}
