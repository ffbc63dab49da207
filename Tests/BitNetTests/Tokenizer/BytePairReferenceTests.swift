import Testing
@testable import BitNet

/// The heap-and-linked-list merge loop against the plain definition of BPE:
/// scan all adjacent pairs, merge the lowest rank (leftmost on ties), repeat.
@Suite struct BytePairReferenceTests {
    /// Reference BPE over token ids: O(n²) per word, obviously correct.
    static func referenceMerge(_ word: [UInt8], _ encoder: BytePairEncoder) -> [Int32] {
        var ids = word.map { encoder.byteTokens[Int($0)] }
        while ids.count > 1 {
            var best: (rank: Int32, index: Int, merged: Int32)? = nil
            for i in 0..<(ids.count - 1) {
                if let m = encoder.merges.lookup(ids[i], ids[i + 1]), best == nil || m.rank < best!.rank {
                    best = (m.rank, i, m.merged)
                }
            }
            guard let best else { break }
            ids[best.index] = best.merged
            ids.remove(at: best.index + 1)
        }
        return ids
    }

    @Test(arguments: ["gpt-2", "llama-bpe"])
    func heapMergeMatchesReference(_ name: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(name)
        let base = try #require(tokenizer.bytePairEncoderForTesting)
        // Compare the merge loop itself, without the whole-word shortcut.
        let encoder = BytePairEncoder(merges: base.merges, byteTokens: base.byteTokens, ignoreMerges: false, wordTable: base.wordTable)
        var rng = TokenizerTestRNG(state: 7)
        var workspace = BytePairEncoder.Workspace()
        for trial in 0..<3000 {
            // Odd lengths and long words included; words from random text and
            // from repeated syllables (which exercise equal-rank ties).
            var word: [UInt8]
            if trial % 3 == 0 {
                let syllables = ["ab", "aa", "the", "ing", " ", "ll", "🌍", "é", "00"]
                word = []
                for _ in 0..<Int.random(in: 1...30, using: &rng) { word += Array(syllables.randomElement(using: &rng)!.utf8) }
            } else {
                word = Array(randomText(&rng, maxLength: 1 + trial % 67).utf8)
            }
            var fast: [Int32] = []
            word.withUnsafeBufferPointer { encoder.merge($0, into: &fast, &workspace) }
            // The cached path must give the same answer the second time.
            var again: [Int32] = []
            for _ in 0..<2 { again.removeAll(); word.withUnsafeBufferPointer { encoder.encode(word: $0, into: &again, workspace: &workspace) } }
            #expect(again == fast)
            #expect(fast == Self.referenceMerge(word, encoder), "\(name): \(word)")
        }
    }
}
