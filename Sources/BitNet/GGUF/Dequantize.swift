/// Reference dequantization of tensor rows to Float.
///
/// Plain scalar code, written to be read next to the layouts in
/// docs/ARCHITECTURE.md §3.3 "Ternary weight layouts": the embedding lookup
/// and reference LM head use it directly, and fast kernels are tested
/// against it. Layouts (facts from ggml / bitnet.cpp):
/// - Q8_0: 32 elements in 34 bytes: f16 d, 32 × int8 q; x = d·q.
/// - Q4_0: 32 elements in 18 bytes: f16 d, qs[16]; element j < 16 is the low
///   nibble of qs[j], element 16 + j its high nibble; x = d·(q − 8).
/// - Q5_K: 256 elements in 176 bytes: f16 d, f16 dmin, scales[12] (as Q4_K),
///   qh[32], qs[128]. Sub-block j's low 4 bits as in Q4_K, the 5th bit is bit j
///   of qh[e % 32]; x = d·sc_j·q − dmin·m_j.
/// - Q4_K: 256 elements in 144 bytes: f16 d, f16 dmin, scales[12] (eight 6-bit
///   scale/min pairs), qs[128]. Sub-block j (32 elements) uses byte chunk j/2,
///   low nibbles for even j, high for odd; x = d·sc_j·q − dmin·m_j.
/// - Q6_K: 256 elements in 210 bytes: ql[128], qh[64], int8 scales[16], f16 d.
///   Per 128-element half h, element r: low 4 bits from ql[64h + r%64] (low
///   nibble if r < 64, else high), high 2 bits from qh[32h + r%32] at bit
///   2·(r/32); x = d·scales[e/16]·(q − 32).
/// - TQ1_0, TQ2_0, I2_S: see docs/ARCHITECTURE.md §3.3; values (t − 1)·d.
package enum Dequantize {
    /// Row `index` of `tensor` as floats (`tensor.rowLength` of them).
    package static func row(_ tensor: TensorView, _ index: Int) throws(BitNetError) -> [Float] {
        var result = [Float](repeating: 0, count: tensor.rowLength)
        try result.withUnsafeMutableBufferPointer { (buffer) throws(BitNetError) in
            try row(tensor, index, into: buffer)
        }
        return result
    }

    /// Writes row `index` of `tensor` into `output` (at least `rowLength` floats).
    package static func row(_ tensor: TensorView, _ index: Int,
                           into output: UnsafeMutableBufferPointer<Float>) throws(BitNetError) {
        guard index >= 0, index < tensor.rowCount else {
            throw .invalidArgument("row \(index) is outside 0..<\(tensor.rowCount) of tensor \(tensor.name)")
        }
        guard output.count >= tensor.rowLength, let out = output.baseAddress else {
            throw .invalidArgument("output holds \(output.count) floats, row of \(tensor.name) has \(tensor.rowLength)")
        }
        var scale: Float = 1
        if tensor.type == .i2_s {
            guard let s = tensor.i2sScale else { throw .format("tensor \(tensor.name): I2_S data has no scale trailer") }
            scale = s
        }
        let bytes = tensor.row(index)
        try values(type: tensor.type, from: bytes, count: tensor.rowLength, into: out, i2sScale: scale)
    }

    /// Decodes `count` elements (whole blocks) of `type` from `bytes`.
    package static func values(type: GGMLType, from bytes: UnsafeRawBufferPointer, count: Int,
                              into out: UnsafeMutablePointer<Float>, i2sScale: Float = 1) throws(BitNetError) {
        guard count % type.blockSize == 0, let needed = type.rowByteSize(count), needed <= bytes.count else {
            throw .invalidArgument("\(count) \(type.name) elements need whole blocks and \(type.rowByteSize(count) ?? -1) bytes, got \(bytes.count)")
        }
        let blocks = count / type.blockSize
        let stride = type.bytesPerBlock
        for b in 0..<blocks {
            let block = UnsafeRawBufferPointer(rebasing: bytes[(b * stride)..<((b + 1) * stride)])
            let y = out + b * type.blockSize
            switch type {
            case .f32: y.pointee = Float(bitPattern: UInt32(littleEndian: block.loadUnaligned(as: UInt32.self)))
            case .f16: y.pointee = halfToFloat(block, at: 0)
            case .bf16: y.pointee = HalfPrecision.float(fromBFloat: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
            case .q8_0: decodeQ8_0(block, into: y)
            case .q4_0: decodeQ4_0(block, into: y)
            case .q4_K: decodeQ4_K(block, into: y)
            case .q5_K: decodeQ5_K(block, into: y)
            case .q6_K: decodeQ6_K(block, into: y)
            case .tq1_0: decodeTQ1_0(block, into: y)
            case .tq2_0: decodeTQ2_0(block, into: y)
            case .q2_0: decodeQ2_0(block, into: y)
            case .i2_s: decodeI2_S(block, scale: i2sScale, into: y)
            default: throw .unsupported("dequantization of \(type.name) is not implemented")
            }
        }
    }

    static func halfToFloat(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Float {
        HalfPrecision.float(fromHalf: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    static func decodeQ8_0(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 0)
        for i in 0..<32 { y[i] = d * Float(Int8(bitPattern: block[2 + i])) }
    }

    static func decodeQ4_0(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 0)
        for j in 0..<16 {
            let byte = block[2 + j]
            y[j] = d * Float(Int(byte & 0x0F) - 8)
            y[16 + j] = d * Float(Int(byte >> 4) - 8)
        }
    }

    static func decodeQ5_K(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        decodeMinMaxBlock(block, quantsAt: 48, highBits: UnsafeRawBufferPointer(rebasing: block[16..<48]), into: y)
    }

    /// The 6-bit scale and min of Q4_K sub-block `j` from the 12 packed bytes.
    static func q4KScaleMin(_ scales: UnsafeRawBufferPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (scales[j] & 63, scales[j + 4] & 63) }
        return ((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4),
                (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4))
    }

    static func decodeQ4_K(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        decodeMinMaxBlock(block, quantsAt: 16, highBits: nil, into: y)
    }

    /// Q4_K and Q5_K: f16 d, f16 dmin, 12 scale bytes, [Q5_K: qh[32]], qs[128].
    /// Sub-block j's low 4 bits are nibble j%2 of qs chunk j/2; Q5_K's 5th bit
    /// is bit j of qh[i]. x = d·sc_j·q − dmin·m_j.
    static func decodeMinMaxBlock(_ block: UnsafeRawBufferPointer, quantsAt offset: Int,
                                  highBits qh: UnsafeRawBufferPointer?, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 0)
        let dmin = halfToFloat(block, at: 2)
        let scales = UnsafeRawBufferPointer(rebasing: block[4..<16])
        let qs = UnsafeRawBufferPointer(rebasing: block[offset..<(offset + 128)])
        for j in 0..<8 {
            let (sc, m) = q4KScaleMin(scales, j)
            let scale = d * Float(sc)
            let shift: UInt8 = j % 2 == 0 ? 0 : 4
            for i in 0..<32 {
                var q = (qs[(j / 2) * 32 + i] >> shift) & 0x0F
                if let qh { q |= ((qh[i] >> UInt8(j)) & 1) << 4 }
                y[j * 32 + i] = scale * Float(q) - dmin * Float(m)
            }
        }
    }

    static func decodeQ6_K(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 208)
        for e in 0..<256 {
            let half = e / 128, r = e % 128
            let low = (block[half * 64 + r % 64] >> (r < 64 ? 0 : 4)) & 0x0F
            let high = (block[128 + half * 32 + r % 32] >> (2 * (r / 32))) & 0x03
            let q = Int(low | (high << 4)) - 32
            let scale = Int8(bitPattern: block[192 + e / 16])
            y[e] = d * Float(scale) * Float(q)
        }
    }

    /// Trit `n` of a TQ1_0 byte that stores ceil(v·256/243) for the base-3 number v.
    /// Multiplying by 3^n (wrapping in 8 bits) moves trit n to the top of the byte.
    @inline(__always)
    static func trit(_ q: UInt8, _ n: Int) -> Int {
        var shifted = q
        for _ in 0..<n { shifted &*= 3 }
        return (Int(shifted) * 3) >> 8
    }

    static func decodeTQ1_0(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 52)
        for n in 0..<5 {
            for m in 0..<32 { y[n * 32 + m] = Float(trit(block[m], n) - 1) * d }
            for m in 0..<16 { y[160 + n * 16 + m] = Float(trit(block[32 + m], n) - 1) * d }
        }
        for n in 0..<4 {
            for j in 0..<4 { y[240 + n * 4 + j] = Float(trit(block[48 + j], n) - 1) * d }
        }
    }

    static func decodeTQ2_0(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 64)
        for half in 0..<2 {
            for n in 0..<4 {
                for m in 0..<32 {
                    let code = Int((block[half * 32 + m] >> (2 * n)) & 3)
                    y[half * 128 + n * 32 + m] = Float(code - 1) * d
                }
            }
        }
    }

    static func decodeQ2_0(_ block: UnsafeRawBufferPointer, into y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(block, at: 0)
        for j in 0..<64 {
            let q = Int((block[2 + j / 4] >> UInt8(2 * (j % 4))) & 3)
            y[j] = Float(q - 1) * d
        }
    }

    static func decodeI2_S(_ block: UnsafeRawBufferPointer, scale: Float, into y: UnsafeMutablePointer<Float>) {
        // Codes 0, 1, 2 mean -1, 0, +1; 3 never occurs in valid files and reads as 0.
        let value: (Float, Float, Float, Float) = (-scale, 0, scale, 0)
        for k in 0..<32 {
            let byte = block[k]
            for group in 0..<4 {
                let code = (byte >> (6 - 2 * group)) & 3
                y[group * 32 + k] = switch code { case 0: value.0; case 1: value.1; case 2: value.2; default: value.3 }
            }
        }
    }
}
