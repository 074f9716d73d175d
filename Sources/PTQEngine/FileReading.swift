import Foundation

/// Reads a whole input file, with errors that say what was wrong with the path: missing, a folder,
/// unreadable. Every command that reads a file goes through here.
public enum FileReading {
    public static func contents(of path: String, expected: String) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw PTQError.fileNotFound(path: path)
        }
        if isFolder.boolValue {
            throw PTQError.io(path: path, problem: "is a folder; expected \(expected)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PTQError.io(path: path, problem: "cannot be read (check its permissions); expected \(expected)")
        }
        return data
    }

    public static func text(of path: String, expected: String) throws -> String {
        let data = try contents(of: path, expected: expected)
        guard let text = String(data: data, encoding: .utf8) else {
            throw PTQError.invalidData(file: path, problem: "is not UTF-8 text; expected \(expected)")
        }
        return text
    }
}
