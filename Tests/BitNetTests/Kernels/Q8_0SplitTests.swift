import Testing
@testable import BitNet

/// The split Q8_0 layout of a requantized LM head: its requantization kernels
/// are bit-exact with the reference, its rows are exactly the ggml-layout
/// rows, and its int16-x product kernels match the Swift twin and stay
/// within the x-quantization bound of the f32 product.
@Suite struct Q8_0SplitTests {
    static let simdSets = KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU }
    static let supportedSets = KernelSet.allCases.filter(\.isSupportedByCPU)
    /// 1, 2, 3 blocks (all tail), one group, a group and a tail, 5 groups (2B4T), 2 groups + 15 tail blocks.
    static let shapes: [(rows: Int, cols: Int)] = [(1, 32), (2, 64), (3, 96), (5, 512), (7, 544), (33, 2560),
                                                   (4, 1504), (9, 32)]

    /// Row-major f16 bytes with values in ±1 scaled per row (rows of very different magnitude).
    static func f16Bytes(rows: Int, cols: Int, random: inout TestRandom) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows * cols * 2)
        for _ in 0..<rows {
            let rowScale = Float(sign: .plus, exponent: random.int(-8...2), significand: 1)
            for _ in 0..<cols { withUnsafeBytes(of: Float16(random.float(-1...1) * rowScale).bitPattern) { out += $0 } }
        }
        return out
    }

    static func randomX(_ cols: Int, random: inout TestRandom) -> [Float] {
        (0..<cols).map { _ in random.float(-3...3) }
    }

    static func withSplitMatrix(rows: Int, cols: Int, seed: UInt64,
                                _ body: (DenseMatrix, DenseMatrix, inout TestRandom) throws -> Void) throws {
        var random = TestRandom(seed: seed)
        let data = f16Bytes(rows: rows, cols: cols, random: &random)
        try data.withUnsafeBytes { raw in
            let f16 = try DenseMatrix(type: DenseMatrix.Storage.f16.rawValue, rows: rows, cols: cols, data: raw)
            let split = try f16.quantizedToQ8_0(kernels: .reference)
            try body(f16, split, &random)
        }
    }

    // MARK: - Layout

    @Test(arguments: supportedSets)
    func requantizationIsBitExactAndWritesOnlyItsRows(kernels: KernelSet) throws {
        for (rows, cols) in Self.shapes {
            var random = TestRandom(seed: UInt64(rows * 10_000 + cols))
            try Self.f16Bytes(rows: rows, cols: cols, random: &random).withUnsafeBytes { raw in
                let matrix = try DenseMatrix(type: DenseMatrix.Storage.f16.rawValue, rows: rows, cols: cols, data: raw)
                let total = rows * cols / 32 * 34
                var expected = [UInt8](repeating: 0xA5, count: total), actual = expected
                let expectedBad = expected.withUnsafeMutableBytes {
                    matrix.quantizeRowsToQ8_0SplitReference(0..<rows, into: $0.baseAddress!)
                }
                // An inner row range: the other rows keep the fill.
                let inner = rows >= 3 ? 1..<rows - 1 : 0..<rows
                let bad = actual.withUnsafeMutableBytes {
                    matrix.quantizeRowsToQ8_0Split(inner, into: $0.baseAddress!, kernels: kernels)
                }
                #expect(expectedBad == nil && bad == nil)
                let quantsPerRow = cols, scalesPerRow = cols / 32 * 2, scalesStart = rows * cols
                for r in 0..<rows {
                    let quantBytes = r * quantsPerRow..<(r + 1) * quantsPerRow
                    let scaleBytes = scalesStart + r * scalesPerRow..<scalesStart + (r + 1) * scalesPerRow
                    for range in [quantBytes, scaleBytes] {
                        if inner.contains(r) {
                            #expect(actual[range] == expected[range], "\(rows)x\(cols) \(kernels) row \(r)")
                        } else {
                            #expect(actual[range].allSatisfy { $0 == 0xA5 }, "\(rows)x\(cols) \(kernels) row \(r) touched")
                        }
                    }
                }
            }
        }
    }

    @Test func rowsEqualTheGGMLLayoutRows() throws {
        for (rows, cols) in Self.shapes {
            try Self.withSplitMatrix(rows: rows, cols: cols, seed: 5) { f16, split, _ in
                #expect(split.storage == .q8_0 && split.layout == .q8_0Split)
                #expect(split.byteCount == rows * cols / 32 * 34)
                var blocks = [UInt8](repeating: 0, count: split.byteCount)
                let bad = blocks.withUnsafeMutableBytes { f16.quantizeRowsToQ8_0(0..<rows, into: $0.baseAddress!, kernels: .reference) }
                #expect(bad == nil)
                try blocks.withUnsafeBytes { raw in
                    let ggml = try DenseMatrix(type: DenseMatrix.Storage.q8_0.rawValue, rows: rows, cols: cols, data: raw)
                    var a = [Float](repeating: 0, count: cols), b = a
                    for r in 0..<rows {
                        ggml.row(r, into: &a)
                        split.row(r, into: &b)
                        #expect(a == b, "\(rows)x\(cols) row \(r)")
                    }
                }
            }
        }
    }

    @Test func interleavedOffsetsArePermutation() {
        for cols in [32, 512, 544, 2560, 1504] {
            let interleaved = cols / 512 * 16
            let offsets = (0..<cols).map { DenseMatrix.q8_0SplitOffset(ofValue: $0, interleavedBlocks: interleaved) }
            #expect(Set(offsets) == Set(0..<cols), "cols \(cols)")
        }
        // Pair t of block i sits at t·32 + 2i: block 1's values 0, 1 right after block 0's.
        #expect(DenseMatrix.q8_0SplitOffset(ofValue: 32, interleavedBlocks: 16) == 2)
        #expect(DenseMatrix.q8_0SplitOffset(ofValue: 33, interleavedBlocks: 16) == 3)
        #expect(DenseMatrix.q8_0SplitOffset(ofValue: 2, interleavedBlocks: 16) == 32)
        #expect(DenseMatrix.q8_0SplitOffset(ofValue: 512 + 32 * 15 + 31, interleavedBlocks: 32) == 512 + 15 * 32 + 31)
    }

    // MARK: - Products

    @Test(arguments: simdSets)
    func simdMatchesReference(kernels: KernelSet) throws {
        for (rows, cols) in Self.shapes {
            try Self.withSplitMatrix(rows: rows, cols: cols, seed: UInt64(cols)) { _, split, random in
                let x = Self.randomX(cols, random: &random)
                var expected = [Float](repeating: .nan, count: rows)
                var actual = [Float](repeating: .nan, count: rows + 1)
                let lower = rows > 1 ? 1 : 0
                x.withUnsafeBufferPointer { xs in
                    split.multiply(xs.baseAddress!, into: &expected, rows: 0..<rows, kernels: .reference)
                    split.multiply(xs.baseAddress!, into: &actual, rows: lower..<rows, kernels: kernels)
                }
                #expect(actual[rows].isNaN && (lower == 0 || actual[0].isNaN), "wrote outside the range")
                var w = [Float](repeating: 0, count: cols)
                for r in lower..<rows {
                    split.row(r, into: &w)
                    let magnitude = zip(w, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                    #expect(abs(actual[r] - expected[r]) <= 1e-5 * magnitude + 1e-30,
                            "\(rows)x\(cols) \(kernels) row \(r): \(actual[r]) vs \(expected[r])")
                }
            }
        }
    }

    /// The int16 x changes each product by at most Σ|w| · max|x| / 65534
    /// (half a step of x's grid) plus f32 rounding.
    @Test(arguments: supportedSets)
    func staysWithinTheXQuantizationBound(kernels: KernelSet) throws {
        for (rows, cols) in Self.shapes {
            try Self.withSplitMatrix(rows: rows, cols: cols, seed: 99) { _, split, random in
                let x = Self.randomX(cols, random: &random)
                let maxX = x.map { abs($0) }.max()!
                var y = [Float](repeating: .nan, count: rows)
                x.withUnsafeBufferPointer { split.multiply($0.baseAddress!, into: &y, rows: 0..<rows, kernels: kernels) }
                var w = [Float](repeating: 0, count: cols)
                for r in 0..<rows {
                    split.row(r, into: &w)
                    var exact: Double = 0, sumW: Double = 0, magnitude: Double = 0
                    for k in 0..<cols {
                        exact += Double(w[k]) * Double(x[k])
                        sumW += Double(abs(w[k]))
                        magnitude += Double(abs(w[k] * x[k]))
                    }
                    let bound = sumW * Double(maxX) / 65534 + 1e-5 * magnitude
                    #expect(abs(Double(y[r]) - exact) <= bound, "\(rows)x\(cols) \(kernels) row \(r)")
                }
            }
        }
    }

    @Test(arguments: supportedSets)
    func nonFiniteXGivesNaNAndZeroXGivesZero(kernels: KernelSet) throws {
        try Self.withSplitMatrix(rows: 3, cols: 544, seed: 1) { _, split, _ in
            for bad in [Float.nan, .infinity, -.infinity] {
                var x = [Float](repeating: 0.5, count: 544)
                x[517] = bad
                var y = [Float](repeating: 0, count: 3)
                x.withUnsafeBufferPointer { split.multiply($0.baseAddress!, into: &y, rows: 0..<3, kernels: kernels) }
                #expect(y.allSatisfy { $0.isNaN }, "\(bad) \(kernels)")
            }
            let zero = [Float](repeating: 0, count: 544)
            var y = [Float](repeating: .nan, count: 3)
            zero.withUnsafeBufferPointer { split.multiply($0.baseAddress!, into: &y, rows: 0..<3, kernels: kernels) }
            #expect(y == [0, 0, 0])
        }
    }

    @Test func poolMatchesOneCallAndArenaCopyKeepsTheLayout() throws {
        let pool = try ThreadPool(threadCount: 2)
        try Self.withSplitMatrix(rows: 1001, cols: 544, seed: 8) { f16, _, random in
            let threaded = try f16.quantizedToQ8_0(pool: pool, kernels: .selected)
            let copy = try threaded.copied(into: HugePageArena(), pool: nil, releasingSource: false)
            #expect(copy.layout == .q8_0Split)
            let x = Self.randomX(544, random: &random)
            var single = [Float](repeating: .nan, count: 1001), parallel = single, copied = single
            x.withUnsafeBufferPointer { xs in
                threaded.multiply(xs.baseAddress!, into: &single, rows: 0..<1001, kernels: .selected)
                parallel.withUnsafeMutableBufferPointer { threaded.multiply(xs.baseAddress!, into: $0.baseAddress!, pool: pool, kernels: .selected) }
                copied.withUnsafeMutableBufferPointer { copy.multiply(xs.baseAddress!, into: $0.baseAddress!, pool: pool, kernels: .selected) }
            }
            #expect(parallel == single && copied == single)
        }
    }
}
