#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned, zero-filled block that frees itself.
///
/// SIMD kernels load whole cache lines with aligned loads, and a failed
/// allocation of a large weight must become `BitNetError(.outOfMemory)`
/// instead of a trap: `Memory.allocate` does both. Weights come from a
/// `HugePageArena` instead (a slice that keeps its mapping alive).
final class AlignedMemory: @unchecked Sendable {
    static let alignment = 64
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    /// The arena mapping this block lives in; nil for heap blocks.
    let region: MappedRegion?

    init(byteCount: Int, what: @autoclosure () -> String) throws(BitNetError) {
        guard byteCount >= 0 else { throw .invalidArgument("\(what()): negative size \(byteCount)") }
        pointer = try Memory.allocate(bytes: byteCount, what: what())
        self.byteCount = byteCount
        region = nil
    }

    /// Bytes `offset..<offset + byteCount` of `region` (already zero).
    init(slice region: MappedRegion, offset: Int, byteCount: Int) {
        pointer = region.base + offset
        self.byteCount = byteCount
        self.region = region
    }

    /// An arena slice when `arena` is given, else a heap block.
    static func allocate(byteCount: Int, arena: HugePageArena?,
                         what: @autoclosure () -> String) throws(BitNetError) -> AlignedMemory {
        if let arena { return try arena.allocate(byteCount: byteCount, what: what()) }
        return try AlignedMemory(byteCount: byteCount, what: what())
    }

    deinit { if region == nil { free(pointer) } }

    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        pointer.assumingMemoryBound(to: T.self)
    }
}
