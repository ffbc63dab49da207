import Testing
@testable import BitNet

@Suite struct RandomGeneratorTests {
    @Test func xoshiroMatchesPublishedSequence() throws {
        // Reference outputs of xoshiro256** from the state {1, 2, 3, 4}.
        var random = try RandomGenerator(stateWords: [1, 2, 3, 4])
        let expected: [UInt64] = [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240]
        #expect((0..<4).map { _ in random.next() } == expected)
    }

    @Test func splitMixMatchesPublishedSequence() {
        var mixer = BitNet.SplitMix64(state: 0)
        #expect(mixer.next() == 0xE220_A839_7B1D_CDAF)
        #expect(mixer.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(mixer.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func sameSeedSameSequenceAndStateRoundTrips() throws {
        var a = RandomGenerator(seed: 42)
        var b = RandomGenerator(seed: 42)
        for _ in 0..<10 { #expect(a.next() == b.next()) }
        let saved = a.stateWords
        let continued = (0..<5).map { _ in a.next() }
        var restored = try RandomGenerator(stateWords: saved)
        #expect((0..<5).map { _ in restored.next() } == continued)
        #expect(RandomGenerator(seed: 43).stateWords != RandomGenerator(seed: 42).stateWords)
    }

    @Test func badStatesAreRejected() {
        #expect(throws: BitNetError.self) { try RandomGenerator(stateWords: [0, 0, 0, 0]) }
        #expect(throws: BitNetError.self) { try RandomGenerator(stateWords: [1, 2, 3]) }
    }

    @Test func unitDoublesAreUniformInRange() {
        var random = RandomGenerator(seed: 7)
        var buckets = [Int](repeating: 0, count: 10)
        let n = 100_000
        for _ in 0..<n {
            let u = random.nextUnitDouble()
            #expect(u >= 0 && u < 1)
            buckets[Int(u * 10)] += 1
        }
        // Each bucket expects 10000 with sd ~95: 5 sd is a generous bound.
        for count in buckets { #expect(abs(count - n / 10) < 500) }
    }
}
