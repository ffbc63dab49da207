import Testing
@testable import BitNet

/// Row lengths that are not a multiple of the kernels' 128-column block
/// (real checkpoints: 1bitLLM 3B has 3200 / 8640, tiny test models 320 / 96):
/// the matrix and the activations are padded with zeros, and the products
/// must equal the unpadded definition exactly.
@Suite struct PaddedWidthKernelTests {
    static let widths = [320, 3200, 8640, 1000, 96]
    static let simdSets = KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU }

    @Test func paddingRoundsUpToWholeBlocks() throws {
        #expect(PackedTernaryMatrix.paddedColumns(320) == 384)
        #expect(PackedTernaryMatrix.paddedColumns(8640) == 8704)
        #expect(PackedTernaryMatrix.paddedColumns(3200) == 3200)
        #expect(PackedTernaryMatrix.paddedColumns(96) == 128)
        let activations = try QuantizedActivations(cols: 1000, capacity: 2)
        #expect(activations.stride == 1024)
    }

    /// The reference kernel on padded rows equals Σ_k T·q over the real columns.
    @Test(arguments: widths)
    func referenceEqualsUnpaddedDefinition(cols: Int) throws {
        let rows = 9, tokens = 3
        let c = try TernaryKernelTests.makeCase(rows: rows, cols: cols, tokens: tokens, seed: UInt64(cols))
        #expect(c.matrix.paddedCols % 128 == 0 && c.matrix.paddedCols >= cols)
        let y = TernaryKernelTests.run(c, .reference)
        let stride = rows + 3
        for t in 0..<tokens {
            let q = c.activations.row(t)
            #expect(q.count == cols)
            for r in 0..<rows {
                var dot: Int32 = 0
                for k in 0..<cols { dot += Int32(c.values[r * cols + k]) * Int32(q[k]) }
                let expected = Float(dot) * c.rowScales[r] * (1 / c.activations.scale(t))
                #expect(y[t * stride + r] == expected, "K \(cols) t\(t) r\(r)")
            }
        }
    }

    /// Every SIMD kernel set matches the reference bit for bit on padded shapes.
    @Test(arguments: simdSets)
    func simdMatchesReferenceOnPaddedShapes(kernels: KernelSet) throws {
        for (index, cols) in Self.widths.enumerated() {
            for tokens in [1, 2, 4, 5] {
                let c = try TernaryKernelTests.makeCase(rows: 11, cols: cols, tokens: tokens,
                                                        seed: UInt64(1000 * index + tokens))
                let expected = TernaryKernelTests.run(c, .reference)
                let actual = TernaryKernelTests.run(c, kernels)
                #expect(actual.elementsEqual(expected, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }),
                        "\(kernels) K \(cols) tokens \(tokens)")
            }
        }
    }

    /// Float sources (F16 / F32 / BF16 ternary values) of any width load and
    /// keep T and β exactly; the padding reads as w = 0.
    @Test(arguments: widths)
    func floatSourcesLoadAnyWidth(cols: Int) throws {
        var random = TestRandom(seed: UInt64(cols) &+ 5)
        let rows = 5
        let beta = Float(0.0625)
        let values = (0..<rows * cols).map { _ in Float(random.int(-1...1)) * beta }
        let f32 = try values.withUnsafeBytes { try PackedTernaryMatrix(type: 0, rows: rows, cols: cols, data: $0, extraScale: nil) }
        let halves = values.map { Float16($0).bitPattern }
        let f16 = try halves.withUnsafeBytes { try PackedTernaryMatrix(type: 1, rows: rows, cols: cols, data: $0, extraScale: nil) }
        let bf16Bits = values.map { UInt16($0.bitPattern >> 16) }
        let bf16 = try bf16Bits.withUnsafeBytes { try PackedTernaryMatrix(type: 30, rows: rows, cols: cols, data: $0, extraScale: nil) }
        for matrix in [f32, f16, bf16] {
            #expect(matrix.cols == cols)
            for r in 0..<rows {
                for k in 0..<cols { #expect(matrix.weight(row: r, column: k) == values[r * cols + k]) }
                for k in cols..<matrix.paddedCols { #expect(matrix.ternaryValue(row: r, column: k) == 0) }
            }
        }
    }

    /// Block formats still need their own block size (checked by the GGUF parser too).
    @Test func blockFormatsKeepTheirBlockSize() {
        let raw = [UInt8](repeating: 0x55, count: 4096)
        raw.withUnsafeBytes { data in
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 35, rows: 1, cols: 320, data: data, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 1, cols: 96, data: data, extraScale: nil) }
        }
    }
}
