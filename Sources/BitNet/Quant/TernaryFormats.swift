/// Decoders of the ternary storage types (docs/ARCHITECTURE.md §3.3
/// "Ternary weight layouts") into the packed block format of
/// `PackedTernaryMatrix` (§3.4).
///
/// The packed 128-column block of one row is 32 bytes; byte k holds the codes
/// c = w + 1 of columns k, 32 + k, 64 + k, 96 + k in bits 7:6, 5:4, 3:2, 1:0.
/// That is exactly I2_S's block, so I2_S rows are copied as they are.
enum TernaryFormats {
    static let blockColumns = 128
    static let blockBytes = 32

    /// Packs 128 codes (0...2, in column order) into one 32-byte block.
    @inline(__always)
    static func packBlock(_ codes: UnsafePointer<UInt8>, into block: UnsafeMutablePointer<UInt8>) {
        for k in 0..<32 {
            block[k] = codes[k] << 6 | codes[32 + k] << 4 | codes[64 + k] << 2 | codes[96 + k]
        }
    }

    /// The code of column `k` (0..<128) in a packed block.
    @inline(__always)
    static func code(in block: UnsafePointer<UInt8>, column k: Int) -> UInt8 {
        (block[k & 31] >> UInt8(6 - 2 * (k >> 5))) & 3
    }

    /// True when some 2-bit field of `byte` is 3, which no ternary format allows.
    @inline(__always)
    static func hasInvalidCode(_ byte: UInt8) -> Bool {
        byte & (byte >> 1) & 0x55 != 0
    }

    /// The offset of the first byte holding a code 3, scanning 8 bytes at a
    /// time (load-time validation of a whole tensor must not cost much).
    static func firstInvalidCodeByte(_ bytes: UnsafeRawPointer, count: Int) -> Int? {
        let words = count / 8
        var bad: UInt64 = 0
        for i in 0..<words {
            let word = bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
            bad |= word & (word >> 1) & 0x5555_5555_5555_5555
        }
        if bad == 0 {
            for i in (8 * words)..<count where hasInvalidCode(bytes.load(fromByteOffset: i, as: UInt8.self)) { return i }
            return nil
        }
        for i in 0..<count where hasInvalidCode(bytes.load(fromByteOffset: i, as: UInt8.self)) { return i }
        return nil
    }

    // MARK: - TQ2_0

    /// TQ2_0 stores element 32n + m of a 128-element half in byte m at bits
    /// 2n+1:2n (LSB first); the packed block wants bits 7-2n:6-2n. So each byte
    /// just has its four 2-bit fields reversed.
    static let reversedFields: [UInt8] = (0..<256).map { value in
        let b = UInt8(value)
        return (b & 3) << 6 | ((b >> 2) & 3) << 4 | ((b >> 4) & 3) << 2 | (b >> 6) & 3
    }

    // MARK: - TQ1_0

    /// Decodes one 54-byte TQ1_0 block (256 elements) into codes 0...2.
    ///
    /// Each byte holds up to five base-3 digits scaled by 256/243 (rounded up),
    /// so digit n is the top "digit" after multiplying by 3^n (uint8 wrap-around
    /// intended) and then by 3 in 16 bits: `((uint8)(q * 3^n) * 3) >> 8`.
    static func decodeTQ1Block(_ block: UnsafeRawPointer, into codes: UnsafeMutablePointer<UInt8>) {
        let qs = block.assumingMemoryBound(to: UInt8.self)
        let qh = qs + 48
        let powers: [UInt8] = [1, 3, 9, 27, 81]
        @inline(__always) func trit(_ q: UInt8, _ n: Int) -> UInt8 {
            let shifted = q &* powers[n]
            return UInt8((UInt16(shifted) &* 3) >> 8)
        }
        for m in 0..<32 {
            for n in 0..<5 { codes[m + 32 * n] = trit(qs[m], n) }
        }
        for m in 0..<16 {
            for n in 0..<5 { codes[160 + m + 16 * n] = trit(qs[32 + m], n) }
        }
        for j in 0..<4 {
            for n in 0..<4 { codes[240 + j + 4 * n] = trit(qh[j], n) }
        }
    }
}
