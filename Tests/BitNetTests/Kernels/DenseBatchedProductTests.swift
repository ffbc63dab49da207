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

    @Test(arguments: kernelSets)
    func batchedEqualsOneByOneOnTheSplitLayout(kernels: KernelSet) throws {
        for (rows, cols, seed) in [(45, 2560, 3), (257, 544, 4), (3, 32, 5)] as [(Int, Int, UInt64)] {
            try Q8_0SplitTests.withSplitMatrix(rows: rows, cols: cols, seed: seed) { _, split, random in
                for inputs in [2, 9] { try Self.check(split, inputs: inputs, kernels: kernels, random: &random) }
            }
        }
    }
}
