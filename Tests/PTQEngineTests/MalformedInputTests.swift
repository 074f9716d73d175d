import Foundation
import ONNXProto
import Testing
@testable import PTQEngine

/// Bad files give errors that name the file and the problem; never a crash.
@Suite struct MalformedInputTests {
    func npy(header: String, magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], payload: Int) -> Data {
        var data = Data(magic + [1, 0, UInt8(header.utf8.count), 0])
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(count: payload))
        return data
    }

    static let npyCases: [(String, String, Int, String)] = [
        ("bad magic", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, "bad magic"),
        ("float16", "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", 4, "unsupported dtype '<f2'"),
        ("big-endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "unsupported dtype '>f4'"),
        ("fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "Fortran order"),
        ("truncated", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 8, "truncated data"),
        ("huge", "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000000), }", 8, "truncated data"),
        ("no shape", "{'descr': '<f4', 'fortran_order': False, }", 8, "no 'shape' entry"),
    ]

    @Test(arguments: npyCases.indices)
    func malformedNpy(_ index: Int) {
        let (name, header, payload, message) = Self.npyCases[index]
        let data = npy(header: header, magic: name == "bad magic" ? [1, 2, 3, 4, 5, 6] : [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], payload: payload)
        do {
            _ = try NumpyFile.decode(data, name: "case.npy")
            Issue.record("\(name) decoded without an error")
        } catch let error as PTQError {
            #expect(error.description.hasPrefix("case.npy: "))
            #expect(error.description.contains(message), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func truncatedHeader() {
        let data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 200, 0, 0x7B])
        #expect(throws: PTQError.self) { try NumpyFile.decode(data, name: "short.npy") }
    }

    @Test func npyRoundTrip() throws {
        let tensor = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, -6])
        #expect(try NumpyFile.decode(NumpyFile.encode(tensor), name: "x") == tensor)
        let labels = Tensor(shape: [3], integers: [1, 2, 3])
        #expect(try NumpyFile.decode(NumpyFile.encode(labels), name: "y").integers == [1, 2, 3])
    }

    func expectModelError(_ bytes: Data, contains message: String) throws {
        let path = temporaryPath("bad-\(abs(message.hashValue)).onnx")
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            _ = try ONNXImport.load(path: path)
            Issue.record("loaded a malformed model")
        } catch let error as PTQError {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func garbageAndEmptyModels() throws {
        try expectModelError(Data([0xFF, 0xFF, 0xFF, 0x01, 0x02]), contains: "not an ONNX model")
        try expectModelError(Data(), contains: "not an ONNX model")
        #expect(throws: PTQError.fileNotFound(path: "/nonexistent/m.onnx")) { try ONNXImport.load(path: "/nonexistent/m.onnx") }
    }

    func model(with tensor: Onnx_TensorProto) throws -> Data {
        var model = Onnx_ModelProto()
        var node = Onnx_NodeProto()
        node.opType = "Relu"
        node.input = ["x"]
        node.output = ["y"]
        model.graph.node = [node]
        model.graph.initializer = [tensor]
        return try model.serializedBytes()
    }

    @Test func externalDataAndShortRawData() throws {
        var external = Onnx_TensorProto()
        external.name = "big_weight"
        external.dataType = 1
        external.dims = [4]
        external.dataLocation = .external
        try expectModelError(try model(with: external), contains: "tensor 'big_weight' keeps its data in an external file")
        var short = Onnx_TensorProto()
        short.name = "w"
        short.dataType = 1
        short.dims = [4]
        short.rawData = Data(count: 8)
        try expectModelError(try model(with: short), contains: "raw_data holds 8 bytes, shape [4] needs 16")
        var strings = Onnx_TensorProto()
        strings.name = "names"
        strings.dataType = 8
        try expectModelError(try model(with: strings), contains: "element type string")
    }

    @Test func typedFieldsAreRead() throws {
        var ints = Onnx_TensorProto()
        ints.dataType = 6
        ints.dims = [2]
        ints.int32Data = [3, -4]
        #expect(try ONNXTensorCoding.decode(ints, context: "t").integers == [3, -4])
        var floats = Onnx_TensorProto()
        floats.dataType = 1
        floats.dims = [2]
        floats.floatData = [1.5, 2]
        #expect(try ONNXTensorCoding.decode(floats, context: "t").floats == [1.5, 2])
        var raw64 = Onnx_TensorProto()
        raw64.dataType = 7
        raw64.dims = [1]
        raw64.rawData = withUnsafeBytes(of: Int64(-9).littleEndian) { Data($0) }
        #expect(try ONNXTensorCoding.decode(raw64, context: "t").integers == [-9])
    }
}
