import Testing
@testable import BitNet

@Suite struct KVQuantizationTests {
    static func randomFloats(_ n: Int, seed: UInt64, scale: Float = 3) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in (Float(rng.next() % 2_000_001) / 1_000_000 - 1) * scale }
    }

    @Test(arguments: [1, 7, 8, 15, 16, 17, 64, 100, 128, 131])
    func simdDotAndAxpyMatchTheReference(n: Int) {
        var rng = SplitMix64(seed: UInt64(n))
        let a = (0..<n).map { _ in Int8(truncatingIfNeeded: rng.next()) }
        let b = Self.randomFloats(n, seed: UInt64(n) + 100)
        let y0 = Self.randomFloats(n, seed: UInt64(n) + 200)
        let reference = KVQuantization.dotReference(a, b, n)
        let fast = KVQuantization.dot(a, b, n, kernels: .selected)
        #expect(abs(fast - reference) <= 1e-3 * max(1, abs(reference)), "n \(n): \(fast) vs \(reference)")
        var yReference = y0, yFast = y0
        KVQuantization.axpyReference(0.37, a, &yReference, n)
        KVQuantization.axpy(0.37, a, &yFast, n, kernels: .selected)
        for i in 0..<n { #expect(abs(yFast[i] - yReference[i]) <= 1e-4 * max(1, abs(yReference[i]))) }
    }

    @Test func quantizedRowsRoundTripWithinHalfAStep() {
        let heads = 3, headDim = 40
        var x = Self.randomFloats(heads * headDim, seed: 5)
        for i in 0..<headDim { x[headDim + i] *= 0.01 }     // a quiet head keeps its own scale
        for i in 0..<headDim { x[2 * headDim + i] = 0 }     // an all-zero head stays zero
        var row = [UInt8](repeating: 0, count: KVQuantization.rowBytes(heads: heads, headDim: headDim))
        var back = [Float](repeating: .nan, count: heads * headDim)
        row.withUnsafeMutableBytes { KVQuantization.quantize(x, heads: heads, headDim: headDim, into: $0.baseAddress!) }
        row.withUnsafeBytes { KVQuantization.dequantize($0.baseAddress!, heads: heads, headDim: headDim, into: &back) }
        for h in 0..<heads {
            let largest = x[(h * headDim)..<((h + 1) * headDim)].map(abs).max()!
            for i in (h * headDim)..<((h + 1) * headDim) {
                #expect(abs(back[i] - x[i]) <= largest / 127 / 2 * 1.0001 + 1e-12)
            }
        }
        #expect(back[(2 * headDim)..<(3 * headDim)].allSatisfy { $0 == 0 })
    }

    /// With heads·headDim not a multiple of 4, a row after the first starts
    /// at an odd address: scales must be read and written unaligned (a
    /// debug build traps on an aligned Float load there).
    @Test func rowsAtOddOffsetsRoundTrip() {
        let heads = 3, headDim = 5
        let rowBytes = KVQuantization.rowBytes(heads: heads, headDim: headDim)
        let x = Self.randomFloats(heads * headDim, seed: 9)
        var storage = [UInt8](repeating: 0, count: 1 + rowBytes)
        var back = [Float](repeating: .nan, count: heads * headDim)
        storage.withUnsafeMutableBytes { raw in
            let row = raw.baseAddress! + 1
            KVQuantization.quantize(x, heads: heads, headDim: headDim, into: row)
            KVQuantization.dequantize(row, heads: heads, headDim: headDim, into: &back)
            for h in 0..<heads {
                let (scale, _) = KVQuantization.head(UnsafeRawPointer(row), heads: heads, headDim: headDim, head: h)
                let largest = x[(h * headDim)..<((h + 1) * headDim)].map(abs).max()!
                #expect(scale == largest / 127)
            }
        }
        for i in x.indices { #expect(abs(back[i] - x[i]) <= 0.01 * max(1, abs(x[i]))) }
    }

    /// Every layout byte count agrees with what the cache allocates, and q8
    /// takes about half the bytes of f16 per token at a real head size.
    @Test func q8HalvesTheBytesPerToken() throws {
        let f16 = try KVCache.bytesPerToken(layers: 30, heads: 5, headDim: 128, type: .f16)
        let q8 = try KVCache.bytesPerToken(layers: 30, heads: 5, headDim: 128, type: .q8)
        #expect(f16 == 2 * 30 * 640 * 2)
        #expect(Double(f16) / Double(q8) > 1.9)
        let cache = try KVCache(layers: 2, capacity: 1000, heads: 2, headDim: 64, type: .q8, batch: 64, kernels: .selected)
        #expect(cache.totalBytes == (try KVCache.totalBytes(layers: 2, heads: 2, headDim: 64, type: .q8,
                                                              capacity: 1000, batch: 64)))
    }
}
