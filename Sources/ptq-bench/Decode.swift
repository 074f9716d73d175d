import Dispatch
import Foundation
import PTQEngine

/// `ptq-bench decode FOLDER --resize R --crop C --out OUT.npy [--classes FILE]`: the folder's images decoded,
/// resized and cropped as `data FOLDER` does, written as uint8 N×3×C×C (before normalization, for comparing pixels
/// with PIL), with the throughput on one line: `decoded N images in S s (X images/s)`.
func decodeCommand(_ arguments: [String]) throws {
    func value(_ name: String) -> String? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
    guard arguments.count >= 1, let out = value("--out"), let crop = value("--crop").flatMap(Int.init) else {
        FileHandle.standardError.write(Data("usage: ptq-bench decode FOLDER --resize R --crop C --out OUT.npy [--classes FILE]\n".utf8))
        exit(2)
    }
    let preprocessing = ImagePreprocessing(resize: value("--resize").flatMap(Int.init), crop: crop)
    let list = try ImageList.read(directory: arguments[0], classes: value("--classes"))
    let perImage = 3 * crop * crop
    let begin = Date()
    var pixels = [UInt8](repeating: 0, count: list.files.count * perImage)
    let failures = FailureCollector()
    pixels.withUnsafeMutableBufferPointer { buffer in
        let base = SendablePointer(buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: list.files.count) { index in
            do {
                let image = preprocessing.geometry(try ImageDecoding.decode(path: list.files[index]))
                let plane = crop * crop
                for position in 0..<plane {
                    for channel in 0..<3 { base.pointer[index * perImage + channel * plane + position] = image.pixels[position * 3 + channel] }
                }
            } catch {
                failures.add("\(error)")
            }
        }
    }
    let elapsed = Date().timeIntervalSince(begin)
    if let failure = failures.first { throw PTQError.invalidData(file: arguments[0], problem: failure) }
    // A uint8 .npy (NumpyFile writes float32 or int64 only; eight times the bytes).
    let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(list.files.count), 3, \(crop), \(crop)), }"
    let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(padded.utf8.count & 0xFF), UInt8(padded.utf8.count >> 8)])
    data.append(contentsOf: Array(padded.utf8))
    data.append(contentsOf: pixels)
    try data.write(to: URL(fileURLWithPath: out))
    print(String(format: "decoded %d images in %.2f s (%.1f images/s)", list.files.count, elapsed, Double(list.files.count) / elapsed))
}

struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }
}

final class FailureCollector: @unchecked Sendable {
    private var failures: [String] = []
    private let lock = NSLock()
    func add(_ text: String) { lock.withLock { failures.append(text) } }
    var first: String? { lock.withLock { failures.sorted().first } }
}
