/// Conversions of the 16-bit float encodings found in GGUF files.
enum HalfPrecision {
    /// IEEE binary16 bits to Float (exact).
    @inline(__always)
    static func float(fromHalf bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// bfloat16 bits to Float (exact: bf16 is the top half of an f32).
    @inline(__always)
    static func float(fromBFloat bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
