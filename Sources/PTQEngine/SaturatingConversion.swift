extension Int64 {
    /// `value` truncated toward zero and clamped to Int64's range; NaN becomes 0. ONNX leaves such
    /// casts undefined; Swift's `Int64(_:)` traps on them, and a model's data must never trap ptq.
    @inline(__always)
    init(saturating value: Float) {
        if value.isNaN {
            self = 0
        } else if value >= 9.223372e18 {
            self = .max
        } else if value <= -9.223372e18 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
