import Foundation
import ZIPFoundation

/// Reads arrays from a NumPy `.npz` archive (stored or deflated members named KEY.npy).
public enum NumpyArchive {
    public static func keys(path: String) throws -> [String] {
        try archive(path).map { $0.path }.filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }.sorted()
    }

    public static func read(path: String, key: String) throws -> Tensor {
        let zip = try archive(path)
        guard let entry = zip["\(key).npy"] else {
            let available = try keys(path: path)
            throw PTQError.invalidData(file: path, problem: "no array '\(key)'; the archive holds \(available.joined(separator: ", "))")
        }
        var data = Data()
        // A corrupt header can declare any size, and corrupt deflate data can expand without end: the
        // member may not pass its declared size, nor the size of the largest tensor ptq holds.
        let declared = Int(clamping: entry.uncompressedSize)
        let limit = TensorLimits.maximumElements * 8 + 1 << 20
        guard declared <= limit else {
            throw PTQError.invalidData(file: path, problem: "member '\(key).npy' declares \(declared) bytes, more than any array ptq reads")
        }
        do {
            // This form of extract computes the CRC-32 but leaves the comparison to the caller.
            let checksum = try zip.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= declared else {
                    throw PTQError.invalidData(file: path, problem: "cannot extract '\(key)': it expands past the \(declared) bytes its header declares (the archive is corrupt)")
                }
                data.append(chunk)
            }
            guard checksum == entry.checksum else {
                throw PTQError.invalidData(file: path, problem: "cannot extract '\(key)': its CRC-32 checksum does not match its bytes (the archive is corrupt)")
            }
        } catch let error as PTQError {
            throw error
        } catch {
            let reason = "\(error)".lowercased().contains("crc")
                ? "its CRC-32 checksum does not match its bytes (the archive is corrupt)"
                : "the archive is damaged (\(String(describing: error).split(separator: ".").last ?? ""))"
            throw PTQError.invalidData(file: path, problem: "cannot extract '\(key)': \(reason)")
        }
        return try NumpyFile.decode(data, name: "\(path)[\(key)]")
    }

    static func archive(_ path: String) throws -> Archive {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw PTQError.fileNotFound(path: path) }
        if isFolder.boolValue { throw PTQError.io(path: path, problem: "is a folder; expected a NumPy archive (.npz)") }
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw PTQError.invalidData(file: path, problem: "not a .npz (zip) archive")
        }
    }
}
