import Testing
@testable import BitNet

@Suite struct ActivationQuantizationTests {
    func quantize(_ x: [Float]) throws -> QuantizedActivations {
        let activations = try QuantizedActivations(cols: x.count, capacity: 1)
        x.withUnsafeBufferPointer { activations.quantize($0, kernels: .selected) }
        return activations
    }

    @Test func roundsHalfToEvenAndKeepsTheSum() throws {
        // max|x| = 127 gives s = 1, so x·s is x itself.
        let x: [Float] = [127, 2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.4999, -127, 0]
        let a = try quantize(x)
        #expect(a.scale(0) == 1)
        #expect(Array(a.row(0)) == [127, 2, 4, -2, -4, 0, 0, 1, -127, 0])
        #expect(a.sum(0) == 127 + 2 + 4 - 2 - 4 + 1 - 127)
    }

    @Test func extremesAndDegenerateInputsDoNotTrap() throws {
        let zeros = try quantize([Float](repeating: 0, count: 64))
        #expect(zeros.scale(0) == 127 / 1e-5)
        #expect(zeros.row(0).allSatisfy { $0 == 0 })
        let constant = try quantize([Float](repeating: -3, count: 64))
        #expect(constant.row(0).allSatisfy { $0 == -127 })
        #expect(constant.sum(0) == -127 * 64)
        // NaN / infinity must not crash (values are unspecified but in range).
        var weird = [Float](repeating: 1, count: 64)
        weird[3] = .nan
        weird[9] = .infinity
        _ = try quantize(weird)
        _ = try quantize([Float](repeating: .nan, count: 64))
    }

    @Test func matchesADoublePrecisionDefinition() throws {
        var random = TestRandom(seed: 5)
        for cols in [1, 7, 64, 255, 2560] {
            let x = (0..<cols).map { _ in random.float(-10...10) * (random.int(0...9) == 0 ? 100 : 1) }
            let a = try quantize(x)
            let maxAbs = x.map { abs($0) }.max()!
            let s = 127 / max(maxAbs, 1e-5)
            #expect(a.scale(0) == s)
            var sum: Int32 = 0
            for (k, v) in x.enumerated() {
                let expected = Int8(max(-128, min(127, (v * s).rounded(.toNearestOrEven))))
                #expect(a.row(0)[k] == expected)
                sum += Int32(expected)
            }
            #expect(a.sum(0) == sum)
        }
    }

    @Test func tokensAreIndependent() throws {
        let cols = 96
        var random = TestRandom(seed: 9)
        let x = (0..<4 * 100).map { _ in random.float(-1...1) }
        let batch = try QuantizedActivations(cols: cols, capacity: 4)
        // stride 100 > cols: padding between rows is ignored
        x.withUnsafeBufferPointer { batch.quantize($0.baseAddress!, tokens: 4, stride: 100, kernels: .selected) }
        #expect(batch.count == 4)
        for t in 0..<4 {
            let single = try quantize(Array(x[t * 100..<t * 100 + cols]))
            #expect(Array(batch.row(t)) == Array(single.row(0)))
            #expect(batch.scale(t) == single.scale(0))
        }
    }
}
