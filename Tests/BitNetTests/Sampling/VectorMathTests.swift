import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SIMD reductions against plain scalar loops (libm `exp` in Double).
@Suite struct VectorMathTests {
    static let sizes = [0, 1, 15, 16, 17, 33, 1000, 4099]

    @Test func expMatchesLibmOverTheUsedRange() {
        var worst = 0.0
        var x: Float = -87
        while x <= 0 {
            let got = Double(VectorMath.exp(x))
            let want = libmExp(Double(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 5e-7, "worst relative error \(worst)")
        #expect(VectorMath.exp(0) == 1)
        #expect(VectorMath.exp(-.infinity) == 0)
        #expect(VectorMath.exp(-100) == 0)
    }

    @Test(arguments: sizes)
    func reductionsMatchScalarLoops(size: Int) {
        let values = SamplingTestSupport.randomLogits(count: size, seed: UInt64(size) + 1, spread: 4)
        values.withUnsafeBufferPointer { buffer in
            let maximum = values.max() ?? -.infinity
            #expect(VectorMath.maximum(buffer) == maximum)
            guard size > 0 else { return }
            let reference = values.reduce(0.0) { $0 + libmExp(Double($1 - maximum)) }
            let got = Double(VectorMath.sumExp(buffer, minus: maximum))
            #expect(abs(got - reference) / reference < 1e-5)
            // With a few banned (−inf) entries, which must add 0 to both sums.
            var withBanned = values
            for index in stride(from: 0, to: size, by: 7) where values[index] != maximum { withBanned[index] = -.infinity }
            let (sumExp, weightedShift) = withBanned.withUnsafeBufferPointer {
                VectorMath.sumExpAndWeightedShift($0, minus: maximum)
            }
            var referenceSum = 0.0
            var referenceWeighted = 0.0
            for value in withBanned where value > -.infinity {
                let weight = libmExp(Double(value - maximum))
                referenceSum += weight
                referenceWeighted += weight * Double(value - maximum)
            }
            #expect(abs(Double(sumExp) - referenceSum) / referenceSum < 1e-5)
            #expect(abs(Double(weightedShift) - referenceWeighted) <= 1e-5 * abs(referenceWeighted) + 1e-6)
            var weights = [Float](repeating: -1, count: size)
            weights.withUnsafeMutableBufferPointer { VectorMath.storeExp(buffer, minus: maximum, into: $0) }
            for (value, weight) in zip(values, weights) {
                let want = libmExp(Double(value - maximum))
                #expect(abs(Double(weight) - want) <= 5e-7 * want)
            }
        }
    }

    @Test(arguments: sizes)
    func sanitizeReplacesOnlyNaNAndPlusInfinity(size: Int) {
        var values = SamplingTestSupport.randomLogits(count: size, seed: UInt64(size) + 9)
        var random = RandomGenerator(seed: UInt64(size))
        for index in values.indices {
            switch random.next() % 8 {
            case 0: values[index] = .nan
            case 1: values[index] = .infinity
            case 2: values[index] = -.infinity
            default: break
            }
        }
        var expected = values
        for index in expected.indices {
            if expected[index].isNaN { expected[index] = -.infinity }
            if expected[index] == .infinity { expected[index] = .greatestFiniteMagnitude }
        }
        values.withUnsafeMutableBufferPointer { VectorMath.sanitize($0) }
        #expect(values == expected)
    }
}

/// libm's double exp, named so it is not confused with `VectorMath.exp`.
private func libmExp(_ x: Double) -> Double { Glibc.exp(x) }
