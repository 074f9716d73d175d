/// SplitMix64, the engine's source of randomness: techniques that sample (AdaRound's batches) take a seed, so a script
/// replays with the same output. Never seeded from the clock.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ 0xD1B5_4A32_D192_ED03
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound (bound > 0), by the modulo of 64 random bits (bias below 2^-40 for the bounds used here).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// `count` distinct values of 0..<population in random order (a partial Fisher–Yates shuffle of `scratch`,
    /// which must hold 0..<population in some order and keeps the shuffled state for the next draw).
    public mutating func distinct(_ count: Int, from scratch: inout [Int]) -> [Int] {
        let population = scratch.count, taken = min(count, population)
        for index in 0..<taken {
            scratch.swapAt(index, index + below(population - index))
        }
        return Array(scratch[0..<taken])
    }
}
