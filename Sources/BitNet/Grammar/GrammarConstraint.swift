/// The grammar stage of a sampler chain for one sequence: which tokens keep
/// the generated text a valid prefix of the grammar's language, and where
/// the text is. End-of-text and stop tokens count as allowed exactly where
/// the grammar may end; a token whose logit is −inf (banned) never survives.
///
/// Lazy where that changes nothing: `keepBestAllowed` checks the best-ranked
/// tokens one by one and computes a full mask only when too few of them pass
/// (the result is the same list, by construction); `SamplerChain` also draws
/// first and checks the draw when no truncation stage follows (exact in
/// distribution, see `SamplerChain.sampleConstrained`). `lazy = false` always
/// uses full masks (for tests).
struct GrammarConstraint: Sendable {
    let engine: GrammarTokenEngine
    private(set) var cursor: GrammarCursor
    private var start: GrammarCursor
    var lazy = true
    private var scratch: [TokenCandidate] = []
    private var ranked: [TokenCandidate] = []
    private var maskedLogits: [Float] = []

    init(grammar: Grammar, tokenizer: Tokenizer, stopTokens: some Sequence<Int32>) {
        engine = GrammarTokenEngine(grammar: grammar, tokenizer: tokenizer, stopTokens: stopTokens)
        let initial = engine.withLockNoThrow { $0.initialCursor }
        cursor = initial
        start = initial
    }

    mutating func reset() { cursor = start }

    /// Whether the text is complete and nothing may follow.
    mutating func isComplete() throws(BitNetError) -> Bool {
        try engine.withLock { (engine) throws(BitNetError) -> Bool in engine.isComplete(try engine.resolve(&cursor)) }
    }

    /// Whether the text so far is a complete string of the language.
    mutating func isAccepting() throws(BitNetError) -> Bool {
        try engine.withLock { (engine) throws(BitNetError) -> Bool in engine.isAccepting(try engine.resolve(&cursor)) }
    }

    mutating func allows(_ token: Int32) throws(BitNetError) -> Bool {
        try engine.withLock { (engine) throws(BitNetError) -> Bool in
            let allowed = engine.allows(token, at: try engine.resolve(&cursor))
            try engine.checkFailure()
            return allowed
        }
    }

    /// Moves past a generated token (which the stage allowed).
    mutating func accept(_ token: Int32) throws(BitNetError) {
        let moved = try engine.withLock { (engine) throws(BitNetError) -> Bool in try engine.advance(&cursor, with: token) }
        guard moved else { throw BitNetError(.internal, "grammar: token \(token) was sampled but the grammar does not allow it") }
    }

    private static var noToken: BitNetError {
        .invalidArgument("grammar: no token of the vocabulary can continue the text here")
    }

    // MARK: - Narrowing

    /// Keeps exactly the allowed candidates (in id order when starting from the whole vocabulary).
    mutating func keepAllowed(_ candidates: inout TokenCandidates) throws(BitNetError) {
        let mask = try engine.withLock { (engine) throws(BitNetError) -> TokenMask in try engine.mask(try engine.resolve(&cursor)) }
        if candidates.coversVocabulary {
            scratch.removeAll(keepingCapacity: true)
            let vocabulary = candidates.vocabulary
            func add(_ id: Int) {
                let logit = vocabulary[id]
                if logit > -.infinity { scratch.append(TokenCandidate(id: Int32(truncatingIfNeeded: id), logit: logit)) }
            }
            if let ids = mask.sparse {
                for id in ids { add(Int(id)) }
            } else {
                for (index, word) in mask.words.enumerated() where word != 0 {
                    var bits = word
                    while bits != 0 {
                        add(index &* 64 &+ bits.trailingZeroBitCount)
                        bits &= bits &- 1
                    }
                }
            }
            candidates.replace(with: &scratch, sorted: false)
        } else {
            candidates.items.removeAll { !(mask.allows($0.id) && $0.logit > -.infinity) }
        }
        guard candidates.count > 0 else { throw Self.noToken }
    }

    /// Keeps the `k` best-ranked allowed candidates, best first: exactly what
    /// full masking followed by top-k (k = 1: greedy) keeps.
    mutating func keepBestAllowed(_ k: Int, _ candidates: inout TokenCandidates) throws(BitNetError) {
        guard candidates.coversVocabulary else {
            try keepAllowed(&candidates)
            candidates.keepLargest(k)
            candidates.sortDescending()
            return
        }
        let vocabulary = UnsafeBufferPointer(candidates.vocabulary)
        let lazy = self.lazy
        var chosen = scratch
        var ranked = self.ranked
        chosen.removeAll(keepingCapacity: true)
        defer { self.ranked = ranked }
        try engine.withLock { (engine) throws(BitNetError) in
            let state = try engine.resolve(&cursor)
            let cached = engine.cachedMask(state)
            if let ids = cached?.sparse {
                // Few allowed tokens: rank just them.
                for id in ids where vocabulary[Int(id)] > -.infinity {
                    chosen.append(TokenCandidate(id: id, logit: vocabulary[Int(id)]))
                }
                chosen.sort(by: TokenCandidate.ranksBefore)
                if chosen.count > k { chosen.removeLast(chosen.count - k) }
                return
            }
            // Checking one by one pays off only while k is small next to the vocabulary.
            if cached != nil || (lazy && 32 * k < vocabulary.count) {
                // Check the best-ranked tokens; enough of them pass in wide states
                // (inside a string), while narrow states have cheap masks.
                let total = vocabulary.count
                var wanted = min(total, max(2 * k, 32))
                var checked = 0
                while true {
                    LargestSelection.select(wanted, of: vocabulary, into: &ranked)
                    for candidate in ranked[checked...] where candidate.logit > -.infinity {
                        let allowed = cached?.allows(candidate.id) ?? engine.allows(candidate.id, at: state)
                        if allowed {
                            chosen.append(candidate)
                            if chosen.count == k { break }
                        }
                    }
                    try engine.checkFailure()
                    checked = ranked.count
                    // Done: k found, everything seen, or the rest is −inf.
                    if chosen.count == k || wanted == total || ranked.last.map({ $0.logit == -.infinity }) == true { return }
                    if cached == nil { break }
                    wanted = min(total, wanted * 4)
                }
                chosen.removeAll(keepingCapacity: true)
            }
            // Full mask: the allowed logits (others −inf) through the same selection.
            let mask = try engine.mask(state)
            if maskedLogits.count != vocabulary.count {
                maskedLogits = [Float](repeating: -.infinity, count: vocabulary.count)
            }
            maskedLogits.withUnsafeMutableBufferPointer { masked in
                for (index, word) in mask.words.enumerated() {
                    let base = index &* 64
                    if word == 0 { continue }
                    var bits = word
                    while bits != 0 {
                        let id = base &+ bits.trailingZeroBitCount
                        masked[id] = vocabulary[id]
                        bits &= bits &- 1
                    }
                }
                LargestSelection.select(k, of: UnsafeBufferPointer(masked), into: &ranked)
                // Restore the buffer to all −inf for next time.
                for (index, word) in mask.words.enumerated() where word != 0 {
                    var bits = word
                    while bits != 0 {
                        masked[index &* 64 &+ bits.trailingZeroBitCount] = -.infinity
                        bits &= bits &- 1
                    }
                }
            }
            for candidate in ranked where candidate.logit > -.infinity { chosen.append(candidate) }
        }
        guard !chosen.isEmpty else { throw Self.noToken }
        candidates.replace(with: &chosen, sorted: true)
        scratch = chosen
    }
}
