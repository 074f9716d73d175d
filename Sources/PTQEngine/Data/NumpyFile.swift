import Foundation

/// Reads and writes NumPy `.npy` arrays (format versions 1–3, C order, little-endian).
/// Sizes declared in the header are checked against the bytes present before anything is allocated.
public enum NumpyFile {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    static let supportedTypes = "float32, float64, uint8, int64, int32"

    public static func read(path: String) throws -> Tensor {
        try decode(FileReading.contents(of: path, expected: "a NumPy array (.npy)"), name: path)
    }

    /// What a .npy header declares, checked against the file's size.
    public struct Header: Sendable, Equatable {
        public var shape: [Int]
        public var type: String
        public var width: Int
        /// Where the values start in the file.
        public var offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public static func decode(_ data: Data, name: String) throws -> Tensor {
        let header = try parseHeader(data.prefix(65_536 + 12), fileSize: data.count, name: name)
        let body = data.subdata(in: (data.startIndex + header.offset) ..< (data.startIndex + header.offset + header.count * header.width))
        return body.withUnsafeBytes { values($0, header: header, shape: header.shape) }
    }

    /// The header of a .npy file whose first bytes are `prefix` (at least the header; 64 KiB is plenty).
    public static func parseHeader(_ prefix: Data, fileSize: Int, name: String) throws -> Header {
        let bytes = [UInt8](prefix.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw PTQError.invalidData(file: name, problem: "not a .npy file (bad magic; expected \\x93NUMPY)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw PTQError.invalidData(file: name, problem: "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw PTQError.invalidData(file: name, problem: "unsupported .npy format version \(major); expected 1, 2 or 3")
        }
        guard headerStart + headerLength <= min(prefix.count, fileSize) else {
            throw PTQError.invalidData(file: name, problem: "truncated .npy header (declares \(headerLength) bytes, file has \(fileSize - headerStart))")
        }
        let header = String(decoding: prefix[prefix.startIndex + headerStart ..< prefix.startIndex + headerStart + headerLength], as: UTF8.self)
        let descr = try field(header, "descr", name: name)
        let fortran = try field(header, "fortran_order", name: name)
        let shapeText = try field(header, "shape", name: name)
        if fortran.hasPrefix("True") {
            throw PTQError.invalidData(file: name, problem: "array is in Fortran order; expected C order (save it with np.ascontiguousarray)")
        }
        let shape = try parseShape(shapeText, name: name)
        let type = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let width: Int
        switch type {
        case "<f4", "<i4": width = 4
        case "<f8", "<i8": width = 8
        case "|u1", "<u1", "|b1": width = 1
        default:
            throw PTQError.invalidData(file: name, problem: "unsupported dtype '\(type)'; expected \(supportedTypes) (little-endian)")
        }
        var count = 1, overflow = false
        for dimension in shape {
            let (product, overflowed) = count.multipliedReportingOverflow(by: dimension)
            count = product
            overflow = overflow || overflowed
        }
        let (needed, overflowedBytes) = count.multipliedReportingOverflow(by: width)
        overflow = overflow || overflowedBytes
        let payload = fileSize - headerStart - headerLength
        guard !overflow, needed <= payload else {
            throw PTQError.invalidData(file: name, problem: "truncated data: shape \(describeShape(shape)) of \(type) needs \(needed) bytes, file has \(payload)")
        }
        return Header(shape: shape, type: type, width: width, offset: headerStart + headerLength)
    }

    /// A tensor of `shape` from the raw little-endian values of `header`'s type.
    static func values(_ raw: UnsafeRawBufferPointer, header: Header, shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        switch header.type {
        case "<f4":
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { _ = raw.prefix(count * 4).copyBytes(to: $0) }
            return Tensor(shape: shape, floats: values)
        case "<f8":
            return Tensor(shape: shape, floats: (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) })
        case "<i4":
            return Tensor(shape: shape, integers: (0..<count).map { Int64(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }, onnxType: 6)
        case "<i8":
            return Tensor(shape: shape, integers: (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) })
        default:
            return Tensor(shape: shape, integers: raw.prefix(count).map { Int64($0) }, onnxType: 2)
        }
    }

    static func field(_ header: String, _ key: String, name: String) throws -> String {
        guard let range = header.range(of: "'\(key)':") else {
            throw PTQError.invalidData(file: name, problem: "malformed .npy header: no '\(key)' entry")
        }
        let rest = header[range.upperBound...].drop { $0 == " " }
        guard let first = rest.first else { return "" }
        let terminator: Character = first == "'" || first == "\"" ? first : (first == "(" ? ")" : ",")
        let body = rest.dropFirst()
        guard let end = body.firstIndex(where: { $0 == terminator || (terminator == "," && $0 == "}") }) else {
            throw PTQError.invalidData(file: name, problem: "malformed .npy header: '\(key)' entry is not terminated")
        }
        return terminator == "," ? String(rest[..<end]) : String(first) + String(body[...end])
    }

    static func parseShape(_ text: String, name: String) throws -> [Int] {
        guard text.hasPrefix("("), let close = text.firstIndex(of: ")") else {
            throw PTQError.invalidData(file: name, problem: "malformed .npy header: shape is not a tuple")
        }
        let inner = text[text.index(after: text.startIndex)..<close]
        return try inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            guard let value = Int($0), value >= 0 else {
                throw PTQError.invalidData(file: name, problem: "malformed .npy header: bad dimension '\($0)'")
            }
            return value
        }
    }

    /// Encodes a float tensor as float32 or an integer tensor as int64, format version 1.
    public static func encode(_ tensor: Tensor) -> Data {
        let descr = tensor.kind == .float ? "<f4" : "<i8"
        let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        if tensor.kind == .float {
            tensor.floats.withUnsafeBytes { data.append(contentsOf: $0) }
        } else {
            tensor.integers.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    public static func write(_ tensor: Tensor, to path: String, overwrite: Bool) throws {
        try writeAtomically(encode(tensor), to: path, overwrite: overwrite)
    }
}
