/// The [min, max] of the finite values of a collection: what calibration measures.
///
/// NaN and ±inf are skipped. A quantization grid cannot hold an infinity, and one infinite value
/// (an attention mask's -inf, an overflow in one sample) would otherwise stretch the whole tensor's
/// grid until every finite value rounds to zero (what AIMET 2's min-max analyzer does by clamping
/// to ±Float.max); AIMET's histogram analyzers take the range from the finite values, as here. With
/// no finite value the range stays (+inf, -inf), which callers read as "nothing seen" and encode as
/// [0, 0].
enum FiniteRange {
    static func of<C: Collection>(_ values: C, extending start: (Float, Float)? = nil) -> (Float, Float) where C.Element == Float {
        var (low, high) = start ?? (.infinity, -.infinity)
        for value in values where value.isFinite {
            low = value < low ? value : low
            high = value > high ? value : high
        }
        return (low, high)
    }
}
