import Foundation

/// Run states of many sample chunks, kept in memory up to `memoryBudget` bytes and beyond that in an unlinked
/// temporary file: written with pwrite, read back with pread. The file's pages live in the kernel's file cache (they
/// do not count against the process, and the kernel writes them to disk under pressure), and the file disappears
/// when it is closed or the process ends.
final class StateSpill {
    /// Bytes of states held in memory before the rest go to the file (a caller sharing one budget among several
    /// spills lowers it as another grows).
    var memoryBudget: Int
    private var inMemory: [Int: [Executor.RunState]] = [:]
    /// Bytes of states held in memory.
    private(set) var memoryBytes = 0

    private struct Stored {
        var name: String
        var shape: [Int]
        var kind: ElementKind
        var onnxType: Int
        var offset: Int
        var bytes: Int
    }

    private let descriptor: Int32
    private var end = 0
    private var index: [Int: (nextStep: [Int], tensors: [[Stored]])] = [:]

    init(memoryBudget: Int) throws {
        self.memoryBudget = memoryBudget
        var template = Array((NSTemporaryDirectory() + "/ptq-spill-XXXXXX").utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw PTQError.io(path: NSTemporaryDirectory(), problem: "cannot create a temporary file for activations (\(String(cString: strerror(errno))))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    deinit { close(descriptor) }

    /// Stores `states` (one per model) as chunk `chunk` (each chunk once).
    func write(_ chunk: Int, _ states: [Executor.RunState]) throws {
        let bytes = states.reduce(0) { $0 + Self.bytes($1) }
        if memoryBytes + bytes <= memoryBudget {
            inMemory[chunk] = states
            memoryBytes += bytes
            return
        }
        var entry: (nextStep: [Int], tensors: [[Stored]]) = ([], [])
        for state in states {
            var stored: [Stored] = []
            for name in state.values.keys.sorted() {
                let tensor = state.values[name]!
                let bytes = tensor.kind == .float ? tensor.floats.count * 4 : tensor.integers.count * 8
                try (tensor.kind == .float ? tensor.floats.withUnsafeBytes { try put($0, at: end) }
                                           : tensor.integers.withUnsafeBytes { try put($0, at: end) })
                stored.append(Stored(name: name, shape: tensor.shape, kind: tensor.kind, onnxType: tensor.onnxType, offset: end, bytes: bytes))
                end += bytes
            }
            entry.nextStep.append(state.nextStep)
            entry.tensors.append(stored)
        }
        index[chunk] = entry
    }

    /// Chunk `chunk`'s states, as written.
    func read(_ chunk: Int) throws -> [Executor.RunState] {
        if let states = inMemory[chunk] { return states }
        guard let entry = index[chunk] else { return [] }
        return try zip(entry.nextStep, entry.tensors).map { nextStep, stored in
            var values: [String: Tensor] = [:]
            for item in stored {
                var tensor: Tensor
                if item.kind == .float {
                    var floats = [Float](repeating: 0, count: item.bytes / 4)
                    try floats.withUnsafeMutableBytes { try get($0, at: item.offset) }
                    tensor = Tensor(shape: item.shape, floats: floats)
                } else {
                    var integers = [Int64](repeating: 0, count: item.bytes / 8)
                    try integers.withUnsafeMutableBytes { try get($0, at: item.offset) }
                    tensor = Tensor(shape: item.shape, integers: integers, onnxType: item.onnxType)
                }
                values[item.name] = tensor
            }
            return Executor.RunState(values: values, nextStep: nextStep)
        }
    }

    /// Chunk `chunk`'s states, given up: their memory is freed as soon as the caller drops them.
    func take(_ chunk: Int) throws -> [Executor.RunState] {
        if let states = inMemory.removeValue(forKey: chunk) {
            memoryBytes -= states.reduce(0) { $0 + Self.bytes($1) }
            return states
        }
        return try read(chunk)
    }

    /// Bytes a run state's tensors take.
    static func bytes(_ state: Executor.RunState) -> Int {
        state.values.values.reduce(0) { $0 + $1.count * ($1.kind == .float ? 4 : 8) }
    }

    private func put(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard PositionalIO.write(descriptor, bytes, at: offset) == bytes.count else {
            throw PTQError.io(path: NSTemporaryDirectory(), problem: "spilling activations failed (\(String(cString: strerror(errno))))")
        }
    }

    private func get(_ bytes: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard PositionalIO.read(descriptor, into: bytes, at: offset) == bytes.count else {
            throw PTQError.io(path: NSTemporaryDirectory(), problem: "reading spilled activations back failed")
        }
    }
}
