import ONNXProto
import Foundation

/// Converts between ONNX TensorProto and Tensor. ONNX raw_data is little-endian; so is every
/// machine ptq builds for, which the loads below rely on.
enum ONNXTensorCoding {
    static let integerWidths: [Int: Int] = [2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 12: 4, 13: 8]
    static let typeNames: [Int: String] = [
        1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
        9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 16: "bfloat16",
    ]

    static func typeName(_ type: Int) -> String { typeNames[type] ?? "type \(type)" }

    static func decode(_ proto: Onnx_TensorProto, context: String) throws -> Tensor {
        let name = proto.name.isEmpty ? context : "tensor '\(proto.name)'"
        if proto.dataLocation == .external || !proto.externalData.isEmpty {
            throw PTQError.invalidModel(
                "\(name) keeps its data in an external file; ptq reads external data of initializers only (see ExternalData)")
        }
        let shape = proto.dims.map { Int($0) }
        try TensorLimits.check(shape, name)
        let count = TensorLimits.elementCount(shape) ?? 0
        let type = Int(proto.dataType)
        if type == 1 {
            if proto.hasRawData {
                let bytes = proto.rawData
                guard bytes.count == count * 4 else {
                    throw PTQError.invalidModel("\(name): raw_data holds \(bytes.count) bytes, shape \(describeShape(shape)) needs \(count * 4)")
                }
                var values = [Float](repeating: 0, count: count)
                values.withUnsafeMutableBytes { destination in
                    _ = bytes.copyBytes(to: destination)
                }
                return Tensor(shape: shape, floats: values)
            }
            guard proto.floatData.count == count else {
                throw PTQError.invalidModel("\(name): float_data holds \(proto.floatData.count) values, shape \(describeShape(shape)) needs \(count)")
            }
            return Tensor(shape: shape, floats: proto.floatData)
        }
        if type == 11 {
            let values: [Double]
            if proto.hasRawData {
                guard proto.rawData.count == count * 8 else {
                    throw PTQError.invalidModel("\(name): raw_data holds \(proto.rawData.count) bytes, shape \(describeShape(shape)) needs \(count * 8)")
                }
                var decoded = [Double](repeating: 0, count: count)
                decoded.withUnsafeMutableBytes { _ = proto.rawData.copyBytes(to: $0) }
                values = decoded
            } else {
                values = proto.doubleData
            }
            guard values.count == count else {
                throw PTQError.invalidModel("\(name): holds \(values.count) values, shape \(describeShape(shape)) needs \(count)")
            }
            var tensor = Tensor(shape: shape, floats: values.map { Float($0) })
            tensor.onnxType = 11
            return tensor
        }
        guard let width = integerWidths[type] else {
            throw PTQError.invalidModel("\(name) has element type \(typeName(type)); ptq reads float, double and integer tensors")
        }
        var values: [Int64]
        if proto.hasRawData {
            let bytes = proto.rawData
            guard bytes.count == count * width else {
                throw PTQError.invalidModel("\(name): raw_data holds \(bytes.count) bytes, shape \(describeShape(shape)) needs \(count * width)")
            }
            values = bytes.withUnsafeBytes { raw in
                (0..<count).map { index in readInteger(raw, at: index * width, type: type) }
            }
        } else if type == 7 {
            values = proto.int64Data
        } else if type == 13 {
            values = proto.uint64Data.map { Int64(bitPattern: $0) }
        } else {
            values = proto.int32Data.map { Int64($0) }
        }
        guard values.count == count else {
            throw PTQError.invalidModel("\(name): holds \(values.count) values, shape \(describeShape(shape)) needs \(count)")
        }
        return Tensor(shape: shape, integers: values, onnxType: type)
    }

    private static func readInteger(_ raw: UnsafeRawBufferPointer, at offset: Int, type: Int) -> Int64 {
        switch type {
        case 2, 9: return Int64(raw.load(fromByteOffset: offset, as: UInt8.self))
        case 3: return Int64(raw.load(fromByteOffset: offset, as: Int8.self))
        case 4: return Int64(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        case 5: return Int64(raw.loadUnaligned(fromByteOffset: offset, as: Int16.self))
        case 6: return Int64(raw.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        case 12: return Int64(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        default: return raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)
        }
    }

    static func encode(_ tensor: Tensor, name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        proto.dataType = Int32(tensor.onnxType)
        if tensor.kind == .float {
            if tensor.onnxType == 11 {
                proto.rawData = tensor.floats.map { Double($0) }.withUnsafeBytes { Data($0) }
            } else {
                proto.dataType = 1
                proto.rawData = tensor.floats.withUnsafeBytes { Data($0) }
            }
            return proto
        }
        let values = tensor.integers
        switch tensor.onnxType {
        case 2, 9: proto.rawData = Data(values.map { UInt8(truncatingIfNeeded: $0) })
        case 3: proto.rawData = values.map { Int8(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case 4: proto.rawData = values.map { UInt16(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case 5: proto.rawData = values.map { Int16(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case 6: proto.rawData = values.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        case 12: proto.rawData = values.map { UInt32(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
        default: proto.rawData = values.withUnsafeBytes { Data($0) }
        }
        return proto
    }
}
