#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Long-lived blocks that kernels stream every token (repacked weights, the
/// LM head), carved out of large anonymous mappings backed by transparent
/// huge pages.
///
/// Why: with 4 KB pages a 1.2 GB stream per token walks ~300k page-table
/// entries and the hardware prefetchers stop at every page boundary. On
/// this machine a plain 2-thread read of 1 GB goes from ~27 to ~31 GB/s
/// when the buffer is on 2 MB pages (`MADV_HUGEPAGE`; THP is in `madvise`
/// mode here, as on most distributions). Packing many matrices into one
/// slab gives small matrices huge pages too and wastes at most the unused
/// tail of the last 2 MB page of each slab. Where THP is off the advice is
/// ignored and this is ordinary zeroed memory. Not thread-safe: one loader
/// allocates; the blocks it hands out may then be shared freely.
final class HugePageArena {
    static let hugePageBytes = 2 << 20
    static let slabBytes = 64 << 20

    private var slab: MappedRegion?
    private var used = 0

    /// `byteCount` zeroed bytes, 64-byte aligned, alive as long as the
    /// returned memory is (each block keeps its slab mapped).
    func allocate(byteCount: Int, what: @autoclosure () -> String) throws(BitNetError) -> AlignedMemory {
        guard byteCount >= 0 else { throw .invalidArgument("\(what()): negative size \(byteCount)") }
        guard byteCount <= Memory.physicalBytes else {
            throw .outOfMemory("\(what()): needs \(byteCount) bytes, more than the machine's \(Memory.physicalBytes)")
        }
        let size = (byteCount + AlignedMemory.alignment - 1) / AlignedMemory.alignment * AlignedMemory.alignment
        if let slab, slab.length - used >= size {
            defer { used += size }
            return AlignedMemory(slice: slab, offset: used, byteCount: byteCount)
        }
        // A block larger than a slab gets a region of its own; the current
        // slab stays open for the smaller blocks that follow.
        let region = try MappedRegion(byteCount: max(size, Self.slabBytes), what: what())
        if size < Self.slabBytes || slab == nil {
            slab = region
            used = size
        }
        return AlignedMemory(slice: region, offset: 0, byteCount: byteCount)
    }
}

/// One anonymous, 2 MB-aligned mapping advised onto huge pages; unmapped
/// when the last block carved from it goes away.
final class MappedRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let length: Int
    /// Whether the kernel accepted the huge-page advice (false where THP is
    /// compiled out or disabled).
    let hugePagesAdvised: Bool
    private let mapping: UnsafeMutableRawPointer
    private let mappingLength: Int

    init(byteCount: Int, what: @autoclosure () -> String) throws(BitNetError) {
        let page = HugePageArena.hugePageBytes
        guard byteCount <= Memory.physicalBytes else {
            throw .outOfMemory("\(what()): needs \(byteCount) bytes, more than the machine's \(Memory.physicalBytes)")
        }
        length = (byteCount + page - 1) / page * page
        // Over-map by one huge page so a 2 MB-aligned start exists inside.
        mappingLength = length + page
        guard let raw = mmap(nil, mappingLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            throw .outOfMemory("\(what()): could not map \(byteCount) bytes")
        }
        mapping = raw
        let aligned = (Int(bitPattern: raw) + page - 1) / page * page
        base = raw + (aligned - Int(bitPattern: raw))
        // Advice only: a kernel without THP still gives us working memory.
        #if os(Linux)
        hugePagesAdvised = madvise(base, length, MADV_HUGEPAGE) == 0
        #else
        // Darwin has no transparent huge pages to ask for (its superpages
        // need VM_FLAGS_SUPERPAGE_SIZE_2MB through mach_vm_allocate, and
        // Apple Silicon has 16 KB base pages): ordinary anonymous memory.
        hugePagesAdvised = false
        #endif
    }

    deinit { munmap(mapping, mappingLength) }
}
