#if canImport(Glibc)
import Glibc
#endif

/// A 64-byte aligned, zero-filled heap block that frees itself.
///
/// SIMD kernels load whole cache lines with aligned loads, and a failed
/// allocation of a large weight must become `BitNetError(.outOfMemory)`
/// instead of a trap: `Memory.allocate` does both.
final class AlignedMemory: @unchecked Sendable {
    static let alignment = 64
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int, what: @autoclosure () -> String) throws(BitNetError) {
        guard byteCount >= 0 else { throw .invalidArgument("\(what()): negative size \(byteCount)") }
        pointer = try Memory.allocate(bytes: byteCount, what: what())
        self.byteCount = byteCount
    }

    deinit { free(pointer) }

    func typed<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        pointer.assumingMemoryBound(to: T.self)
    }
}
