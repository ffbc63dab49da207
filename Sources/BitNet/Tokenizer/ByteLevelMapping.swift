/// GPT-2's reversible byte <-> Unicode mapping used by byte-level BPE vocabularies.
///
/// Token texts in a `gpt2` vocabulary are not raw bytes: every byte is spelled
/// as one printable code point so that the vocabulary is valid text. Printable
/// Latin-1 bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') stand for themselves; the
/// other 68 bytes, in increasing order, take U+0100, U+0101, ... (so space is
/// 'Ġ' U+0120 and newline 'Ċ' U+010A).
enum ByteLevelMapping {
    /// `scalarForByte[b]` is the code point that spells byte `b`.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a code point spells, or nil if it is not part of the mapping.
    static func byte(for scalar: UInt32) -> UInt8? {
        if scalar < 256 {
            let b = Int(scalar)
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            return printable ? UInt8(b) : nil
        }
        guard scalar < 256 + 68 else { return nil }
        return inverseHigh[Int(scalar - 256)]
    }

    private static let inverseHigh: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 68)
        for b in 0..<256 where scalarForByte[b] >= 256 { table[Int(scalarForByte[b] - 256)] = UInt8(b) }
        return table
    }()

    /// Decodes a token text into the bytes it spells; nil if some code point
    /// is outside the mapping (then the text is not a byte-level spelling).
    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let b = byte(for: scalar.value) else { return nil }
            bytes.append(b)
        }
        return bytes
    }

    /// Decodes the UTF-8 spelling of a token into `bytes` (replacing its
    /// contents); false if some code point is outside the mapping.
    static func decode(_ utf8: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) -> Bool {
        bytes.removeAll(keepingCapacity: true)
        var i = 0
        while i < utf8.count {
            let b0 = utf8[i]
            let scalar: UInt32
            if b0 < 0x80 {
                scalar = UInt32(b0); i += 1
            } else if b0 & 0xE0 == 0xC0, i + 1 < utf8.count {
                // Every mapped code point is below U+0800: two bytes at most.
                scalar = UInt32(b0 & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F); i += 2
            } else {
                return false
            }
            guard let b = byte(for: scalar) else { return false }
            bytes.append(b)
        }
        return true
    }

    /// Spells raw bytes the GPT-2 way (for tests and diagnostics).
    static func encode(_ bytes: [UInt8]) -> String {
        var text = ""
        for b in bytes {
            // Every table entry is below U+0144, so the scalar always exists.
            if let scalar = Unicode.Scalar(scalarForByte[Int(b)]) { text.unicodeScalars.append(scalar) }
        }
        return text
    }
}
