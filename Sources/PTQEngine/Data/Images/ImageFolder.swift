import Dispatch
import Foundation

/// The images of a folder and their labels, in the order torchvision's datasets give them.
/// - ImageFolder layout (subfolders): one subfolder per class; a class's index is its line in a synset list
///   (`<wnid> <name>` per line, line k = class k, the usual synset_words.txt) when one is given, else its position
///   among the sorted subfolder names. Within a class, files sorted by name, subfolders walked after the files.
/// - Flat layout with a CSV of `file,label` (a header line is skipped): the CSV's files, sorted by name.
/// - Flat layout without labels: every image, sorted by name (for calibration).
/// Names sort by Unicode code point, as Python's sorted() does. Files whose extension is not an image's are ignored.
public struct ImageList: Sendable, Equatable {
    public var files: [String]
    public var labels: [Int]?
    /// The position of each image's class folder among the sorted folders (ImageFolder layout only).
    public var classOf: [Int]?

    public init(files: [String], labels: [Int]?, classOf: [Int]? = nil) {
        self.files = files
        self.labels = labels
        self.classOf = classOf
    }

    static func sorted(_ names: [String]) -> [String] {
        names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    static func isImage(_ name: String) -> Bool {
        ImageDecoding.extensions.contains((name as NSString).pathExtension.lowercased())
    }

    static func entries(_ directory: String) throws -> (files: [String], folders: [String]) {
        let manager = FileManager.default
        let names: [String]
        do { names = try manager.contentsOfDirectory(atPath: directory) } catch {
            throw PTQError.io(path: directory, problem: "cannot be listed (\(error.localizedDescription))")
        }
        var files: [String] = [], folders: [String] = []
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
            if isDirectory.boolValue { folders.append(name) } else if isImage(name) { files.append(name) }
        }
        return (sorted(files), sorted(folders))
    }

    /// Every image under `directory`: its files, then each subfolder's, depth first.
    static func walk(_ directory: String) throws -> [String] {
        let (files, folders) = try entries(directory)
        return try files.map { directory + "/" + $0 } + folders.flatMap { try walk(directory + "/" + $0) }
    }

    /// Reads a synset list: the first word of each non-empty line.
    public static func classNames(path: String) throws -> [String] {
        let text = try FileReading.text(of: path, expected: "a class list (one `<wnid> <name>` per line)")
        let names = text.split(whereSeparator: \.isNewline).map { $0.split(separator: " ", maxSplits: 1).first.map(String.init) ?? "" }
            .filter { !$0.isEmpty }
        guard !names.isEmpty else { throw PTQError.invalidData(file: path, problem: "lists no classes; expected one `<wnid> <name>` per line") }
        return names
    }

    public static func read(directory: String, classes: String? = nil, labelsCSV: String? = nil) throws -> ImageList {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { throw PTQError.fileNotFound(path: directory) }
        guard isDirectory.boolValue else { throw PTQError.invalidData(file: directory, problem: "is not a folder") }
        if let labelsCSV { return try flat(directory: directory, csv: labelsCSV) }
        let (files, folders) = try entries(directory)
        guard !folders.isEmpty else {
            guard !files.isEmpty else { throw PTQError.invalidData(file: directory, problem: "holds no .jpg, .jpeg or .png images and no class folders") }
            return ImageList(files: files.map { directory + "/" + $0 }, labels: nil)
        }
        var index: [String: Int] = [:]
        if let classes {
            for (position, name) in try classNames(path: classes).enumerated() where index[name] == nil { index[name] = position }
            if let unknown = folders.first(where: { index[$0] == nil }) {
                throw PTQError.invalidData(file: directory + "/" + unknown, problem: "is a class folder that \(classes) does not list; expected one of its names")
            }
        } else {
            for (position, name) in folders.enumerated() { index[name] = position }
        }
        var list = ImageList(files: [], labels: [], classOf: [])
        for (position, folder) in folders.enumerated() {
            let images = try walk(directory + "/" + folder)
            list.files += images
            list.labels! += [Int](repeating: index[folder]!, count: images.count)
            list.classOf! += [Int](repeating: position, count: images.count)
        }
        guard !list.files.isEmpty else { throw PTQError.invalidData(file: directory, problem: "has class folders but no .jpg, .jpeg or .png images in them") }
        return list
    }

    static func flat(directory: String, csv: String) throws -> ImageList {
        let text = try FileReading.text(of: csv, expected: "a CSV of file,label")
        var rows: [(String, Int)] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 0, fields.count >= 2, Int(fields[1]) == nil { continue }  // header
            guard fields.count == 2, !fields[0].isEmpty, let label = Int(fields[1]) else {
                throw PTQError.invalidData(file: csv, problem: "line \(number + 1) is '\(line)'; expected file,label with an integer label")
            }
            rows.append((fields[0], label))
        }
        guard !rows.isEmpty else { throw PTQError.invalidData(file: csv, problem: "lists no images; expected lines of file,label") }
        rows.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
        for (name, _) in rows where !FileManager.default.fileExists(atPath: directory + "/" + name) {
            throw PTQError.invalidData(file: csv, problem: "lists '\(name)', which is not in \(directory)")
        }
        return ImageList(files: rows.map { directory + "/" + $0.0 }, labels: rows.map(\.1))
    }

    /// The images at `indices`, in that order.
    public func keeping(_ indices: [Int]) -> ImageList {
        ImageList(files: indices.map { files[$0] }, labels: labels.map { labels in indices.map { labels[$0] } },
                  classOf: classOf.map { classes in indices.map { classes[$0] } })
    }

    /// Decodes every image once (on all cores) and returns the list without those that fail, and the failures in
    /// list order (file, problem).
    public func withoutUnreadable(isCancelled: (@Sendable () -> Bool)? = nil) throws -> (ImageList, [(String, String)]) {
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            guard isCancelled?() != true else { return }
            do { _ = try ImageDecoding.decode(path: files[index]) } catch { failures.add(index, error) }
        }
        if isCancelled?() == true { throw PTQError.cancelled }
        let failed = failures.all
        let bad = Set(failed.map(\.0))
        return (keeping(files.indices.filter { !bad.contains($0) }), failed.map { (files[$0.0], "\($0.1)") })
    }

    /// The first `perClass` images of each class after skipping `skipPerClass` of each (ImageFolder layout), then
    /// `limit` images after skipping `skip` of what remains.
    public func selecting(skip: Int = 0, limit: Int = .max, skipPerClass: Int = 0, perClass: Int = .max) -> ImageList {
        var keep = Array(files.indices)
        if let classOf, skipPerClass > 0 || perClass < .max {
            var seen: [Int: Int] = [:]
            keep = keep.filter { index in
                let position = seen[classOf[index], default: 0]
                seen[classOf[index]] = position + 1
                return position >= skipPerClass && position - skipPerClass < perClass
            }
        }
        return keeping(Array(keep.dropFirst(skip).prefix(limit)))
    }
}
