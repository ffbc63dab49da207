import Testing
import CBitNetKernels
@testable import BitNet

/// The F16C helpers against their Swift twins, on odd lengths and awkward values.
@Suite struct HalfVectorTests {
    static let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 64, 127, 128, 129, 1000]

    func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Float(rng.nextUnit() * 8 - 4) }
    }

    @Test(arguments: lengths)
    func conversionsMatchReference(n: Int) throws {
        try #require(bnk_cpu_has_avx2() != 0)
        var values = randomFloats(n, seed: UInt64(n) + 1)
        if n > 3 { values[0] = 65519; values[1] = 1e-8; values[2] = -0.0; values[3] = 70000 }
        var fast = [UInt16](repeating: 0, count: n), slow = fast
        bnk_f32_to_f16_avx2(values, &fast, n)
        HalfVector.storeReference(values, &slow, n)
        #expect(fast == slow)
        var back = [Float](repeating: 0, count: n), backSlow = back
        bnk_f16_to_f32_avx2(fast, &back, n)
        HalfVector.loadReference(slow, &backSlow, n)
        #expect(back.map(\.bitPattern) == backSlow.map(\.bitPattern))
    }

    @Test(arguments: lengths)
    func dotAndAxpyMatchReference(n: Int) throws {
        try #require(bnk_cpu_has_avx2() != 0)
        let a = randomFloats(n, seed: 7 &+ UInt64(n)), b = randomFloats(n, seed: 99 &+ UInt64(n))
        var halves = [UInt16](repeating: 0, count: n)
        HalfVector.storeReference(a, &halves, n)
        let fast = bnk_dot_f16_f32_avx2(halves, b, n)
        let slow = HalfVector.dotReference(halves, b, n)
        let magnitude = zip(a, b).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
        #expect(abs(fast - slow) <= 1e-5 * max(magnitude, 1))
        var y1 = b, y2 = b
        bnk_axpy_f16_f32_avx2(0.37, halves, &y1, n)
        HalfVector.axpyReference(0.37, halves, &y2, n)
        for i in 0..<n { #expect(abs(y1[i] - y2[i]) <= 1e-6 * max(abs(y2[i]), 1)) }
    }
}

extension SplitMix64 {
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
