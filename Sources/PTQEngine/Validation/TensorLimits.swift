/// Bounds on tensor sizes, checked before anything is allocated, so a hostile dimension gives an
/// error instead of an overflow trap or an allocation the machine cannot make.
public enum TensorLimits {
    /// The most elements one tensor may hold: 2^31 - 1 floats (8 GiB), so every size passed to the
    /// BLAS fits its 32-bit integers.
    public static let maximumElements = Int(Int32.max)
    /// The largest value a spatial attribute (kernel size, stride, dilation, pad) may take: far above
    /// any real network's, and small enough that products of two never overflow.
    public static let maximumExtent = 1 << 24

    /// The product of `shape`, or nil when a dimension is negative or the product passes
    /// `maximumElements` (checked as it multiplies, so it never overflows).
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= maximumElements else { return nil }
            count = product
        }
        return shape.contains(0) ? 0 : count
    }

    /// Throws unless `shape` has non-negative dims whose product is within the limit.
    public static func check(_ shape: [Int], _ what: @autoclosure () -> String) throws {
        if shape.contains(where: { $0 < 0 }) {
            throw PTQError.invalidModel("\(what()) has a negative dimension in \(describeShape(shape))")
        }
        guard elementCount(shape) != nil else {
            throw PTQError.invalidModel(
                "\(what()) would hold more than \(maximumElements) elements (shape \(describeShape(shape)))")
        }
    }
}
