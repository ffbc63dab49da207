import Testing
@testable import BitNet

/// F16 / Q8_0 / F32 row dots (embeddings, LM head): SIMD vs Swift reference.
@Suite struct DenseMatrixTests {
    static func bytes(storage: DenseMatrix.Storage, rows: Int, cols: Int, random: inout TestRandom) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<rows {
            switch storage {
            case .f32:
                for _ in 0..<cols { withUnsafeBytes(of: random.float(-1...1)) { out += $0 } }
            case .f16:
                for _ in 0..<cols { withUnsafeBytes(of: Float16(random.float(-1...1)).bitPattern) { out += $0 } }
            case .q8_0:
                for _ in 0..<cols / 32 {
                    withUnsafeBytes(of: Float16(random.float(0.001...0.05)).bitPattern) { out += $0 }
                    for _ in 0..<32 { out.append(UInt8(bitPattern: Int8(random.int(-128...127)))) }
                }
            }
        }
        return out
    }

    @Test(arguments: KernelSet.allCases.filter { $0 != .reference && $0.isSupportedByCPU })
    func simdMatchesReference(kernels: KernelSet) throws {
        var random = TestRandom(seed: 77)
        for storage in [DenseMatrix.Storage.f32, .f16, .q8_0] {
            for (rows, cols) in [(1, 32), (3, 96), (7, 2560), (33, 64), (5, 7), (2, 33), (9, 100)] {
                if storage == .q8_0 && cols % 32 != 0 { continue }
                let data = Self.bytes(storage: storage, rows: rows, cols: cols, random: &random)
                let x = (0..<cols).map { _ in random.float(-2...2) }
                try data.withUnsafeBytes { raw in
                    let matrix = try DenseMatrix(type: storage.rawValue, rows: rows, cols: cols, data: raw)
                    var expected = [Float](repeating: .nan, count: rows)
                    var actual = [Float](repeating: .nan, count: rows + 1)
                    x.withUnsafeBufferPointer { xs in
                        matrix.multiply(xs.baseAddress!, into: &expected, rows: 0..<rows, kernels: .reference)
                        matrix.multiply(xs.baseAddress!, into: &actual, rows: 1..<rows, kernels: kernels)
                    }
                    #expect(actual[0].isNaN && actual[rows].isNaN)
                    var row = [Float](repeating: 0, count: cols)
                    for r in 1..<rows {
                        matrix.row(r, into: &row)
                        let magnitude = zip(row, x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                        #expect(abs(actual[r] - expected[r]) <= 1e-5 * max(magnitude, 1),
                                "\(storage) \(rows)x\(cols) \(kernels) row \(r): \(actual[r]) vs \(expected[r])")
                    }
                }
            }
        }
    }

    @Test func q8RowDequantizes() throws {
        // One block: d = 0.5, q = -128...
        var block: [UInt8] = []
        withUnsafeBytes(of: Float16(0.5).bitPattern) { block += $0 }
        for j in 0..<32 { block.append(UInt8(bitPattern: Int8(j * 8 - 128))) }
        try block.withUnsafeBytes { raw in
            let matrix = try DenseMatrix(type: 8, rows: 1, cols: 32, data: raw)
            var row = [Float](repeating: 0, count: 32)
            matrix.row(0, into: &row)
            let expected: [Float] = (0..<32).map { (j: Int) -> Float in Float(j * 8 - 128) * 0.5 }
            #expect(row == expected)
        }
    }

    @Test func q8RequantizationStaysClose() throws {
        var random = TestRandom(seed: 4)
        let rows = 9, cols = 256
        let data = Self.bytes(storage: .f16, rows: rows, cols: cols, random: &random)
        try data.withUnsafeBytes { raw in
            let f16 = try DenseMatrix(type: 1, rows: rows, cols: cols, data: raw)
            let q8 = try f16.quantizedToQ8_0(kernels: .selected)
            #expect(q8.storage == .q8_0)
            var a = [Float](repeating: 0, count: cols), b = a
            for r in 0..<rows {
                f16.row(r, into: &a)
                q8.row(r, into: &b)
                for k in 0..<cols {
                    let blockMax = a[(k / 32 * 32)..<(k / 32 * 32 + 32)].map { abs($0) }.max()!
                    // half a quantization step plus the f16 rounding of d
                    #expect(abs(a[k] - b[k]) <= blockMax / 127 * 0.5 + blockMax * 1e-3)
                }
            }
            let x = (0..<cols).map { _ in random.float(-1...1) }
            var y16 = [Float](repeating: 0, count: rows), y8 = y16
            f16.multiply(x, into: &y16, rows: 0..<rows, kernels: .selected)
            q8.multiply(x, into: &y8, rows: 0..<rows, kernels: .selected)
            for r in 0..<rows { #expect(abs(y16[r] - y8[r]) <= 0.05) }
            // The pool-parallel form gives the same numbers as one call.
            let pool = try ThreadPool(threadCount: 2)
            var yPool = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xs in
                yPool.withUnsafeMutableBufferPointer { q8.multiply(xs.baseAddress!, into: $0.baseAddress!, pool: pool, kernels: .selected) }
            }
            #expect(yPool == y8)
        }
    }

    @Test func badShapesThrow() {
        let raw = [UInt8](repeating: 0, count: 100)
        raw.withUnsafeBytes { raw in
            #expect(throws: BitNetError.self) { try DenseMatrix(type: 1, rows: 10, cols: 10, data: raw) }
            #expect(throws: BitNetError.self) { try DenseMatrix(type: 8, rows: 1, cols: 33, data: raw) }
            #expect(throws: BitNetError.self) { try DenseMatrix(type: 14, rows: 1, cols: 32, data: raw) }
            #expect(throws: BitNetError.self) { try DenseMatrix(type: 0, rows: Int.max / 2, cols: 3, data: raw) }
        }
    }
}
