import CBitNetKernels
import Testing
@testable import BitNet

/// The AVX2 sum of squares and activation quantization against their Swift
/// reference twins, bit for bit, on random rows of odd lengths and on the
/// inputs where rounding and clamping decide (halves, NaN, ±Inf, huge, tiny).
@Suite(.enabled(if: KernelSet.avx2.isSupportedByCPU)) struct ActivationRowKernelTests {
    static let lengths = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 2560, 6912, 6913]

    func rows(_ random: inout TestRandom, count: Int) -> [[Float]] {
        var rows: [[Float]] = []
        rows.append((0..<count).map { _ in random.float(-10...10) })
        rows.append((0..<count).map { _ in random.float(-1...1) * (random.int(0...9) == 0 ? 1e6 : 1e-3) })
        // Values that land on .5 after scaling by 1 (max|v| = 127).
        var halves = (0..<count).map { _ in Float(random.int(-254...254)) / 2 }
        if count > 0 { halves[random.int(0...(count - 1))] = 127 }
        rows.append(halves)
        rows.append([Float](repeating: 0, count: count))
        var special = (0..<count).map { _ in random.float(-5...5) }
        for value in [Float.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, 3e38] where count > 0 {
            special[random.int(0...(count - 1))] = value
        }
        rows.append(special)
        return rows
    }

    @Test func sumOfSquaresMatchesReference() {
        var random = TestRandom(seed: 11)
        for n in Self.lengths {
            for row in rows(&random, count: n) {
                let simd = row.withUnsafeBufferPointer { bnk_sum_squares_avx2($0.baseAddress, n) }
                let reference = row.withUnsafeBufferPointer { FloatOps.sumOfSquaresReference($0.baseAddress!, count: n) }
                #expect(simd.bitPattern == reference.bitPattern || (simd.isNaN && reference.isNaN), "n = \(n)")
            }
        }
    }

    @Test func sumOfSquaresIsCloseToASequentialSum() {
        var random = TestRandom(seed: 12)
        let x = (0..<6913).map { _ in random.float(-3...3) }
        let sequential = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let laned = x.withUnsafeBufferPointer { FloatOps.sumOfSquaresReference($0.baseAddress!, count: x.count) }
        #expect(abs(laned - sequential) <= 1e-12 * sequential)
    }

    @Test func quantizationMatchesReference() {
        var random = TestRandom(seed: 13)
        for n in Self.lengths {
            for row in rows(&random, count: n) {
                var simdQ = [Int8](repeating: 99, count: n), referenceQ = [Int8](repeating: -99, count: n)
                var simdSum: Int32 = 7, referenceSum: Int32 = -7
                let simdScale = row.withUnsafeBufferPointer { v in
                    simdQ.withUnsafeMutableBufferPointer { bnk_quantize_row_i8_avx2(v.baseAddress, n, $0.baseAddress, &simdSum) }
                }
                let referenceScale = row.withUnsafeBufferPointer { v in
                    referenceQ.withUnsafeMutableBufferPointer {
                        QuantizedActivations.quantizeRowReference(v.baseAddress!, count: n, into: $0.baseAddress!,
                                                                  sum: &referenceSum)
                    }
                }
                #expect(simdScale.bitPattern == referenceScale.bitPattern, "n = \(n)")
                #expect(simdQ == referenceQ, "n = \(n)")
                #expect(simdSum == referenceSum, "n = \(n)")
            }
        }
    }
}
