#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import BitNet

@Suite struct FloatOpsTests {
    @Test func rmsNormMatchesDefinition() {
        let x: [Float] = [1, -2, 3, 0.5, -0.25]
        let w: [Float] = [1, 2, 0.5, 1, -1]
        var out = [Float](repeating: 0, count: 5)
        FloatOps.rmsNorm(x, weight: w, eps: 1e-5, into: &out, count: 5, kernels: .selected)
        let ms = x.map { Double($0 * $0) }.reduce(0, +) / 5
        for i in 0..<5 {
            let expected = Double(x[i]) / (ms + 1e-5).squareRoot() * Double(w[i])
            #expect(abs(Double(out[i]) - expected) < 1e-6)
        }
    }

    @Test func softmaxIsStableAndNormalized() {
        var x: [Float] = [1000, 1001, 999, -1e30]
        FloatOps.softmax(&x, count: 4)
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        #expect(x[1] > x[0] && x[0] > x[2] && x[3] == 0)
    }

    @Test func gates() {
        var out = [Float](repeating: 0, count: 3)
        FloatOps.relu2Gate([-1, 2, 3], [5, 0.5, -1], into: &out, count: 3)
        #expect(out == [0, 2, -9])
        FloatOps.siluGate([0, 1, -1], [1, 1, 2], into: &out, count: 3)
        #expect(out[0] == 0)
        #expect(abs(out[1] - 0.7310586) < 1e-6)
        #expect(abs(out[2] - 2 * -0.26894143) < 1e-6)
    }

    @Test func ropeRotatesHalvesAndKeepsNorm() {
        let rope = RoPE(headDim: 8, theta: 10000)
        var table = [Float](repeating: 0, count: 8)
        rope.fillTable(position: 0, into: &table)
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let original = x
        rope.apply(&x, heads: 1, table: table)
        #expect(x == original)  // position 0 is the identity
        rope.fillTable(position: 3, into: &table)
        rope.apply(&x, heads: 1, table: table)
        // pair 0 = (x[0], x[4]) turns by 3 radians (frequency 1)
        #expect(abs(x[0] - Float(1 * cos(3.0) - 5 * sin(3.0))) < 1e-5)
        #expect(abs(x[4] - Float(5 * cos(3.0) + 1 * sin(3.0))) < 1e-5)
        let norm = { (v: [Float]) in v.map { $0 * $0 }.reduce(0, +) }
        #expect(abs(norm(x) - norm(original)) < 1e-3)
    }
}
