/// Strict UTF-8 checks (no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Validation {
    /// Length of the valid sequence starting at `i`; 0 if invalid, negative
    /// (minus the bytes present) if the buffer ends inside a sequence that
    /// is valid so far.
    static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b0 = bytes[i]
        if b0 < 0x80 { return 1 }
        let length: Int
        var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return 0
        }
        var k = 1
        while k < length {
            guard i + k < bytes.count else { return -k }
            let b = bytes[i + k]
            let lo: UInt8 = k == 1 ? lower : 0x80
            let hi: UInt8 = k == 1 ? upper : 0xBF
            guard b >= lo && b <= hi else { return 0 }
            k += 1
        }
        return length
    }

    /// Offset of the first byte that is not valid UTF-8, or nil.
    static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 { i += 1; continue }
            let length = sequenceLength(bytes, at: i)
            if length <= 0 { return i }
            i += length
        }
        return nil
    }
}
