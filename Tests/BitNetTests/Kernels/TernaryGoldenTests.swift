import Testing
@testable import BitNet

/// The ternary decoders against the golden m1 files: the I2_S, TQ1_0, TQ2_0
/// and F16 files hold bit-identical weights, and the BitLinear vectors fix the
/// paper numerics exactly.
@Suite struct TernaryGoldenTests {
    static let files = [
        "m1-b158-relu2-i2_s.gguf", "m1-bitnet-relu2-tq2_0.gguf",
        "m1-bitnet-relu2-tq1_0.gguf", "m1-bitnet-relu2-f16.gguf",
    ]
    static let projections = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]

    /// All linear weights of one golden file, packed.
    static func load(_ file: String) throws -> [String: PackedTernaryMatrix] {
        let gguf = try GGUFFile(path: SharedData.golden(file))
        var result: [String: PackedTernaryMatrix] = [:]
        for layer in 0..<2 {
            for projection in projections {
                let name = "blk.\(layer).\(projection).weight"
                let tensor = try #require(gguf.tensor(named: name))
                result[name] = try PackedTernaryMatrix(
                    type: tensor.type.id, rows: tensor.dims[1], cols: tensor.dims[0],
                    data: gguf.data(of: tensor), extraScale: nil)
            }
        }
        return result
    }

    @Test func allFormatsDecodeToTheF16Weights() throws {
        let f16 = try GGUFFile(path: SharedData.golden("m1-bitnet-relu2-f16.gguf"))
        let decoded = try Self.files.map { try Self.load($0) }
        #expect(f16.tensors.filter { decoded[0][$0.name] != nil }.count == 14)
        for tensor in f16.tensors where decoded[0][tensor.name] != nil {
            let name = tensor.name
            #expect(tensor.type == .f16)
            let rows = tensor.dims[1], cols = tensor.dims[0]
            var zeros = 0
            let raw = f16.data(of: tensor)
            do {
                for r in 0..<rows {
                    for k in 0..<cols {
                        let bits = raw.loadUnaligned(fromByteOffset: 2 * (r * cols + k), as: UInt16.self)
                        let expected = Float(Float16(bitPattern: bits))
                        if expected == 0 { zeros += 1 }
                        for (file, matrices) in zip(Self.files, decoded) {
                            let matrix = try #require(matrices[name])
                            if matrix.weight(row: r, column: k) != expected {
                                Issue.record("\(file) \(name)[\(r)][\(k)]: \(matrix.weight(row: r, column: k)) != \(expected)")
                                return
                            }
                        }
                    }
                }
            }
            // The weights really are ternary with zeros and both signs (not a degenerate file).
            #expect(zeros > rows * cols / 10 && zeros < rows * cols / 2)
            for matrices in decoded { #expect(matrices[name]!.hasRowScales) }
        }
    }

    @Test(arguments: KernelSet.allCases.filter(\.isSupportedByCPU))
    func bitLinearVectorsMatch(kernels: KernelSet) throws {
        let vectors = try #require(GoldenData.BitLinearVectors())
        let points = [
            "attn_in": ["attn_q", "attn_k", "attn_v"], "attn_sub": ["attn_output"],
            "ffn_in": ["ffn_gate", "ffn_up"], "ffn_sub": ["ffn_down"],
        ]
        for file in Self.files {
            let matrices = try Self.load(file)
            for layer in 0..<2 {
                for (point, projections) in points {
                    let x = vectors.floats("L\(layer).\(point).x")
                    let qExpected = vectors.int8s("L\(layer).\(point).q")
                    let sExpected = vectors.floats("L\(layer).\(point).s")
                    let tokens = sExpected.count
                    try #require(tokens == 16)
                    let cols = x.count / tokens
                    let activations = try QuantizedActivations(cols: cols, capacity: tokens)
                    x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: tokens, stride: cols, kernels: .selected) }
                    for t in 0..<tokens {
                        #expect(Array(activations.row(t)) == Array(qExpected[t * cols..<(t + 1) * cols]))
                        #expect(activations.scale(t) == sExpected[t])
                    }
                    for projection in projections {
                        let matrix = try #require(matrices["blk.\(layer).\(projection).weight"])
                        let yExpected = vectors.floats("L\(layer).\(projection).y")
                        let rows = matrix.rows
                        try #require(yExpected.count == tokens * rows)
                        let bound = 1e-5 * yExpected.map { abs($0) }.max()!
                        // Batched (prompt) path: all 16 tokens at once.
                        var y = [Float](repeating: .nan, count: tokens * rows)
                        y.withUnsafeMutableBufferPointer {
                            matrix.multiply(activations, into: $0.baseAddress!, yStride: rows, rows: 0..<rows, kernels: kernels)
                        }
                        let worst = zip(y, yExpected).map { abs($0 - $1) }.max()!
                        #expect(worst <= bound, "\(file) L\(layer).\(projection) \(kernels): max|dy| \(worst) > \(bound)")
                        // Decode path: one token at a time gives the same numbers.
                        let single = try QuantizedActivations(cols: cols, capacity: 1)
                        var y1 = [Float](repeating: .nan, count: rows)
                        for t in [0, 7, 15] {
                            x.withUnsafeBufferPointer { single.quantize(UnsafeBufferPointer(rebasing: $0[t * cols..<(t + 1) * cols]), kernels: .selected) }
                            y1.withUnsafeMutableBufferPointer { matrix.multiply(single, into: $0, rows: 0..<rows, kernels: kernels) }
                            #expect(y1 == Array(y[t * rows..<(t + 1) * rows]))
                        }
                    }
                }
            }
        }
    }
}
