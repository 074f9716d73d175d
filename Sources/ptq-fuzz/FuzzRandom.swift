/// SplitMix64: the fuzzer's only source of randomness, so a case is reproducible from (seed, index).
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    /// The generator of case `index` of the campaign seeded `seed`.
    init(seed: UInt64, index: Int) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: index) &* 0xBF58_476D_1CE4_E5B9
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next(using: bound)) }
    private mutating func next(using bound: Int) -> UInt64 { UInt64(bound) == 0 ? 0 : next() % UInt64(bound) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }

    /// Integers that break code written for the common case: boundaries, signs, overflow bait.
    mutating func interestingInteger(near value: Int = 1) -> Int {
        pick([0, 1, -1, 2, 3, value - 1, value + 1, value * 2, -value, 7, 64, 255, 1 << 16, 1 << 31, -(1 << 31),
              1 << 40, Int.max, Int.min, Int(Int32.max), Int(Int32.min)])
    }

    mutating func interestingFloat() -> Float {
        pick([0, -0.0, 1, -1, 1e-38, 1e38, -1e38, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, 6, 0.5])
    }
}
