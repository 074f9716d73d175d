import Foundation
import ONNXProto

/// ONNX external data: initializers whose bytes live in a file beside the model (what exporters
/// write for models over protobuf's 2 GB limit, and what torch's dynamo exporter may write for any
/// model). Each such tensor names a `location` relative to the model's folder, an `offset` and a
/// `length` (the rest of the file when absent); its bytes become the tensor's raw data, so the
/// rest of ptq sees a self-contained model (and `export` writes one).
///
/// A location must stay inside the model's folder (no absolute paths, no `..`), as the ONNX
/// checker requires: a model file must not make ptq read arbitrary files.
enum ExternalData {
    static func resolve(_ model: inout Onnx_ModelProto, modelPath: String) throws {
        let folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
        var handles: [String: (handle: FileHandle, size: UInt64)] = [:]
        defer { for entry in handles.values { try? entry.handle.close() } }
        for index in model.graph.initializer.indices {
            let proto = model.graph.initializer[index]
            guard proto.dataLocation == .external || !proto.externalData.isEmpty else { continue }
            let name = "tensor '\(proto.name)'"
            var fields: [String: String] = [:]
            for entry in proto.externalData { fields[entry.key] = entry.value }
            guard let location = fields["location"], !location.isEmpty else {
                throw PTQError.invalidModel("\(name) keeps its data in an external file but names none (external_data has no 'location')")
            }
            guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
                throw PTQError.invalidModel("\(name): external data location '\(location)' leaves the model's folder; expected a path relative to it")
            }
            let path = folder.appendingPathComponent(location).path
            if handles[location] == nil {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw PTQError.invalidModel("\(name): its external data file '\(path)' is missing or unreadable")
                }
                let size = (try? handle.seekToEnd()) ?? 0
                handles[location] = (handle, size)
            }
            let (handle, size) = handles[location]!
            guard let offset = UInt64(fields["offset"] ?? "0"), offset <= size else {
                throw PTQError.invalidModel("\(name): external data offset '\(fields["offset"] ?? "")' is not a position in '\(location)' (\(size) bytes)")
            }
            let length = fields["length"].flatMap { UInt64($0) } ?? (size - offset)
            guard fields["length"] == nil || UInt64(fields["length"]!) != nil, length <= size - offset,
                  length <= UInt64(TensorLimits.maximumElements) * 8 else {
                throw PTQError.invalidModel("\(name): external data length '\(fields["length"] ?? "")' at offset \(offset) runs past the end of '\(location)' (\(size) bytes)")
            }
            try handle.seek(toOffset: offset)
            let bytes = try handle.read(upToCount: Int(length)) ?? Data()
            guard bytes.count == Int(length) else {
                throw PTQError.invalidModel("\(name): read \(bytes.count) of \(length) bytes from '\(location)'")
            }
            var resolved = proto
            resolved.externalData = []
            resolved.dataLocation = .default
            resolved.rawData = bytes
            model.graph.initializer[index] = resolved
        }
    }
}
