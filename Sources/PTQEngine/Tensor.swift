/// The element types ptq computes with. Every ONNX integer type is held as Int64 so shape
/// arithmetic has one code path; `onnxType` remembers what to write back on export.
public enum ElementKind: Sendable, Equatable {
    case float
    case integer
}

/// A dense, row-major (C order) tensor with value semantics.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    /// Float data when `kind == .float`; empty otherwise.
    public var floats: [Float]
    /// Integer data when `kind == .integer`; empty otherwise.
    public var integers: [Int64]
    public var kind: ElementKind
    /// The ONNX TensorProto.DataType this tensor came from (1 = float, 7 = int64, 6 = int32, ...).
    public var onnxType: Int

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.floats = floats
        self.integers = []
        self.kind = .float
        self.onnxType = 1
    }

    public init(shape: [Int], integers: [Int64], onnxType: Int = 7) {
        precondition(shape.reduce(1, *) == integers.count, "shape \(shape) does not hold \(integers.count) values")
        self.shape = shape
        self.floats = []
        self.integers = integers
        self.kind = .integer
        self.onnxType = onnxType
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], floats: [value]) }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    /// Values as Float whatever the kind (integers converted).
    public var asFloats: [Float] { kind == .float ? floats : integers.map { Float($0) } }
    /// Values as Int64 whatever the kind (floats truncated toward zero, as ONNX Cast does; NaN and
    /// out-of-range values saturate, see `Int64(saturating:)`).
    public var asIntegers: [Int64] { kind == .integer ? integers : floats.map { Int64(saturating: $0) } }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        var copy = self
        copy.shape = newShape
        return copy
    }
}

/// Row-major strides of a shape.
public func stridesOf(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

public func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

extension Tensor {
    /// Calls `body(channel, range)` for every contiguous run of elements belonging to one index of
    /// `axis` (outer × channel blocks of the inner size), in memory order. The one place that knows
    /// how per-channel slices lie in a row-major tensor.
    @inline(__always)
    public func forEachChannelRun(axis: Int, _ body: (Int, Range<Int>) -> Void) {
        Self.forEachChannelRun(shape: shape, axis: axis, body)
    }

    /// `forEachChannelRun` for a tensor of `shape`, without the tensor (so its storage can be changed meanwhile).
    public static func forEachChannelRun(shape: [Int], axis: Int, _ body: (Int, Range<Int>) -> Void) {
        let channels = shape[axis]
        let inner = shape.dropFirst(axis + 1).reduce(1, *)
        let outer = shape.prefix(axis).reduce(1, *)
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner
                body(c, base..<(base + inner))
            }
        }
    }
}
