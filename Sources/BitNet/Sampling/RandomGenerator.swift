/// The sampler's pseudo-random source: xoshiro256** (Blackman & Vigna),
/// seeded through splitmix64.
///
/// Our own generator rather than the stdlib's so that the same seed gives the
/// same text on every platform and Swift version, and so that the whole state
/// is four `UInt64`s a context file can save and restore.
package struct RandomGenerator: Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Expands one 64-bit seed into the 256-bit state with splitmix64, as the
    /// xoshiro authors recommend; any seed, zero included, gives a valid state.
    package init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// Restores a state saved from `stateWords`.
    package init(stateWords words: [UInt64]) throws(BitNetError) {
        guard words.count == 4 else {
            throw .invalidArgument("random generator state needs 4 words, got \(words.count)")
        }
        // xoshiro never leaves the all-zero state once in it: it only outputs zeros.
        guard words.contains(where: { $0 != 0 }) else {
            throw .invalidArgument("random generator state must not be all zero")
        }
        s0 = words[0]
        s1 = words[1]
        s2 = words[2]
        s3 = words[3]
    }

    /// The complete state, for saving; `init(stateWords:)` resumes the sequence exactly.
    package var stateWords: [UInt64] { [s0, s1, s2, s3] }

    package mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, by: 7) &* 9
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = rotateLeft(s3, by: 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    package mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A seed from the operating system (the stdlib's system generator reads
    /// getrandom), for callers that ask for "any seed".
    package static func entropySeed() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}

/// splitmix64 (Steele, Lea & Flood): turns consecutive seeds into well-mixed words.
/// Also the project's generator of deterministic test and benchmark data.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    package var state: UInt64

    package init(state: UInt64) { self.state = state }
    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
