import Testing
@testable import BitNet

/// Mainline ggml's Q2_0 (type 42): 64 values per 18-byte block, f16 d then
/// 2-bit codes (element j at byte j/4, bits 2·(j%4)), value (q − 1)·d.
@Suite struct Q2_0WeightTests {
    /// Q2_0 bytes for codes [rows][cols] (0...3) and d per 64-block.
    static func encode(_ codes: [UInt8], rows: Int, cols: Int, d: (Int, Int) -> Float) -> [UInt8] {
        var bytes: [UInt8] = []
        for r in 0..<rows {
            for b in 0..<(cols / 64) {
                withUnsafeBytes(of: Float16(d(r, b)).bitPattern) { bytes += $0 }
                for m in 0..<16 {
                    var byte: UInt8 = 0
                    for i in 0..<4 { byte |= codes[r * cols + b * 64 + 4 * m + i] << UInt8(2 * i) }
                    bytes.append(byte)
                }
            }
        }
        return bytes
    }

    @Test(arguments: [(3, 64), (5, 320), (6, 512), (2, 832)])
    func packedMatchesDequantized(rows: Int, cols: Int) throws {
        var random = TestRandom(seed: UInt64(cols))
        let codes = (0..<rows * cols).map { _ in UInt8(random.int(0...2)) }
        // Per-row d for widths that are not a multiple of 256, per-256-column d otherwise.
        let bytes = Self.encode(codes, rows: rows, cols: cols) { r, b in
            cols % 256 == 0 ? Float(r + 1) * (b / 4 == 0 ? 0.5 : 0.25) : Float(r + 1) * 0.125
        }
        let matrix = try bytes.withUnsafeBytes { try PackedTernaryMatrix(type: 42, rows: rows, cols: cols, data: $0, extraScale: nil) }
        let tensor = bytes.withUnsafeBytes { TensorView(name: "w", type: .q2_0, shape: [cols, rows], data: $0) }
        for r in 0..<rows {
            let expected = try bytes.withUnsafeBytes { _ in try Dequantize.row(tensor, r) }
            for k in 0..<cols { #expect(matrix.weight(row: r, column: k) == expected[k], "r\(r) k\(k)") }
        }
        // The kernels agree with the reference on it.
        let x = (0..<2 * cols).map { _ in random.float(-2...2) }
        let activations = try QuantizedActivations(cols: cols, capacity: 2)
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, tokens: 2, stride: cols, kernels: .selected) }
        var reference = [Float](repeating: 0, count: 2 * rows)
        reference.withUnsafeMutableBufferPointer {
            matrix.multiply(activations, into: $0.baseAddress!, yStride: rows, rows: 0..<rows, kernels: .reference)
        }
        for kernels in KernelSet.allCases where kernels != .reference && kernels.isSupportedByCPU {
            var y = [Float](repeating: 0, count: 2 * rows)
            y.withUnsafeMutableBufferPointer {
                matrix.multiply(activations, into: $0.baseAddress!, yStride: rows, rows: 0..<rows, kernels: kernels)
            }
            #expect(y == reference, "\(kernels)")
        }
    }

    @Test func nonTernaryOrUnsupportedScalesAreRefused() {
        var codes = [UInt8](repeating: 1, count: 2 * 320)
        codes[70] = 3  // +2·d
        let withThree = Self.encode(codes, rows: 2, cols: 320) { _, _ in 0.5 }
        let error = caught { try withThree.withUnsafeBytes { try PackedTernaryMatrix(type: 42, rows: 2, cols: 320, data: $0, extraScale: nil) } }
        #expect(error?.status == .unsupported && error?.message.contains("code 3 (+2·d) in block 1") == true, "\(error?.message ?? "")")

        codes[70] = 1
        let varying = Self.encode(codes, rows: 2, cols: 320) { _, b in b == 2 ? 0.25 : 0.5 }
        let scaleError = caught { try varying.withUnsafeBytes { try PackedTernaryMatrix(type: 42, rows: 2, cols: 320, data: $0, extraScale: nil) } }
        #expect(scaleError?.status == .unsupported && scaleError?.message.contains("block scales differ within a row") == true)

        // PrismML's fork layout under the same id (34 bytes per 128 values) is refused with a hint.
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("qwen3"))
        writer.addTensor("blk.0.attn_q.weight", type: .q2_0, dims: [1024, 4], data: [UInt8](repeating: 0x55, count: 4 * 8 * 34))
        writer.addTensor("blk.0.attn_k.weight", type: .q2_0, dims: [1024, 4], data: [UInt8](repeating: 0x55, count: 4 * 8 * 34))
        let forkError = caught { try GGUFFile(bytes: writer.bytes()) }
        #expect(forkError?.status == .format && forkError?.message.contains("PrismML's fork uses id 42") == true, "\(forkError?.message ?? "parsed")")

        let block = Self.encode([UInt8](repeating: 1, count: 64), rows: 1, cols: 64) { _, _ in 1 }
        #expect(block.count == 18 && GGMLType(id: 42) == .q2_0)
    }
}
