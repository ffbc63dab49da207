/// Which tokens of a vocabulary each grammar state allows, as bits.
struct TokenMask: Sendable {
    var words: [UInt64]
    var count: Int
    /// The allowed ids in increasing order, when there are few of them.
    var sparse: [Int32]?

    static let sparseLimit = 8192

    @inline(__always)
    func allows(_ id: Int32) -> Bool { words[Int(id) >> 6] & (1 << (UInt64(id) & 63)) != 0 }

    var byteSize: Int { words.count * 8 + (sparse?.count ?? 0) * 4 }
}

/// The grammar's side of sampling: one automaton, the vocabulary's token
/// trie, and the masks of states already seen, shared by every copy of a
/// sampler chain (the caches are pure functions of grammar + vocabulary).
/// All access goes through `withLock`.
///
/// A full mask is one preorder walk of the trie carrying the automaton
/// state per depth: a rejected prefix skips its whole subtree, and each
/// step is one table load once the automaton has seen that (state, byte).
final class GrammarTokenEngine: @unchecked Sendable {
    let trie: TokenTrie
    /// Allowed exactly where the grammar may end (EOS, EOT, the caller's stop tokens).
    let stopTokens: [Int32]
    private let mutex = Locked(())
    private let automaton: GrammarAutomaton
    private var masks: [Int32: TokenMask] = [:]
    private var maskBytes = 0
    private var stateAtDepth: [Int32]

    /// Counters for benchmarks and tests.
    struct Counters: Sendable, Hashable {
        var masksComputed = 0
        var maskCacheHits = 0
        var tokensChecked = 0
        var flushes = 0
    }
    private(set) var counters = Counters()

    init(grammar: Grammar, tokenizer: Tokenizer, stopTokens: some Sequence<Int32>) {
        trie = TokenTrie.shared(for: tokenizer)
        self.stopTokens = Array(Set(stopTokens).filter { $0 >= 0 && Int($0) < tokenizer.vocabularySize }).sorted()
        automaton = GrammarAutomaton(grammar.program)
        stateAtDepth = [Int32](repeating: 0, count: trie.maxDepth + 1)
    }

    func withLock<R>(_ body: (GrammarTokenEngine) throws(BitNetError) -> R) throws(BitNetError) -> R {
        try mutex.withLock { _ throws(BitNetError) -> R in try body(self) }
    }

    func withLockNoThrow<R>(_ body: (GrammarTokenEngine) -> R) -> R {
        mutex.withLock { _ in body(self) }
    }

    // MARK: - Under the lock

    var initialCursor: GrammarCursor {
        let state = automaton.initialState
        return GrammarCursor(content: automaton.content(of: state), state: state, epoch: automaton.epoch)
    }

    /// The cursor's state in the current tables (re-interned after a flush),
    /// flushing first when the tables are over budget.
    func resolve(_ cursor: inout GrammarCursor) throws(BitNetError) -> Int32 {
        if automaton.isOverBudget {
            automaton.reset()
            masks.removeAll()
            maskBytes = 0
            counters.flushes += 1
        }
        if cursor.epoch != automaton.epoch {
            cursor.state = automaton.state(for: cursor.content)
            cursor.epoch = automaton.epoch
            guard cursor.state >= 0 else { throw BitNetError(.internal, "grammar: a saved parse state could not be restored") }
        }
        return cursor.state
    }

    func checkFailure() throws(BitNetError) {
        if let failure = automaton.failure { throw .unsupported("grammar: \(failure)") }
    }

    func isAccepting(_ state: Int32) -> Bool { automaton.isAccepting(state) }

    /// The state after `bytes`, or `GrammarAutomaton.dead`.
    func state(after bytes: some Sequence<UInt8>, from state: Int32) -> Int32 { automaton.step(state, bytes) }
    func isComplete(_ state: Int32) -> Bool { automaton.isComplete(state) }

    private func isStop(_ token: Int32) -> Bool {
        var low = 0, high = stopTokens.count
        while low < high {
            let mid = (low + high) / 2
            if stopTokens[mid] < token { low = mid + 1 } else { high = mid }
        }
        return low < stopTokens.count && stopTokens[low] == token
    }

    /// Whether `token` keeps the text a valid prefix (stop tokens: whether the grammar may end).
    func allows(_ token: Int32, at state: Int32) -> Bool {
        counters.tokensChecked += 1
        if isStop(token) { return automaton.isAccepting(state) }
        guard token >= 0, Int(token) < trie.vocabularySize, trie.inTrie[Int(token)] else { return false }
        return automaton.step(state, trie.pieces[Int(token)]) >= 0
    }

    /// The state after `token`, or nil when the grammar does not allow it.
    func advance(_ cursor: inout GrammarCursor, with token: Int32) throws(BitNetError) -> Bool {
        let state = try resolve(&cursor)
        if isStop(token) { return automaton.isAccepting(state) }
        guard token >= 0, Int(token) < trie.vocabularySize, trie.inTrie[Int(token)] else { return false }
        let next = automaton.step(state, trie.pieces[Int(token)])
        try checkFailure()
        guard next >= 0 else { return false }
        cursor = GrammarCursor(content: automaton.content(of: next), state: next, epoch: automaton.epoch)
        return true
    }

    /// Forgets the masks but keeps the automaton's tables (for benchmarks).
    func clearMasksForBenchmark() {
        masks.removeAll()
        maskBytes = 0
    }

    func cachedMask(_ state: Int32) -> TokenMask? {
        guard let mask = masks[state] else { return nil }
        counters.maskCacheHits += 1
        return mask
    }

    /// The mask of `state`, from the cache or one walk of the trie.
    func mask(_ state: Int32) throws(BitNetError) -> TokenMask {
        if let cached = cachedMask(state) { return cached }
        var mask = walk(from: state)
        try checkFailure()
        for token in stopTokens {
            let bit: UInt64 = 1 << (UInt64(token) & 63)
            if mask.words[Int(token) >> 6] & bit != 0 { mask.count -= 1 }
            mask.words[Int(token) >> 6] &= ~bit
            if automaton.isAccepting(state) {
                mask.words[Int(token) >> 6] |= bit
                mask.count += 1
            }
        }
        if mask.count <= TokenMask.sparseLimit {
            var ids: [Int32] = []
            ids.reserveCapacity(mask.count)
            for (index, word) in mask.words.enumerated() where word != 0 {
                var bits = word
                while bits != 0 {
                    ids.append(Int32(index * 64 + bits.trailingZeroBitCount))
                    bits &= bits - 1
                }
            }
            mask.sparse = ids
        }
        counters.masksComputed += 1
        if maskBytes + mask.byteSize > GrammarLimits.maxMaskCacheBytes {
            masks.removeAll()
            maskBytes = 0
        }
        masks[state] = mask
        maskBytes += mask.byteSize
        return mask
    }

    private func walk(from state: Int32) -> TokenMask {
        var words = [UInt64](repeating: 0, count: (trie.vocabularySize + 63) / 64)
        var count = 0
        let automaton = self.automaton
        let unknown = GrammarAutomaton.unknownStep
        trie.bytes.withUnsafeBufferPointer { bytes in
        trie.depths.withUnsafeBufferPointer { depths in
        trie.subtreeEnds.withUnsafeBufferPointer { ends in
        trie.tokenStarts.withUnsafeBufferPointer { starts in
        trie.tokens.withUnsafeBufferPointer { tokens in
        words.withUnsafeMutableBufferPointer { words in
        stateAtDepth.withUnsafeMutableBufferPointer { stateAt in
            stateAt[0] = state
            var table = automaton.table
            let n = bytes.count
            var i = 0
            while i < n {
                let depth = Int(depths[i])
                let parent = stateAt[depth - 1]
                var next = table[Int(parent) &* 256 &+ Int(bytes[i])]
                if next == unknown {
                    next = automaton.step(parent, bytes[i])
                    table = automaton.table  // computing a step may grow the table
                }
                if next < 0 {
                    i = Int(ends[i])
                    continue
                }
                stateAt[depth] = next
                var t = Int(starts[i])
                let end = Int(starts[i + 1])
                while t < end {
                    let id = Int(tokens[t])
                    words[id >> 6] |= 1 << UInt64(id & 63)
                    count += 1
                    t += 1
                }
                i += 1
            }
        }}}}}}}
        return TokenMask(words: words, count: count, sparse: nil)
    }
}

/// Where one sequence stands in the grammar: a state id valid for one
/// generation of the automaton's tables (`epoch`), and its full content to
/// rebuild it after the tables were flushed.
struct GrammarCursor: Sendable {
    var content: GrammarAutomaton.Content
    var state: Int32
    var epoch: Int
}
