import Foundation
import PTQEngine
import ZIPFoundation

/// Mutations of .npy files (header text, header length, magic, body) and .npz archives (members,
/// bytes, CRCs): what a truncated copy, another tool's dtype or a hand-written header gives `data`.
enum ArrayMutator {
    static let descriptors = ["<f4", "<f8", "<i8", "<i4", "|u1", "|i1", ">f4", "<f2", "|b1", "<c8", "|O", "<U3", "f4", "<f16", ""]
    static let shapes = ["()", "(0,)", "(4,)", "(4, 3, 8, 8)", "(4, 3, 8)", "(-1, 3, 8, 8)", "(99999999999, 3, 8, 8)",
                         "(4, 3, 8, 8, 1)", "(9223372036854775807, 2)", "(4,3,8,8", "(a, b)", "(1, 1, 1, 1)", "(4, 4, 6, 6)"]

    /// A mutated copy of a valid .npy encoding.
    static func mutateNumpy(_ valid: Data, random: inout FuzzRandom) -> (Data, String) {
        var bytes = [UInt8](valid)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let headerEnd = 10 + headerLength
        var header = String(decoding: bytes[10..<headerEnd], as: UTF8.self)
        let body = Array(bytes[headerEnd...])
        switch random.below(9) {
        case 0:
            let descriptor = random.pick(descriptors)
            header = header.replacingOccurrences(of: #"'descr': '[^']*'"#, with: "'descr': '\(descriptor)'", options: .regularExpression)
            return (rebuild(header: header, body: body), "descr -> '\(descriptor)'")
        case 1:
            let shape = random.pick(shapes)
            header = header.replacingOccurrences(of: #"'shape': \([^)]*\)"#, with: "'shape': \(shape)", options: .regularExpression)
            return (rebuild(header: header, body: body), "shape -> \(shape)")
        case 2:
            header = header.replacingOccurrences(of: "False", with: random.pick(["True", "1", "", "None"]))
            return (rebuild(header: header, body: body), "fortran_order changed")
        case 3:
            let cut = random.below(bytes.count)
            return (Data(bytes.prefix(cut)), "truncated to \(cut) bytes")
        case 4:
            let length = random.interestingInteger(near: headerLength)
            bytes[8] = UInt8(truncatingIfNeeded: length)
            bytes[9] = UInt8(truncatingIfNeeded: length >> 8)
            return (Data(bytes), "header length -> \(length & 0xFFFF)")
        case 5:
            bytes[random.below(8)] = UInt8(random.below(256))
            return (Data(bytes), "magic or version byte changed")
        case 6:
            var mutated = body
            var value = random.interestingFloat()
            if mutated.count >= 4 {
                let offset = 4 * random.below(mutated.count / 4)
                withUnsafeBytes(of: &value) { for k in 0..<4 { mutated[offset + k] = $0[k] } }
            }
            return (rebuild(header: header, body: mutated), "body value -> \(value)")
        case 7:
            let position = random.below(header.count)
            let index = header.index(header.startIndex, offsetBy: position)
            header.replaceSubrange(index...index, with: random.pick(["{", "}", "'", ":", ",", "(", ")", " ", "x", "9"]))
            return (rebuild(header: header, body: body), "header character \(position) replaced")
        default:
            let extra = [UInt8](repeating: 0x41, count: 1 + random.below(9))
            return (rebuild(header: header, body: body + extra), "body extended by \(extra.count) bytes")
        }
    }

    /// The header padded as NumPy pads it, then the body.
    static func rebuild(header: String, body: [UInt8]) -> Data {
        var text = header.trimmingCharacters(in: .whitespacesAndNewlines)
        while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = text.utf8.count
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(text.utf8))
        data.append(contentsOf: body)
        return data
    }

    /// An .npz with `members` (name → .npy bytes), stored or deflated, then possibly corrupted.
    static func archive(_ members: [(String, Data)], at path: String, random: inout FuzzRandom) throws -> String {
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let method: CompressionMethod = random.chance(50) ? .deflate : .none
        for (name, data) in members {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: method) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard random.chance(60) else { return "npz intact (\(method))" }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let position = random.below(bytes.count)
        bytes[position] ^= UInt8(1 + random.below(255))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return "npz byte \(position) flipped (\(method))"
    }
}
