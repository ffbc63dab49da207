import CBitNetKernels
import Testing
@testable import BitNet

/// The batched dense product (a batched step's LM head): one pass over the
/// matrix for several inputs, each output bit-identical to the single-input
/// product, for every storage, the split Q8_0 layout and odd shapes.
@Suite struct DenseBatchedProductTests {
    static let kernelSets = KernelSet.allCases.filter { $0.isSupportedByCPU }

    static func check(_ matrix: DenseMatrix, inputs: Int, kernels: KernelSet, random: inout TestRandom) throws {
        let pool = try ThreadPool(threadCount: 3)
        let xs = (0..<inputs).map { _ in (0..<matrix.cols).map { _ in random.float(-3...3) } }
        var single = [[Float]](repeating: [Float](repeating: .nan, count: matrix.rows), count: inputs)
        for t in 0..<inputs {
            xs[t].withUnsafeBufferPointer { x in
                single[t].withUnsafeMutableBufferPointer { y in
                    matrix.multiply(x.baseAddress!, into: y.baseAddress!, pool: pool, kernels: kernels)
                }
            }
        }
        var batched = [Float](repeating: .nan, count: inputs * matrix.rows)
        let xPointers = xs.map { x in UnsafePointer(x.withUnsafeBufferPointer { $0.baseAddress! }) }
        // The arrays stay alive (and unmoved) for the call: `xs` is not mutated.
        withExtendedLifetime(xs) {
            batched.withUnsafeMutableBufferPointer { out in
                let yPointers = (0..<inputs).map { out.baseAddress! + $0 * matrix.rows }
                matrix.multiply(xPointers, into: yPointers, pool: pool, kernels: kernels)
            }
        }
        for t in 0..<inputs {
            let row = Array(batched[(t * matrix.rows)..<((t + 1) * matrix.rows)])
            #expect(row.map(\.bitPattern) == single[t].map(\.bitPattern),
                    "\(matrix.storage) \(matrix.layout) \(matrix.rows)x\(matrix.cols) input \(t) of \(inputs) (\(kernels))")
        }
    }

    @Test(arguments: kernelSets)
    func batchedEqualsOneByOne(kernels: KernelSet) throws {
        var random = TestRandom(seed: 11)
        // Rows beyond one cache block (a 96 KiB block is 37 rows of 2560 f16), odd counts.
        for storage in [DenseMatrix.Storage.f32, .f16, .q8_0] {
            for (rows, cols) in [(1, 64), (7, 96), (61, 2560), (300, 256), (1001, 32)] {
                let data = DenseMatrixTests.bytes(storage: storage, rows: rows, cols: cols, random: &random)
                try data.withUnsafeBytes { raw in
                    let matrix = try DenseMatrix(type: storage.rawValue, rows: rows, cols: cols, data: raw)
                    for inputs in [2, 5, 16] { try Self.check(matrix, inputs: inputs, kernels: kernels, random: &random) }
                }
            }
        }
    }

    /// The AVX2 kernel takes inputs in chunks of up to 8, fewer for long
    /// rows (24 KiB of int16 x: 4 at 2560 columns, 2 at 4128, 1 from 12288),
    /// so the counts include ones that leave a short last chunk; the columns
    /// have and lack a tail of plain blocks (cols % 512 != 0), and the pool's
    /// row parts and cache blocks give ranges of odd length and start.
    @Test(arguments: kernelSets)
    func batchedEqualsOneByOneOnTheSplitLayout(kernels: KernelSet) throws {
        let shapes: [(Int, Int, UInt64)] = [(45, 2560, 3), (257, 544, 4), (3, 32, 5), (41, 2592, 6), (19, 4128, 7),
                                            (5, 12800, 8)]
        for (rows, cols, seed) in shapes {
            try Q8_0SplitTests.withSplitMatrix(rows: rows, cols: cols, seed: seed) { _, split, random in
                for inputs in [2, 3, 5, 9, 16] { try Self.check(split, inputs: inputs, kernels: kernels, random: &random) }
            }
        }
    }

    typealias SingleKernel = @Sendable (UnsafePointer<Int8>?, UnsafePointer<UInt16>?, Int, Int, Int, UnsafePointer<Int16>?,
                              Float, UnsafeMutablePointer<Float>?) -> Void
    typealias MultiKernel = @Sendable (UnsafePointer<Int8>?, UnsafePointer<UInt16>?, Int, Int, Int, Int,
                             UnsafePointer<UnsafePointer<Int16>?>?, UnsafePointer<Float>?,
                             UnsafePointer<UnsafeMutablePointer<Float>?>?) -> Void

    /// Each x86 level's multi-input kernel beside its single-input twin
    /// (AVX-512 runs here under `make test-avx512-emulated` on an AVX2 host).
    static let multiInputKernels: [(KernelSet, SingleKernel, MultiKernel)] = [
        (.avx2, bnk_dot_q8_0_split_avx2, bnk_dot_q8_0_split_avx2_multi),
        (.avx512vnni, bnk_dot_q8_0_split_avx512vnni, bnk_dot_q8_0_split_avx512vnni_multi),
    ]

    /// The batched kernels called directly on odd row ranges: rows outside
    /// the range stay untouched, rows inside equal the single-input kernel's
    /// bit for bit, for every count up to two full chunks and more.
    @Test(arguments: multiInputKernels.indices)
    func multiInputKernelEqualsTheSingleKernelOnOddRanges(level: Int) throws {
        let (kernels, single, multi) = Self.multiInputKernels[level]
        guard kernels.isSupportedByCPU else { return }
        for (rows, cols, seed) in [(23, 2560, 21), (17, 1056, 22), (9, 96, 23), (6, 12800, 24)] as [(Int, Int, UInt64)] {
            try Q8_0SplitTests.withSplitMatrix(rows: rows, cols: cols, seed: seed) { _, split, random in
                let inputs = 19
                var prepared = [Int16](repeating: 0, count: inputs * cols)
                var scales = [Float](repeating: 0, count: inputs)
                for t in 0..<inputs {
                    let x = (0..<cols).map { _ in random.float(-3...3) }
                    prepared.withUnsafeMutableBufferPointer { out in
                        scales[t] = split.prepareQ8_0SplitInput(x, into: out.baseAddress! + t * cols).scale
                    }
                }
                let range = 3..<(rows - 2)
                prepared.withUnsafeBufferPointer { values in
                    let pointers = (0..<inputs).map { Optional(values.baseAddress! + $0 * cols) }
                    for count in 1...inputs {
                        var expected = [Float](repeating: .nan, count: count * rows), actual = expected
                        expected.withUnsafeMutableBufferPointer { y in
                            for t in 0..<count {
                                single(split.q8_0SplitQuants, split.q8_0SplitScales, cols, range.lowerBound,
                                       range.upperBound, pointers[t], scales[t], y.baseAddress! + t * rows)
                            }
                        }
                        actual.withUnsafeMutableBufferPointer { y in
                            let outputs = (0..<count).map { Optional(y.baseAddress! + $0 * rows) }
                            multi(split.q8_0SplitQuants, split.q8_0SplitScales, cols, range.lowerBound,
                                  range.upperBound, count, pointers, scales, outputs)
                        }
                        #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern),
                                "\(kernels) \(rows)x\(cols), \(count) inputs")
                    }
                }
            }
        }
    }
}
