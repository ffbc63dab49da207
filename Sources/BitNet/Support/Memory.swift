#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Large, aligned, zeroed allocations with clear errors instead of traps.
package enum Memory {
    /// Physical memory of the machine; requests beyond it are refused up front
    /// because Linux overcommit would otherwise grant them and kill us later.
    package static let physicalBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// Product of `factors`, or a BITNET_E_INVALID_ARGUMENT naming `what` on overflow.
    package static func checkedProduct(_ factors: [Int], what: String) throws(BitNetError) -> Int {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { throw .invalidArgument("\(what): negative size \(factor)") }
            let (product, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw .invalidArgument("\(what): size overflows") }
            result = product
        }
        return result
    }

    /// 64-byte aligned zeroed memory; free with `free()`.
    package static func allocate(bytes: Int, what: String) throws(BitNetError) -> UnsafeMutableRawPointer {
        guard bytes <= physicalBytes else {
            throw .outOfMemory("\(what): needs \(bytes) bytes, more than the machine's \(physicalBytes)")
        }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 64, max(bytes, 64)) == 0, let pointer else {
            throw .outOfMemory("\(what): could not allocate \(bytes) bytes")
        }
        memset(pointer, 0, max(bytes, 64))
        return pointer
    }

    /// Drops the whole pages inside `range` of a read-only file mapping from
    /// this process (MADV_DONTNEED); touching them again reloads them from the
    /// file, so this is only a hint about residency, never a loss of data.
    package static func releaseMappedPages(_ range: UnsafeRawBufferPointer) {
        guard let base = range.baseAddress, range.count > 0 else { return }
        let page = max(sysconf(Int32(_SC_PAGESIZE)), 1)
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_DONTNEED)
    }
}
