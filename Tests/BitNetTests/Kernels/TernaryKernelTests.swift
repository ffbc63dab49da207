import Testing
@testable import BitNet

/// Every ternary kernel set against the Swift reference (bit-exact), and the
/// reference against a naive definition computed from the unpacked values.
@Suite struct TernaryKernelTests {
    static let simdSets = KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU }
    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 128), (3, 256), (7, 384), (33, 2560), (4, 128), (9, 6912), (64, 640), (13, 1152),
    ]

    struct Case {
        var values: [Int8]
        var rowScales: [Float]
        var matrix: PackedTernaryMatrix
        var activations: QuantizedActivations
    }

    static func makeCase(rows: Int, cols: Int, tokens: Int, seed: UInt64, groupColumns: Int? = nil) throws -> Case {
        var random = TestRandom(seed: seed)
        let values = (0..<rows * cols).map { _ in Int8(random.int(-1...1)) }
        let rowScales = (0..<rows).map { _ in random.float(0.01...2) }
        let matrix = try values.withUnsafeBufferPointer {
            try PackedTernaryMatrix(ternary: $0, rows: rows, cols: cols, rowScales: rowScales)
        }
        let x = (0..<tokens * cols).map { _ in random.float(-3...3) }
        let activations = try QuantizedActivations(cols: cols, capacity: tokens, groupColumns: groupColumns)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: tokens, stride: cols, kernels: .selected) }
        return Case(values: values, rowScales: rowScales, matrix: matrix, activations: activations)
    }

    static func run(_ c: Case, _ kernels: KernelSet, rows: Range<Int>? = nil, fill: Float = .nan) -> [Float] {
        let tokens = c.activations.count
        let stride = c.matrix.rows + 3  // an output stride larger than rows
        var y = [Float](repeating: fill, count: tokens * stride)
        y.withUnsafeMutableBufferPointer {
            c.matrix.multiply(c.activations, into: $0.baseAddress!, yStride: stride,
                              rows: rows ?? 0..<c.matrix.rows, kernels: kernels)
        }
        return y
    }

    @Test func referenceMatchesNaiveDefinition() throws {
        for (index, shape) in Self.shapes.enumerated() {
            let c = try Self.makeCase(rows: shape.rows, cols: shape.cols, tokens: 3, seed: UInt64(index))
            let y = Self.run(c, .reference)
            let stride = shape.rows + 3
            for t in 0..<3 {
                let q = c.activations.row(t)
                for r in 0..<shape.rows {
                    var dot: Int32 = 0
                    for k in 0..<shape.cols { dot += Int32(c.values[r * shape.cols + k]) * Int32(q[k]) }
                    let expected = Float(dot) * c.rowScales[r] * (1 / c.activations.scale(t))
                    #expect(y[t * stride + r] == expected, "\(shape) t\(t) r\(r)")
                    #expect(c.matrix.ternaryValue(row: r, column: 5 % shape.cols) == c.values[r * shape.cols + 5 % shape.cols])
                }
                // Padding columns of y are untouched.
                #expect(y[t * stride + shape.rows].isNaN)
            }
        }
    }

    @Test(arguments: simdSets)
    func simdMatchesReferenceExactly(kernels: KernelSet) throws {
        for (index, shape) in Self.shapes.enumerated() {
            // Token counts around the kernels' groups (4 and 8 per pass, 16 per chunk).
            for tokens in [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 19] {
                let c = try Self.makeCase(rows: shape.rows, cols: shape.cols, tokens: tokens,
                                          seed: UInt64(100 * index + tokens))
                let expected = Self.run(c, .reference)
                let actual = Self.run(c, kernels)
                #expect(actual.elementsEqual(expected, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }),
                        "\(kernels) \(shape) tokens \(tokens)")
            }
        }
    }

    /// Row ranges that start and end inside a tile, over short rows (3 blocks)
    /// and rows of several 16-block runs (20 and 54 blocks), for token counts
    /// that leave partial token groups and chunks.
    @Test(arguments: simdSets)
    func rowRangesWriteOnlyTheirRows(kernels: KernelSet) throws {
        for (cols, tokens, trials) in [(384, 5, 40), (2560, 9, 12), (6912, 17, 6)] {
            let c = try Self.makeCase(rows: 37, cols: cols, tokens: tokens, seed: UInt64(7 + cols))
            let full = Self.run(c, .reference)
            var random = TestRandom(seed: 11)
            for _ in 0..<trials {
                let lower = random.int(0...36)
                let upper = random.int(lower...37)
                let part = Self.run(c, kernels, rows: lower..<upper)
                let stride = 40
                for t in 0..<tokens {
                    for r in 0..<37 {
                        let value = part[t * stride + r]
                        if (lower..<upper).contains(r) {
                            #expect(value == full[t * stride + r], "cols \(cols) tokens \(tokens) t\(t) r\(r)")
                        } else {
                            #expect(value.isNaN, "row \(r) outside \(lower)..<\(upper) written")
                        }
                    }
                }
            }
        }
        let c = try Self.makeCase(rows: 37, cols: 384, tokens: 5, seed: 7)
        // Tile-aligned splits cover every row exactly once.
        for parts in 1...5 {
            let ranges = (0..<parts).map { c.matrix.rowRange(part: $0, of: parts) }
            #expect(ranges.flatMap { Array($0) } == Array(0..<37))
            #expect(ranges.allSatisfy { $0.lowerBound % PackedTernaryMatrix.tileRows == 0 || $0.isEmpty })
        }
    }

    /// Activations with a scale per 256 columns run the kernels once per
    /// group: block ranges that are not the whole row (2 blocks, or 1 for the
    /// last group of 384 columns), and every group after the first in
    /// accumulate mode.
    @Test(arguments: simdSets)
    func blockRangesAndAccumulateMatchReference(kernels: KernelSet) throws {
        for (rows, cols) in [(9, 384), (6, 2560), (5, 6912)] {
            for tokens in [1, 2, 4, 5, 8, 9, 17] {
                let c = try Self.makeCase(rows: rows, cols: cols, tokens: tokens,
                                          seed: UInt64(1000 + cols + tokens), groupColumns: 256)
                let expected = Self.run(c, .reference)
                let actual = Self.run(c, kernels)
                #expect(actual.elementsEqual(expected, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }),
                        "\(kernels) \(rows)x\(cols) tokens \(tokens)")
                let inner = Self.run(c, kernels, rows: 1..<rows - 1)
                let innerExpected = Self.run(c, .reference, rows: 1..<rows - 1)
                #expect(inner.elementsEqual(innerExpected, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }),
                        "\(kernels) \(rows)x\(cols) tokens \(tokens) rows 1..<\(rows - 1)")
            }
        }
    }

    @Test func poolMultiplyMatchesSingleThread() throws {
        for threads in [1, 2, 3] {
            let pool = try ThreadPool(threadCount: threads)
            for (rows, tokens) in [(1, 1), (7, 1), (45, 3), (130, 6)] {
                let c = try Self.makeCase(rows: rows, cols: 256, tokens: tokens, seed: UInt64(rows * tokens))
                let expected = Self.run(c, .selected)
                var y = [Float](repeating: .nan, count: tokens * (rows + 3))
                y.withUnsafeMutableBufferPointer {
                    c.matrix.multiply(c.activations, into: $0.baseAddress!, yStride: rows + 3, pool: pool, kernels: .selected)
                }
                #expect(y.elementsEqual(expected, by: { $0 == $1 || ($0.isNaN && $1.isNaN) }), "threads \(threads) rows \(rows)")
            }
        }
    }

    @Test func groupedProductsMatchSeparateOnes() throws {
        let pool = try ThreadPool(threadCount: 2)
        let tokens = 3, cols = 384
        let shapes = [45, 5, 130]  // three matrices sharing one input
        var random = TestRandom(seed: 31)
        let matrices = try shapes.map { rows in
            let values = (0..<rows * cols).map { _ in Int8(random.int(-1...1)) }
            return try values.withUnsafeBufferPointer {
                try PackedTernaryMatrix(ternary: $0, rows: rows, cols: cols, rowScales: (0..<rows).map { _ in random.float(0.1...1) })
            }
        }
        let x = (0..<tokens * cols).map { _ in random.float(-2...2) }
        let activations = try QuantizedActivations(cols: cols, capacity: tokens)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: tokens, stride: cols, kernels: .selected) }
        var grouped = shapes.map { [Float](repeating: .nan, count: tokens * $0) }
        var separate = grouped
        for i in 0..<3 {
            separate[i].withUnsafeMutableBufferPointer {
                matrices[i].multiply(activations, into: $0.baseAddress!, yStride: shapes[i], rows: 0..<shapes[i], kernels: .selected)
            }
        }
        let buffers = grouped.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: grouped[i].count) }
        defer { buffers.forEach { $0.deallocate() } }
        for i in 0..<3 { buffers[i].initialize(repeating: .nan, count: grouped[i].count) }
        PackedTernaryMatrix.multiply((0..<3).map { TernaryProductTarget(matrices[$0], into: buffers[$0], yStride: shapes[$0]) },
                                     activations, pool: pool, kernels: .selected)
        for i in 0..<3 {
            grouped[i] = Array(UnsafeBufferPointer(start: buffers[i], count: grouped[i].count))
            #expect(grouped[i] == separate[i])
        }
    }

    /// Extreme activations (q = +127 everywhere, or −128, which the quantizer
    /// never produces but the kernels must handle) with all-(+1) and all-(−1)
    /// weights over the longest real row: no int16 saturation, no overflow.
    @Test(arguments: KernelSet.allCases.filter(\.isSupportedByCPU))
    func worstCaseActivations(kernels: KernelSet) throws {
        let cols = 6912, rows = 5
        for weight: Int8 in [1, -1] {
            for qValue: Int8 in [127, -128] {
                let values = [Int8](repeating: weight, count: rows * cols)
                let matrix = try values.withUnsafeBufferPointer {
                    try PackedTernaryMatrix(ternary: $0, rows: rows, cols: cols, rowScales: Array(repeating: 1, count: rows))
                }
                let activations = try QuantizedActivations(cols: cols, capacity: 17)
                for t in 0..<17 {
                    let q = activations.values.typed(Int8.self) + t * cols
                    for k in 0..<cols { q[k] = qValue }
                    activations.sums.typed(Int32.self)[t] = Int32(qValue) * Int32(cols)
                    activations.inverseScales.typed(Float.self)[t] = 1
                }
                for tokens in [1, 4, 8, 17] {
                    activations.setCountForTesting(tokens)
                    var y = [Float](repeating: .nan, count: tokens * rows)
                    y.withUnsafeMutableBufferPointer {
                        matrix.multiply(activations, into: $0.baseAddress!, yStride: rows, rows: 0..<rows, kernels: kernels)
                    }
                    let expected = Float(Int(weight) * Int(qValue) * cols)
                    #expect(y.allSatisfy { $0 == expected }, "\(kernels) w=\(weight) q=\(qValue) tokens=\(tokens): \(y[0]) != \(expected)")
                }
            }
        }
    }

    /// TQ2_0 blocks whose scale `d` changes along a row take the per-group path.
    @Test(arguments: KernelSet.allCases.filter(\.isSupportedByCPU))
    func varyingBlockScales(kernels: KernelSet) throws {
        let rows = 6, cols = 768, groups = cols / 256
        var random = TestRandom(seed: 3)
        var values = [Int8](repeating: 0, count: rows * cols)
        var scales = [Float](repeating: 0, count: rows * groups)
        var bytes = [UInt8](repeating: 0, count: rows * groups * 66)
        for r in 0..<rows {
            for g in 0..<groups {
                let block = (r * groups + g) * 66
                let d = Float(Float16(random.float(0.1...1)))
                scales[r * groups + g] = d
                let bits = Float16(d).bitPattern
                bytes[block + 64] = UInt8(bits & 0xFF)
                bytes[block + 65] = UInt8(bits >> 8)
                for e in 0..<256 {
                    let v = random.int(-1...1)
                    values[r * cols + g * 256 + e] = Int8(v)
                    // element 128j + m + 32n lives in byte 32j + m at bits 2n.
                    let j = e / 128, n = (e % 128) / 32, m = e % 32
                    bytes[block + 32 * j + m] |= UInt8(v + 1) << (2 * n)
                }
            }
        }
        let matrix = try bytes.withUnsafeBytes {
            try PackedTernaryMatrix(type: 35, rows: rows, cols: cols, data: $0, extraScale: 0.5)
        }
        #expect(!matrix.hasRowScales)
        for r in 0..<rows {
            for k in stride(from: 0, to: cols, by: 37) {
                #expect(matrix.weight(row: r, column: k) == Float(values[r * cols + k]) * scales[r * groups + k / 256] * 0.5)
            }
        }
        let x = (0..<3 * cols).map { _ in random.float(-1...1) }
        let activations = try QuantizedActivations(cols: cols, capacity: 3)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: 3, stride: cols, kernels: .selected) }
        var y = [Float](repeating: .nan, count: 3 * rows)
        y.withUnsafeMutableBufferPointer {
            matrix.multiply(activations, into: $0.baseAddress!, yStride: rows, rows: 0..<rows, kernels: kernels)
        }
        for t in 0..<3 {
            let q = activations.row(t)
            for r in 0..<rows {
                var expected = 0.0
                for k in 0..<cols {
                    expected += Double(values[r * cols + k]) * Double(q[k]) * Double(scales[r * groups + k / 256]) * 0.5
                }
                expected /= Double(activations.scale(t))
                #expect(abs(Double(y[t * rows + r]) - expected) <= 1e-5 * max(1, abs(expected)))
            }
        }
    }

    @Test func invalidInputsThrow() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        try zeros.withUnsafeBytes { raw in
            // Row length not a multiple of 128 / 256.
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 4, cols: 100, data: raw, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 35, rows: 4, cols: 384, data: raw, extraScale: nil) }
            // Too few bytes.
            #expect(throws: BitNetError.self) {
                try PackedTernaryMatrix(type: 36, rows: 64, cols: 1024,
                                        data: UnsafeRawBufferPointer(rebasing: raw[0..<(64 * 1024 / 4)]), extraScale: nil)
            }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 34, rows: 2000, cols: 256, data: raw, extraScale: nil) }
            // Unknown type, absurd shapes, non-finite extra scale.
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 12, rows: 4, cols: 256, data: raw, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 0, cols: 256, data: raw, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: -4, cols: 256, data: raw, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: Int.max / 2, cols: 1 << 30, data: raw, extraScale: nil) }
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 4, cols: 128, data: raw, extraScale: .infinity) }
            // Valid all-zero I2_S is code 0 = −1 everywhere with scale 0: accepted.
            _ = try PackedTernaryMatrix(type: 36, rows: 4, cols: 128, data: raw, extraScale: nil)
        }
        // Code 3 is invalid in I2_S and TQ2_0; a NaN scale is a format error.
        var bad = [UInt8](repeating: 0x55, count: 4 * 128 / 4 + 32)
        bad[17] = 0x57
        _ = bad.withUnsafeBytes { raw in
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 4, cols: 128, data: raw, extraScale: nil) }
        }
        var tq2 = [UInt8](repeating: 0x55, count: 66)
        tq2[3] = 0xC0
        _ = tq2.withUnsafeBytes { raw in
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 35, rows: 1, cols: 256, data: raw, extraScale: nil) }
        }
        var nanScale = [UInt8](repeating: 0x55, count: 4 * 128 / 4 + 32)
        nanScale.replaceSubrange(128..<132, with: [0, 0, 0xC0, 0x7F])
        _ = nanScale.withUnsafeBytes { raw in
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 36, rows: 4, cols: 128, data: raw, extraScale: nil) }
        }
        // Non-finite float weights.
        var floats = [Float](repeating: 0.5, count: 128)
        floats[9] = .nan
        _ = floats.withUnsafeBytes { raw in
            #expect(throws: BitNetError.self) { try PackedTernaryMatrix(type: 0, rows: 1, cols: 128, data: raw, extraScale: nil) }
        }
    }

    /// Float weights that are not ternary-valued go through the absmean rule.
    @Test func absmeanTernarization() throws {
        let rows = 5, cols = 256
        var random = TestRandom(seed: 21)
        let weights = (0..<rows * cols).map { _ in random.float(-1...1) }
        let matrix = try weights.withUnsafeBytes {
            try PackedTernaryMatrix(type: 0, rows: rows, cols: cols, data: $0, extraScale: nil)
        }
        let gamma = Float(weights.reduce(0.0) { $0 + Double(abs($1)) } / Double(weights.count))
        var differences = 0
        for r in 0..<rows {
            for k in 0..<cols {
                let expected = max(-1, min(1, (weights[r * cols + k] * (1 / gamma)).rounded(.toNearestOrEven)))
                if Float(matrix.ternaryValue(row: r, column: k)) != expected { differences += 1 }
                #expect(abs(matrix.scale(row: r, column: k) - gamma) <= 1e-6 * gamma)
            }
        }
        #expect(differences == 0)
        // Already-ternary BF16 weights keep T and β exactly.
        let beta = Float(0.375)
        let ternary = (0..<cols).map { _ in Float(random.int(-1...1)) * beta }
        let bf16 = ternary.map { UInt16($0.bitPattern >> 16) }
        let exact = try bf16.withUnsafeBytes { try PackedTernaryMatrix(type: 30, rows: 1, cols: cols, data: $0, extraScale: 2) }
        for k in 0..<cols { #expect(exact.weight(row: 0, column: k) == ternary[k] * 2) }
    }
}

extension QuantizedActivations {
    /// Lets tests that fill `values` by hand set how many tokens are valid.
    func setCountForTesting(_ tokens: Int) {
        precondition(tokens <= capacity)
        setCount(tokens)
    }
}
