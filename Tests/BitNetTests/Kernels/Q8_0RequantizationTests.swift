import Testing
@testable import BitNet

/// F16 / F32 → Q8_0 requantization (the LM head at load): every kernel set is
/// bit-exact with the Swift reference, threads do not change the result, and
/// rows with no Q8_0 encoding throw instead of trapping.
@Suite struct Q8_0RequantizationTests {
    static let simdSets = KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU }
    static let supportedSets = KernelSet.allCases.filter(\.isSupportedByCPU)

    // MARK: - Test data

    /// Kinds of 32-value blocks that exercise the rounding and scale edges.
    enum BlockKind: CaseIterable {
        case uniform, zero, exactTies, nearTies, maxHalf, subnormal, wideRange
    }

    /// One block of values representable in `storage` (so the matrix holds
    /// exactly these numbers).
    static func block(_ kind: BlockKind, storage: DenseMatrix.Storage, random: inout TestRandom) -> [Float] {
        func representable(_ v: Float) -> Float { storage == .f16 ? Float(Float16(v)) : v }
        func sign() -> Float { random.next() & 1 == 0 ? 1 : -1 }
        switch kind {
        case .uniform:
            return (0..<32).map { _ in representable(random.float(-1...1)) }
        case .zero:
            return (0..<32).map { _ in random.next() & 1 == 0 ? 0 : -0.0 }
        case .exactTies, .nearTies:
            // max|x| = 127·2^k makes d = 2^k and 1/d exact, so (m + 0.5)·2^k
            // scales to exactly m + 0.5; the near kind nudges each value by an ulp.
            let scale = Float(sign: .plus, exponent: random.int(-12...3), significand: 1)
            var values: [Float] = (0..<32).map { _ in
                let m = Float(random.int(-127...126))
                let tie = (m + 0.5) * scale
                guard kind == .nearTies else { return tie }
                return representable(random.next() & 1 == 0 ? tie.nextUp : tie.nextDown)
            }
            values[random.int(0...31)] = sign() * 127 * scale
            return values
        case .maxHalf:
            // The largest f16 magnitude, and values in its range.
            var values = (0..<32).map { _ in representable(random.float(-65504...65504)) }
            values[random.int(0...31)] = sign() * 65504
            return values
        case .subnormal:
            // F16 subnormals; for F32, f32 subnormals, whose d is so small that 1/d
            // overflows (the reference's guarded case).
            return (0..<32).map { _ in
                storage == .f16
                    ? Float(Float16(bitPattern: UInt16(random.int(0...0x3FF)) | (random.next() & 1 == 0 ? 0 : 0x8000)))
                    : Float(bitPattern: UInt32(random.int(0...0x7F_FFFF)) | (random.next() & 1 == 0 ? 0 : 0x8000_0000))
            }
        case .wideRange:
            // Random exponents: most values vanish next to the block's largest.
            return (0..<32).map { _ in
                let exponent = storage == .f16 ? random.int(-24...15) : random.int(-149...21)
                return representable(sign() * Float(sign: .plus, exponent: exponent, significand: random.float(1...1.99)))
            }
        }
    }

    /// Matrix bytes in `storage` (F16 or F32) for row-major `values`.
    static func bytes(_ values: [Float], storage: DenseMatrix.Storage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 4)
        for v in values {
            if storage == .f16 {
                withUnsafeBytes(of: Float16(v).bitPattern) { out += $0 }
            } else {
                withUnsafeBytes(of: v) { out += $0 }
            }
        }
        return out
    }

    static func randomValues(rows: Int, cols: Int, storage: DenseMatrix.Storage, random: inout TestRandom) -> [Float] {
        var values: [Float] = []
        for _ in 0..<rows * cols / 32 {
            let kind = BlockKind.allCases[random.int(0...(BlockKind.allCases.count - 1))]
            values += block(kind, storage: storage, random: &random)
        }
        return values
    }

    /// Encodes rows `range` into a buffer pre-filled with 0xA5 (one extra row
    /// of slack at the end); returns the buffer and the first unencodable row.
    static func encode(_ matrix: DenseMatrix, rows range: Range<Int>, kernels: KernelSet) -> ([UInt8], Int?) {
        let rowBytes = DenseMatrix.q8_0RowBytes(cols: matrix.cols)
        var out = [UInt8](repeating: 0xA5, count: (matrix.rows + 1) * rowBytes)
        let bad = out.withUnsafeMutableBytes { matrix.quantizeRowsToQ8_0(range, into: $0.baseAddress!, kernels: kernels) }
        return (out, bad)
    }

    /// "byte i: a vs b" for the first difference (short failure messages), or nil.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String? {
        guard a.count == b.count else { return "sizes \(a.count) vs \(b.count)" }
        guard let i = a.indices.first(where: { a[$0] != b[$0] }) else { return nil }
        return "byte \(i) (block \(i / 34), offset \(i % 34)): \(a[i]) vs \(b[i])"
    }

    static func contents(_ matrix: DenseMatrix) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: matrix.base, count: matrix.byteCount))
    }

    // MARK: - The rule

    @Test(arguments: supportedSets)
    func encodingFollowsTheRule(kernels: KernelSet) throws {
        // max|x| = 127 → d = 1 (f16 0x3C00): q is x rounded half away from zero.
        let x: [Float] = [127, -127, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 126.5, -126.5,
                          0, -0.0, 3.25, -3.75] + [Float](repeating: 1, count: 16)
        let expected: [Int8] = [127, -127, 1, -1, 2, -2, 3, -3, 0, 0, 127, -127, 0, 0, 3, -4]
            + [Int8](repeating: 1, count: 16)
        // Then an all-zero block (d = 0, q = 0) and an f32-subnormal block whose 1/d
        // overflows (d rounds to f16 0, q = 0).
        let values = x + [Float](repeating: 0, count: 32)
            + (0..<32).map { Float(bitPattern: UInt32($0 * 1000 + 1)) * ($0 % 2 == 0 ? 1 : -1) }
        try Self.bytes(values, storage: .f32).withUnsafeBytes { raw in
            let matrix = try DenseMatrix(type: 0, rows: 1, cols: 96, data: raw)
            let (out, bad) = Self.encode(matrix, rows: 0..<1, kernels: kernels)
            #expect(bad == nil)
            #expect(out[0] == 0x00 && out[1] == 0x3C)
            #expect(out[2..<34].map { Int8(bitPattern: $0) } == expected)
            #expect(out[34..<102].allSatisfy { $0 == 0 }, "zero and tiny blocks encode as d = 0, q = 0")
        }
    }

    // MARK: - SIMD twins

    @Test(arguments: simdSets)
    func simdIsBitExact(kernels: KernelSet) throws {
        var random = TestRandom(seed: 0x08_0808)
        for storage in [DenseMatrix.Storage.f16, .f32] {
            for (rows, cols) in [(1, 32), (2, 64), (3, 96), (7, 160), (33, 32), (5, 2560), (64, 256)] {
                let values = Self.randomValues(rows: rows, cols: cols, storage: storage, random: &random)
                try Self.bytes(values, storage: storage).withUnsafeBytes { raw in
                    let matrix = try DenseMatrix(type: storage.rawValue, rows: rows, cols: cols, data: raw)
                    let (expected, expectedBad) = Self.encode(matrix, rows: 0..<rows, kernels: .reference)
                    let (actual, bad) = Self.encode(matrix, rows: 0..<rows, kernels: kernels)
                    #expect(expectedBad == nil && bad == nil)
                    #expect(Self.firstDifference(actual, expected) == nil, "\(storage) \(rows)x\(cols) \(kernels)")
                    // An inner row range writes exactly those rows.
                    guard rows >= 3 else { return }
                    let rowBytes = DenseMatrix.q8_0RowBytes(cols: cols)
                    let (inner, _) = Self.encode(matrix, rows: 1..<rows - 1, kernels: kernels)
                    let middle = rowBytes..<(rows - 1) * rowBytes
                    #expect(Self.firstDifference(Array(inner[middle]), Array(expected[middle])) == nil)
                    #expect(inner[..<rowBytes].allSatisfy { $0 == 0xA5 } && inner[((rows - 1) * rowBytes)...].allSatisfy { $0 == 0xA5 })
                }
            }
        }
    }

    // MARK: - Threads

    @Test func threadedMatchesSingleThreaded() throws {
        var random = TestRandom(seed: 31)
        let pool = try ThreadPool(threadCount: 2)
        for (storage, rows, cols) in [(DenseMatrix.Storage.f16, 1001, 96), (.f32, 257, 64), (.f16, 3, 32)] {
            let values = Self.randomValues(rows: rows, cols: cols, storage: storage, random: &random)
            try Self.bytes(values, storage: storage).withUnsafeBytes { raw in
                let matrix = try DenseMatrix(type: storage.rawValue, rows: rows, cols: cols, data: raw)
                let single = try matrix.quantizedToQ8_0(kernels: .reference)
                #expect(single.storage == .q8_0 && single.rows == rows && single.cols == cols)
                for kernels in Self.supportedSets {
                    let threaded = try matrix.quantizedToQ8_0(pool: pool, kernels: kernels)
                    #expect(Self.firstDifference(Self.contents(threaded), Self.contents(single)) == nil, "\(storage) \(rows)x\(cols) \(kernels)")
                }
            }
        }
    }

    // MARK: - Values with no encoding

    @Test(arguments: supportedSets)
    func unencodableValuesThrow(kernels: KernelSet) throws {
        let rows = 9, cols = 96
        let pool = try ThreadPool(threadCount: 2)
        let cases: [(DenseMatrix.Storage, Float, String)] = [
            (.f16, .nan, "non-finite"), (.f16, .infinity, "non-finite"), (.f16, -.infinity, "non-finite"),
            (.f32, .nan, "non-finite"), (.f32, -.infinity, "non-finite"),
            (.f32, 1e7, "too large"), (.f32, -.greatestFiniteMagnitude, "too large"),
        ]
        for (storage, bad, reason) in cases {
            var random = TestRandom(seed: 5)
            var values = Self.randomValues(rows: rows, cols: cols, storage: storage, random: &random)
            values[5 * cols + 37] = bad
            values[7 * cols + 90] = bad
            try Self.bytes(values, storage: storage).withUnsafeBytes { raw in
                let matrix = try DenseMatrix(type: storage.rawValue, rows: rows, cols: cols, data: raw)
                #expect(Self.encode(matrix, rows: 0..<rows, kernels: kernels).1 == 5)
                #expect(Self.encode(matrix, rows: 6..<rows, kernels: kernels).1 == 7)
                for usePool in [false, true] {
                    do throws(BitNetError) {
                        _ = try matrix.quantizedToQ8_0(pool: usePool ? pool : nil, kernels: kernels)
                        Issue.record("\(storage) \(bad) \(kernels): no error")
                    } catch {
                        #expect(error.status == .format)
                        #expect(error.message.contains("row 5 ") && error.message.contains(reason)
                                && error.message.contains("column 37"), "\(error.message)")
                    }
                }
            }
        }
    }

    @Test(arguments: supportedSets)
    func largestEncodableValuesWork(kernels: KernelSet) throws {
        // 8e6 / 127 ≈ 62992 fits in f16; 8.4e6 / 127 ≈ 66142 does not.
        for (value, fits) in [(Float(8e6), true), (-8e6, true), (8.4e6, false)] {
            let values = [value] + [Float](repeating: 1, count: 31)
            try Self.bytes(values, storage: .f32).withUnsafeBytes { raw in
                let matrix = try DenseMatrix(type: 0, rows: 1, cols: 32, data: raw)
                #expect((Self.encode(matrix, rows: 0..<1, kernels: kernels).1 == nil) == fits, "\(value)")
            }
        }
    }

    @Test func loadingWithAQ8HeadRejectsANaNInTheHead() throws {
        // Tied F16 embedding / head of the tiny model with one NaN (f16 0x7E00)
        // at token 3, column 10: stored as is it loads, requantized on request
        // it must throw, and by default it loads with the stored head.
        let tiny = TinyModel()
        var writer = tiny.writer()
        let index = try #require(writer.tensors.firstIndex { $0.name == "token_embd.weight" })
        var data = [UInt8](repeating: 0, count: tiny.nVocab * tiny.nEmbd * 2)
        data[(3 * tiny.nEmbd + 10) * 2 + 1] = 0x7E
        writer.tensors[index].data = .bytes(data)
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(caught { try Model(file: file, lmHead: .asStored) } == nil)
        // The default (automatic) falls back to the stored F16 head instead of failing.
        let automatic = try Model(file: file)
        #expect(automatic.weights?.lmHeadMatrix.storage == .f16)
        let error = caught { try Model(file: file, lmHead: .q8_0) }
        #expect(error?.status == .format)
        #expect(error?.message.contains("row 3 has a non-finite value") == true, "\(String(describing: error))")
    }
}
