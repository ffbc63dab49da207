/// A bounds-checked little-endian cursor over untrusted bytes.
///
/// Every read checks the remaining length first and throws
/// `BITNET_E_FORMAT` naming what was being read and where, so a truncated or
/// lying file can never make the parser touch memory outside `bytes`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int, _ what: () -> String) throws(BitNetError) {
        guard count >= 0, count <= remaining else {
            throw .format("truncated file: \(what()) at offset \(offset) needs \(count) bytes, but the file ends at \(bytes.count)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(BitNetError) -> T {
        try require(MemoryLayout<T>.size, what)
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(BitNetError) {
        try require(count, what)
        offset += count
    }

    /// A GGUF string's bytes: a u64 length, then that many bytes (no NUL).
    mutating func readStringBytes(_ what: @autoclosure () -> String) throws(BitNetError) -> UnsafeRawBufferPointer {
        let length = try read(UInt64.self, "length of \(what())")
        guard length <= UInt64(remaining) else {
            throw .format("truncated file: \(what()) at offset \(offset - 8) claims \(length) bytes, but only \(remaining) remain")
        }
        let count = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// A GGUF string, with invalid UTF-8 replaced by U+FFFD.
    mutating func readString(_ what: @autoclosure () -> String) throws(BitNetError) -> String {
        let raw = try readStringBytes(what())
        return String(decoding: raw, as: UTF8.self)
    }

    /// `count` fixed-size little-endian values copied into an array in one go.
    mutating func readArray<T: FixedWidthInteger>(_: T.Type, count: Int, _ what: @autoclosure () -> String) throws(BitNetError) -> [T] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
        guard !overflow else { throw .format("\(what()): \(count) elements overflow the file size") }
        try require(byteCount, what)
        let start = offset
        let source = bytes
        let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: source[start..<(start + byteCount)]))
            initialized = count
        }
        offset += byteCount
        #if _endian(big)
        return result.map { T(littleEndian: $0) }
        #else
        return result
        #endif
    }
}
