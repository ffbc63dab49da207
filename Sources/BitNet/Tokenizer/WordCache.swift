/// Remembers the tokens of words already encoded during one encode call.
///
/// Natural text repeats its words constantly; looking a word up costs one
/// hash and a compare, merging it costs a heap walk. The cache lives in the
/// per-call workspace (no shared mutable state, so `Tokenizer` stays
/// immutable and thread-safe) and is simply emptied when it fills up.
struct WordCache {
    static let slotCount = 1 << 15
    static let maxWordLength = 48

    private var slots = [Int32](repeating: 0, count: slotCount)  // entry + 1, 0 = empty
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int32] = []
    private var keyLength: [UInt8] = []
    private var idStart: [Int32] = []
    private var idCount: [UInt8] = []
    private var ids: [Int32] = []

    /// Appends the cached tokens of `word` to `output`; false when not cached.
    mutating func appendCached(_ word: UnsafeBufferPointer<UInt8>, hash: Int, to output: inout [Int32]) -> Bool {
        var slot = hash & (Self.slotCount - 1)
        while true {
            let s = Int(slots[slot])
            if s == 0 { return false }
            let entry = s - 1
            if Int(keyLength[entry]) == word.count && keyMatches(entry, word) {
                let start = Int(idStart[entry])
                output.append(contentsOf: ids[start..<start + Int(idCount[entry])])
                return true
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }

    private func keyMatches(_ entry: Int, _ word: UnsafeBufferPointer<UInt8>) -> Bool {
        keyBytes.withUnsafeBufferPointer { keys in
            let start = Int(keyStart[entry])
            for i in 0..<word.count where keys[start + i] != word[i] { return false }
            return true
        }
    }

    /// Stores the tokens of `word` (the last `count` elements of `output`).
    mutating func store(_ word: UnsafeBufferPointer<UInt8>, hash: Int, tokens: ArraySlice<Int32>) {
        guard word.count <= Self.maxWordLength, tokens.count <= Int(UInt8.max) else { return }
        if keyStart.count >= Self.slotCount / 2 { clear() }
        let entry = Int32(keyStart.count)
        keyStart.append(Int32(keyBytes.count))
        keyLength.append(UInt8(word.count))
        keyBytes.append(contentsOf: word)
        idStart.append(Int32(ids.count))
        idCount.append(UInt8(tokens.count))
        ids.append(contentsOf: tokens)
        var slot = hash & (Self.slotCount - 1)
        while slots[slot] != 0 { slot = (slot + 1) & (Self.slotCount - 1) }
        slots[slot] = entry + 1
    }

    private mutating func clear() {
        for i in slots.indices { slots[i] = 0 }
        keyBytes.removeAll(keepingCapacity: true)
        keyStart.removeAll(keepingCapacity: true)
        keyLength.removeAll(keepingCapacity: true)
        idStart.removeAll(keepingCapacity: true)
        idCount.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }
}
