#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import BitNet

@Suite struct HugePageArenaTests {
    @Test func blocksAreAlignedZeroedAndDisjoint() throws {
        let arena = HugePageArena()
        let sizes = [1, 63, 64, 65, 4096, 3 << 20, 0, 100_000]
        let blocks = try sizes.map { try arena.allocate(byteCount: $0, what: "test block") }
        for (block, size) in zip(blocks, sizes) {
            #expect(Int(bitPattern: block.pointer) % AlignedMemory.alignment == 0)
            #expect(block.byteCount == size)
            let bytes = UnsafeRawBufferPointer(start: block.pointer, count: size)
            #expect(bytes.allSatisfy { $0 == 0 })
        }
        // Writing every block with its own byte must not disturb the others.
        for (i, block) in blocks.enumerated() { memset(block.pointer, Int32(i + 1), block.byteCount) }
        for (i, block) in blocks.enumerated() {
            let bytes = UnsafeRawBufferPointer(start: block.pointer, count: block.byteCount)
            #expect(bytes.allSatisfy { $0 == UInt8(i + 1) }, "block \(i)")
        }
        // Small blocks share a slab; one larger than a slab gets its own region.
        #expect(blocks[0].region === blocks[1].region)
        let big = try arena.allocate(byteCount: HugePageArena.slabBytes + 1, what: "big block")
        #expect(big.region !== blocks[0].region)
        #expect(Int(bitPattern: big.region!.base) % HugePageArena.hugePageBytes == 0)
        let after = try arena.allocate(byteCount: 128, what: "after the big block")
        #expect(after.region === blocks[0].region, "the open slab keeps serving small blocks")
    }

    @Test func blocksOutliveTheArena() throws {
        var block: AlignedMemory?
        do {
            let arena = HugePageArena()
            block = try arena.allocate(byteCount: 1 << 20, what: "survivor")
        }
        memset(block!.pointer, 0x5A, 1 << 20)
        #expect(UnsafeRawBufferPointer(start: block!.pointer, count: 1 << 20).allSatisfy { $0 == 0x5A })
    }

    @Test func refusesImpossibleSizes() {
        let arena = HugePageArena()
        #expect(throws: BitNetError.self) { try arena.allocate(byteCount: -1, what: "negative") }
        #expect(throws: BitNetError.self) { try arena.allocate(byteCount: Int.max / 2, what: "huge") }
        #expect(throws: BitNetError.self) { try arena.allocate(byteCount: Int.max, what: "overflowing") }
    }

    /// Where the kernel offers THP in `madvise` or `always` mode the advice
    /// must be taken (whether 2 MB pages are then free is up to the kernel).
    @Test func advisesHugePagesWhereTheKernelOffersThem() throws {
        guard let file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r") else { return }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 128)
        guard fgets(&line, 128, file) != nil else { return }
        // The array's bytes up to the NUL (String(cString:) on an array is deprecated).
        let mode = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard mode.contains("[always]") || mode.contains("[madvise]") else { return }
        let block = try HugePageArena().allocate(byteCount: 4 << 20, what: "advised")
        #expect(block.region?.hugePagesAdvised == true)
    }
}
