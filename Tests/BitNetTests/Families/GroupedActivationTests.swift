import Testing
@testable import BitNet

/// Activations with one int8 scale per 256 columns (llama.cpp's Q8_K numerics,
/// used for qwen3): every kernel set against the reference (bit-exact), and the
/// reference against the definition y = Σ_g scale_r / s_tg · Σ_{k∈g} T·q.
@Suite struct GroupedActivationTests {
    static let simdSets = KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU }
    /// Widths with whole and partial last groups, padded and unpadded.
    static let widths = [256, 768, 320, 1000, 96, 2560]

    static func makeCase(rows: Int, cols: Int, tokens: Int, seed: UInt64)
        throws -> (values: [Int8], scales: [Float], matrix: PackedTernaryMatrix, x: QuantizedActivations)
    {
        var random = TestRandom(seed: seed)
        let values = (0..<rows * cols).map { _ in Int8(random.int(-1...1)) }
        let scales = (0..<rows).map { _ in random.float(0.01...2) }
        let matrix = try values.withUnsafeBufferPointer {
            try PackedTernaryMatrix(ternary: $0, rows: rows, cols: cols, rowScales: scales)
        }
        // Groups of very different magnitude, so per-group scales matter.
        let x = (0..<tokens * cols).map { i in random.float(-3...3) * (((i % cols) / 256) % 2 == 0 ? 1 : 40) }
        let activations = try QuantizedActivations(cols: cols, capacity: tokens, groupColumns: 256)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: tokens, stride: cols, kernels: .selected) }
        return (values, scales, matrix, activations)
    }

    static func run(_ matrix: PackedTernaryMatrix, _ x: QuantizedActivations, _ kernels: KernelSet) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count * matrix.rows)
        y.withUnsafeMutableBufferPointer {
            matrix.multiply(x, into: $0.baseAddress!, yStride: matrix.rows, rows: 0..<matrix.rows, kernels: kernels)
        }
        return y
    }

    @Test(arguments: widths)
    func referenceMatchesGroupedDefinition(cols: Int) throws {
        let rows = 7, tokens = 3
        let c = try Self.makeCase(rows: rows, cols: cols, tokens: tokens, seed: UInt64(cols))
        #expect(c.x.groups == (cols + 255) / 256)
        let y = Self.run(c.matrix, c.x, .reference)
        for t in 0..<tokens {
            let q = c.x.row(t)
            for r in 0..<rows {
                var expected: Float = 0
                for g in 0..<c.x.groups {
                    var dot: Int32 = 0
                    for k in (g * 256)..<min((g + 1) * 256, cols) { dot += Int32(c.values[r * cols + k]) * Int32(q[k]) }
                    let term = Float(dot) * c.scales[r] * (1 / c.x.scale(t, group: g))
                    expected = g == 0 ? term : expected + term
                }
                #expect(y[t * rows + r] == expected, "K \(cols) t\(t) r\(r)")
            }
        }
    }

    @Test(arguments: simdSets)
    func simdMatchesReferenceOnGroupedActivations(kernels: KernelSet) throws {
        for (index, cols) in Self.widths.enumerated() {
            for tokens in [1, 3, 4, 6] {
                let c = try Self.makeCase(rows: 13, cols: cols, tokens: tokens, seed: UInt64(50 * index + tokens))
                #expect(Self.run(c.matrix, c.x, kernels) == Self.run(c.matrix, c.x, .reference), "\(kernels) K \(cols) tokens \(tokens)")
            }
        }
    }

    /// A TQ2_0 weight whose scale varies along the row: weight groups and activation groups line up.
    @Test func tq2WithVaryingScalesAndGroupedActivations() throws {
        let rows = 5, cols = 512
        var random = TestRandom(seed: 9)
        var bytes = [UInt8]()
        var expectedWeights = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for g in 0..<2 {
                let d = Float16(Float(r + 1) * (g == 0 ? 0.5 : 0.25))
                var codes = [UInt8](repeating: 0, count: 64)
                for half in 0..<2 {
                    for n in 0..<4 {
                        for m in 0..<32 {
                            let code = UInt8(random.int(0...2))
                            codes[half * 32 + m] |= code << (2 * n)
                            expectedWeights[r * cols + g * 256 + half * 128 + n * 32 + m] = Float(Int(code) - 1) * Float(d)
                        }
                    }
                }
                bytes += codes
                withUnsafeBytes(of: d.bitPattern) { bytes += $0 }
            }
        }
        let matrix = try bytes.withUnsafeBytes { try PackedTernaryMatrix(type: 35, rows: rows, cols: cols, data: $0, extraScale: nil) }
        #expect(!matrix.hasRowScales)
        let x = (0..<cols).map { _ in random.float(-2...2) }
        let activations = try QuantizedActivations(cols: cols, capacity: 1, groupColumns: 256)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: 1, stride: cols, kernels: .selected) }
        let y = Self.run(matrix, activations, .reference)
        let q = activations.row(0)
        for r in 0..<rows {
            var expected: Float = 0
            for g in 0..<2 {
                var sum: Float = 0
                for k in (g * 256)..<((g + 1) * 256) { sum += expectedWeights[r * cols + k] * Float(q[k]) }
                expected += sum / activations.scale(0, group: g)
            }
            #expect(abs(y[r] - expected) <= 1e-4 * max(1, abs(expected)), "row \(r)")
        }
        for kernels in Self.simdSets { #expect(Self.run(matrix, activations, kernels) == y) }
    }
}
