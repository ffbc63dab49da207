/// A read-only map from byte strings to token ids.
///
/// Encoding looks up byte slices of the input (whole pre-tokenized words,
/// merged SentencePiece symbols) millions of times per second; a Swift
/// `Dictionary<[UInt8], Int32>` would need an allocated key for each lookup.
/// This table keeps every key in one byte arena and probes with a slice.
struct ByteStringTable: Sendable {
    private var arena: [UInt8] = []
    /// Each entry's key as `start << 32 | length` in `arena`, and its value.
    private var keys: [UInt64] = []
    private var values: [Int32] = []
    /// Open addressing, linear probing: `fingerprint << 32 | (entry + 1)`,
    /// 0 = empty. The fingerprint (high hash bits) rejects almost every
    /// mismatch without touching the arena.
    private var slots: [UInt64]
    private var mask: Int

    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = Array(repeating: 0, count: capacity)
        mask = capacity - 1
    }

    var count: Int { values.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // FNV-1a, 64-bit: cheap, and good enough for short token texts.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private static func fingerprint(_ hash: Int) -> UInt64 { (UInt64(truncatingIfNeeded: hash) >> 32) << 32 }

    /// Inserts `key` unless present; the first id inserted for a key wins
    /// (duplicate token texts resolve to the lowest id, as llama.cpp does).
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32) {
        let h = Self.hash(key)
        if lookup(key, hash: h) != nil { return }
        if (values.count + 1) * 2 > slots.count { grow() }
        let entry = values.count
        keys.append(UInt64(arena.count) << 32 | UInt64(key.count))
        arena.append(contentsOf: key)
        values.append(value)
        place(entry: entry, hash: h)
    }

    mutating func insert(_ key: [UInt8], value: Int32) {
        key.withUnsafeBufferPointer { insert($0, value: value) }
    }

    private mutating func place(entry: Int, hash: Int) {
        var slot = hash & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Self.fingerprint(hash) | UInt64(entry + 1)
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        for entry in 0..<values.count {
            let start = Int(keys[entry] >> 32), length = Int(keys[entry] & 0xFFFF_FFFF)
            let h = arena.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[start..<start + length])) }
            place(entry: entry, hash: h)
        }
    }

    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        lookup(key, hash: Self.hash(key))
    }

    @inline(__always)
    private func lookup(_ key: UnsafeBufferPointer<UInt8>, hash: Int) -> Int32? {
        let fingerprint = Self.fingerprint(hash)
        var slot = hash & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let s = slots[slot]
                if s == 0 { return nil }
                if s & 0xFFFF_FFFF_0000_0000 == fingerprint {
                    let entry = Int(s & 0xFFFF_FFFF) - 1
                    let k = keys[entry]
                    if Int(k & 0xFFFF_FFFF) == key.count, matches(start: Int(k >> 32), key) { return values[entry] }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private func matches(start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer { arena in
            var i = 0
            while i < key.count {
                if arena[start + i] != key[i] { return false }
                i += 1
            }
            return true
        }
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { lookup($0) }
    }
}

/// A map from a pair of token ids to a merge: its rank and the merged token.
/// Keyed by ids, not strings, so the BPE merge loop never touches text.
struct MergeTable: Sendable {
    /// Open addressing, linear probing. Slot i is `entries[2i]` (the key:
    /// left << 32 | right) and `entries[2i + 1]` (rank << 32 | merged id):
    /// key and value share a cache line, so a lookup costs one miss.
    private var entries: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        entries = Array(repeating: Self.empty, count: 2 * capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        // Both ids must reach the low bits the mask keeps: a murmur3-style
        // finalizer mixes every key bit into every slot bit.
        var h = key ^ (key >> 33)
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return Int(truncatingIfNeeded: h) & mask
    }

    /// Adds a merge unless the pair already has one (the lower rank wins).
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) {
        if (count + 1) * 2 > mask + 1 { grow() }
        let k = Self.key(left, right)
        var slot = Self.slot(k, mask)
        while entries[2 * slot] != Self.empty {
            if entries[2 * slot] == k { return }
            slot = (slot + 1) & mask
        }
        entries[2 * slot] = k
        entries[2 * slot + 1] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    private mutating func grow() {
        let old = entries
        let capacity = 2 * (mask + 1)
        entries = Array(repeating: Self.empty, count: 2 * capacity)
        mask = capacity - 1
        for i in stride(from: 0, to: old.count, by: 2) where old[i] != Self.empty {
            var slot = Self.slot(old[i], mask)
            while entries[2 * slot] != Self.empty { slot = (slot + 1) & mask }
            entries[2 * slot] = old[i]
            entries[2 * slot + 1] = old[i + 1]
        }
    }

    /// The merge of `left` followed by `right`, if the vocabulary has one.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let k = Self.key(left, right)
        return entries.withUnsafeBufferPointer { entries in
            var slot = Self.slot(k, mask)
            while true {
                let stored = entries[2 * slot]
                if stored == k {
                    let v = entries[2 * slot + 1]
                    return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
                }
                if stored == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}
