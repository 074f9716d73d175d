/// A fixed-range histogram of activation values (2048 bins over the observed [min, max]) and the
/// ranges the percentile and SQNR calibration schemes derive from it.
public struct Histogram: Sendable {
    public var minimum: Float
    public var maximum: Float
    public var counts: [Double]

    /// Non-finite bounds are replaced as `Encoding` replaces them, so the bin width is finite.
    public init(minimum: Float, maximum: Float, bins: Int = 2048) {
        let limit = Float.greatestFiniteMagnitude / 4
        self.minimum = minimum.isNaN ? 0 : Swift.min(Swift.max(minimum, -limit), limit)
        self.maximum = maximum.isNaN ? 0 : Swift.min(Swift.max(maximum, -limit), limit)
        counts = [Double](repeating: 0, count: bins)
    }

    var binWidth: Double { Double(maximum - minimum) / Double(counts.count) }

    /// Counts finite values only (NaN and ±inf are skipped, as they are for the range).
    public mutating func add(_ values: [Float]) {
        let width = binWidth
        guard width > 0 else {
            counts[0] += Double(values.filter(\.isFinite).count)
            return
        }
        let last = counts.count - 1
        let low = Double(minimum)
        for value in values where value.isFinite {
            let slot = Int((Double(value) - low) / width)
            counts[slot < 0 ? 0 : (slot > last ? last : slot)] += 1
        }
    }

    func center(_ slot: Int) -> Double { Double(minimum) + (Double(slot) + 0.5) * binWidth }

    /// The value below which `fraction` of the observations lie, interpolating inside the bin.
    public func quantile(_ fraction: Double) -> Float {
        let total = counts.reduce(0, +)
        guard total > 0, binWidth > 0 else { return minimum }
        let target = fraction * total
        var running = 0.0
        for (slot, count) in counts.enumerated() {
            if running + count >= target && count > 0 {
                let inside = (target - running) / count
                return Float(Double(minimum) + (Double(slot) + inside) * binWidth)
            }
            running += count
        }
        return maximum
    }

    public func range(for scheme: CalibrationScheme, bitwidth: Int, symmetric: Bool) -> (Float, Float) {
        switch scheme {
        case .minmax: return (minimum, maximum)
        case .percentile(let percent):
            return (min(0, quantile(1 - percent / 100)), max(0, quantile(percent / 100)))
        case .sqnr: return sqnrRange(bitwidth: bitwidth, symmetric: symmetric)
        }
    }

    /// AIMET's "tf_enhanced" search: candidate grids inside the observed range; cost = expected
    /// rounding noise of in-range values (delta²/12 each) + 3 × squared clipping error of the rest.
    /// Asymmetric: 17 deltas (k/17 of the full-range delta, k = 1…17) × 20 offsets evenly spread
    /// over [−n, 0] plus the observed one. Symmetric: 101 deltas (k/101 of the full-range delta).
    func sqnrRange(bitwidth: Int, symmetric: Bool) -> (Float, Float) {
        let low = Double(min(minimum, 0)), high = Double(max(maximum, 0))
        let steps = Double((1 << bitwidth) - 1)
        guard high > low else { return (minimum, maximum) }
        var best = (cost: Double.infinity, low: low, high: high)
        func consider(delta: Double, offset: Double) {
            let gridLow = max(low, offset * delta), gridHigh = min(high, (offset + steps) * delta)
            var cost = 0.0
            for (slot, count) in counts.enumerated() where count > 0 {
                let x = center(slot)
                if x < gridLow {
                    cost += 3 * count * (gridLow - x) * (gridLow - x)
                } else if x > gridHigh {
                    cost += 3 * count * (x - gridHigh) * (x - gridHigh)
                } else {
                    cost += count * delta * delta / 12
                }
            }
            if cost < best.cost { best = (cost, gridLow, gridHigh) }
        }
        if symmetric {
            let halfDown = (steps / 2).rounded(.down), halfUp = (steps / 2).rounded(.up)
            let fullDelta = max(high / halfDown, -low / halfUp)
            for k in 1...101 { consider(delta: fullDelta * Double(k) / 101, offset: -halfUp) }
        } else {
            let fullDelta = (high - low) / steps
            for k in 1...17 {
                let delta = fullDelta * Double(k) / 17
                var offsets = (0..<20).map { (-steps + steps * Double($0) / 19).rounded() }
                offsets.append((low / delta).rounded())
                for offset in offsets { consider(delta: delta, offset: offset) }
            }
        }
        return (Float(best.low), Float(best.high))
    }
}
