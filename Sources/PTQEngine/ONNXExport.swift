import Foundation
import SwiftProtobuf
import ONNXProto

/// Writes a Graph as an ONNX ModelProto: the imported envelope (metadata, opsets, doc strings)
/// with the graph's nodes, initializers, inputs and outputs put back in, nodes in topological order.
public enum ONNXExport {
    public static func modelProto(_ graph: Graph, minimumOpset: Int? = nil) throws -> Onnx_ModelProto {
        let sorted = try graph.topologicallySorted()
        var model = graph.modelEnvelope.isEmpty
            ? freshEnvelope(opset: graph.opsetVersion)
            : try Onnx_ModelProto(serializedBytes: graph.modelEnvelope)
        let originalInputs = Dictionary(model.graph.input.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let originalOutputs = Dictionary(model.graph.output.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if let minimumOpset, minimumOpset > graph.opsetVersion {
            for index in model.opsetImport.indices where model.opsetImport[index].domain.isEmpty {
                model.opsetImport[index].version = Int64(minimumOpset)
            }
            if model.irVersion < 7 { model.irVersion = 7 }
        }
        model.graph.name = graph.name
        model.graph.node = try sorted.nodes.map(nodeProto)
        model.graph.initializer = graph.initializerOrder.compactMap { name in
            graph.initializers[name].map { ONNXTensorCoding.encode($0, name: name) }
        }
        model.graph.input = graph.inputs.map { originalInputs[$0.name] ?? valueInfoProto($0) }
        model.graph.output = graph.outputs.map { originalOutputs[$0.name] ?? valueInfoProto($0) }
        var present = Set<String>()
        sorted.nodes.forEach { $0.outputs.forEach { present.insert($0) } }
        model.graph.valueInfo = model.graph.valueInfo.filter { present.contains($0.name) }
        return model
    }

    /// Writes atomically; refuses to replace an existing file unless `overwrite`.
    public static func save(_ graph: Graph, to path: String, overwrite: Bool, minimumOpset: Int? = nil) throws {
        let data: Data = try modelProto(graph, minimumOpset: minimumOpset).serializedBytes()
        try writeAtomically(data, to: path, overwrite: overwrite)
    }

    static func freshEnvelope(opset: Int) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "ptq"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        return model
    }

    static func nodeProto(_ node: Node) throws -> Onnx_NodeProto {
        var proto = node.preserved.isEmpty ? Onnx_NodeProto() : try Onnx_NodeProto(serializedBytes: node.preserved)
        proto.name = node.name
        proto.opType = node.opType
        if node.domain.isEmpty { proto.clearDomain() } else { proto.domain = node.domain }
        proto.input = node.inputs
        proto.output = node.outputs
        proto.attribute = try node.attributes.keys.sorted().map { try attributeProto(name: $0, node.attributes[$0]!) }
        return proto
    }

    static func attributeProto(name: String, _ attribute: Attribute) throws -> Onnx_AttributeProto {
        var proto = Onnx_AttributeProto()
        proto.name = name
        switch attribute {
        case .int(let value): proto.type = .int; proto.i = Int64(value)
        case .float(let value): proto.type = .float; proto.f = value
        case .string(let value): proto.type = .string; proto.s = Data(value.utf8)
        case .ints(let values): proto.type = .ints; proto.ints = values.map { Int64($0) }
        case .floats(let values): proto.type = .floats; proto.floats = values
        case .strings(let values): proto.type = .strings; proto.strings = values.map { Data($0.utf8) }
        case .tensor(let tensor): proto.type = .tensor; proto.t = ONNXTensorCoding.encode(tensor, name: "")
        case .opaque(let bytes): proto = try Onnx_AttributeProto(serializedBytes: bytes)
        }
        return proto
    }

    static func valueInfoProto(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var proto = Onnx_ValueInfoProto()
        proto.name = info.name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(info.onnxType)
        var shape = Onnx_TensorShapeProto()
        shape.dim = zip(info.shape, info.dimensionNames).map { value, name in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let value { dim.dimValue = Int64(value) } else if let name { dim.dimParam = name }
            return dim
        }
        tensorType.shape = shape
        proto.type.tensorType = tensorType
        return proto
    }
}

/// Writes to a temporary file beside `path`, then renames it into place, so readers never see
/// a half-written file. Creates missing folders; refuses to replace an existing file unless `overwrite`.
public func writeAtomically(_ data: Data, to path: String, overwrite: Bool) throws {
    let manager = FileManager.default
    if manager.fileExists(atPath: path) && !overwrite {
        throw PTQError.io(path: path, problem: "exists; pass --force to overwrite it")
    }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent()
    do {
        // Like `mkdir -p`: `export out/model.onnx` creates out/.
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw PTQError.io(path: path, problem: "cannot create folder \(directory.path): \(error.localizedDescription)")
    }
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw PTQError.io(path: path, problem: "cannot move the written file into place (errno \(errno))")
        }
    } catch let error as PTQError {
        try? manager.removeItem(at: temporary)
        throw error
    } catch {
        try? manager.removeItem(at: temporary)
        throw PTQError.io(path: path, problem: "cannot write: \(error.localizedDescription)")
    }
}
