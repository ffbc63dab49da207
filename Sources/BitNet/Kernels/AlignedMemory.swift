#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte aligned, zero-filled heap block that frees itself.
///
/// SIMD kernels load whole cache lines with aligned loads, and a failed
/// allocation of a large weight must become `BitNetError(.outOfMemory)`
/// instead of a trap, hence `posix_memalign` rather than `allocate`.
final class AlignedMemory: @unchecked Sendable {
    static let alignment = 64
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int, what: @autoclosure () -> String) throws(BitNetError) {
        var raw: UnsafeMutableRawPointer?
        // posix_memalign(0 bytes) may return NULL; always ask for at least one line.
        let size = Swift.max(byteCount, AlignedMemory.alignment)
        guard posix_memalign(&raw, AlignedMemory.alignment, size) == 0, let raw else {
            throw BitNetError(.outOfMemory, "\(what()): cannot allocate \(byteCount) bytes")
        }
        memset(raw, 0, size)
        pointer = raw
        self.byteCount = byteCount
    }

    deinit { free(pointer) }

    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        pointer.assumingMemoryBound(to: T.self)
    }
}
