import Foundation

/// Samples read a batch at a time, so calibration, evaluation and bias correction never hold a dataset whole:
/// a tensor already in memory, a .npy file read with pread (no mapping: pages read once are not kept), or a
/// folder of images decoded on demand.
public protocol SampleSource: Sendable {
    /// How many samples there are.
    var count: Int { get }
    /// One sample's shape (without the batch axis).
    var sampleShape: [Int] { get }
    /// Samples `range` as one tensor, batch axis first, normalized as the source was told to.
    func samples(_ range: Range<Int>) throws -> Tensor
}

extension SampleSource {
    /// The first `count` samples (or all), in memory.
    public func all(upTo limit: Int = .max) throws -> Tensor { try samples(0..<Swift.min(count, limit)) }
}

/// Samples already in memory.
public struct TensorSamples: SampleSource {
    public let tensor: Tensor
    public init(_ tensor: Tensor) { self.tensor = tensor }
    public var count: Int { tensor.shape.first ?? 0 }
    public var sampleShape: [Int] { Array(tensor.shape.dropFirst()) }
    public func samples(_ range: Range<Int>) throws -> Tensor { Batching.slice(tensor, range) }
}

/// Scaling and per-channel normalization applied to each batch: x·scale (integers: default 1/255), then
/// (x − mean[c]) / std[c] along axis 1.
public struct SampleNormalization: Sendable, Equatable {
    public var scale: Float?
    public var mean: [Float]?
    public var std: [Float]?
    public init(scale: Float? = nil, mean: [Float]? = nil, std: [Float]? = nil) {
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    public func apply(_ samples: Tensor) -> Tensor {
        var values = samples.asFloats
        if let scale = scale ?? (samples.kind == .integer ? Float(1.0 / 255.0 as Double) : nil) {
            for index in values.indices { values[index] *= scale }
        }
        let channels = samples.rank >= 2 ? samples.shape[1] : 1
        let plane = samples.shape.dropFirst(2).reduce(1, *)
        if let mean {
            for index in values.indices { values[index] -= mean.count == 1 ? mean[0] : mean[(index / plane) % channels] }
        }
        if let std {
            for index in values.indices { values[index] /= std.count == 1 ? std[0] : std[(index / plane) % channels] }
        }
        return Tensor(shape: samples.shape, floats: values)
    }
}

/// A .npy file of samples (batch axis first), read a batch at a time with pread and normalized as it is read.
public struct NumpySamples: SampleSource {
    public let path: String
    public let header: NumpyFile.Header
    public let normalization: SampleNormalization
    /// Samples taken: [first, first + count) of the file's.
    let first: Int
    public let count: Int

    public init(path: String, normalization: SampleNormalization = SampleNormalization()) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileManager.default.fileExists(atPath: path) ? PTQError.io(path: path, problem: "cannot be opened for reading")
                : PTQError.fileNotFound(path: path)
        }
        defer { try? handle.close() }
        let size = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value ?? 0)
        let prefix = (try handle.read(upToCount: 65_536 + 12)) ?? Data()
        header = try NumpyFile.parseHeader(prefix, fileSize: size, name: path)
        guard !header.shape.isEmpty else {
            throw PTQError.invalidData(file: path, problem: "holds a single value (shape []); expected samples with a batch axis, N×C×H×W")
        }
        self.path = path
        self.normalization = normalization
        first = 0
        count = header.shape[0]
    }

    init(_ other: NumpySamples, first: Int, count: Int) {
        (path, header, normalization, self.first, self.count) = (other.path, other.header, other.normalization, first, count)
    }

    /// Samples [skip, skip + limit) of these.
    public func taking(skip: Int = 0, limit: Int = .max) -> NumpySamples {
        let start = Swift.min(count, skip)
        return NumpySamples(self, first: first + start, count: Swift.min(count - start, limit))
    }

    public var sampleShape: [Int] { Array(header.shape.dropFirst()) }

    public func samples(_ range: Range<Int>) throws -> Tensor {
        let perSample = sampleShape.reduce(1, *) * header.width
        let length = range.count * perSample
        var bytes = [UInt8](repeating: 0, count: length)
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw PTQError.io(path: path, problem: "cannot be opened for reading (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        let start = header.offset + (first + range.lowerBound) * perSample
        errno = 0
        guard bytes.withUnsafeMutableBytes({ PositionalIO.read(descriptor, into: $0, at: start) }) == length else {
            throw PTQError.io(path: path, problem: errno == 0 ? "ended early (the file shrank after it was attached)" : String(cString: strerror(errno)))
        }
        let raw = bytes.withUnsafeBytes { NumpyFile.values($0, header: header, shape: [range.count] + sampleShape) }
        return normalization.apply(raw)
    }
}
