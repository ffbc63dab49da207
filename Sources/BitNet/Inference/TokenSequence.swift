/// The sequence a context holds, as one value: the token ids whose keys and
/// values the KV cache has (position i holds `tokens[i]`), how many leading
/// positions are exact, and how many rows of logits belong to its end.
///
/// These three change together, and only here: every edit either records the
/// logits an evaluation just computed or drops them, and moves the exact
/// prefix with the tokens. `Context` applies each edit to its KV cache and
/// then to this value; the cache's layout is not this type's business, so a
/// sequence can as well describe one slot of a cache shared with others.
struct TokenSequence {
    private(set) var tokens: [Int32] = []
    /// Leading positions whose KV is what a fresh evaluation of `tokens`
    /// computes. A shift makes the moved positions approximate (their keys
    /// were rotated, their values saw the dropped tokens), so they are never
    /// reused for another prompt or stored as a prefix.
    private(set) var exactPrefixLength = 0
    /// Rows of the context's logits buffer that are the logits of the last
    /// `logitRows` tokens (1, or every token of the last evaluation with
    /// `allLogits`); 0 when the last edit was not an evaluation.
    private(set) var logitRows = 0

    var count: Int { tokens.count }

    /// Tokens whose KV was just computed (`logitRows` rows of logits kept) or
    /// copied in exactly from the prefix cache (`logitRows` 0). They extend
    /// the exact prefix when the sequence was exact up to its end.
    mutating func append<C: Collection<Int32>>(_ newTokens: C, logitRows rows: Int) {
        if exactPrefixLength == tokens.count { exactPrefixLength += newTokens.count }
        tokens.append(contentsOf: newTokens)
        logitRows = rows
    }

    /// Keeps the first `count` tokens (the caller checked 0...count).
    mutating func truncate(to count: Int) {
        tokens.removeSubrange(count...)
        exactPrefixLength = min(exactPrefixLength, count)
        logitRows = 0
    }

    /// Removes tokens keep..<keep+discard after the cache moved the later
    /// positions down (a context shift); what moved is no longer exact.
    mutating func shift(keep: Int, discard: Int) {
        tokens.removeSubrange(keep..<(keep + discard))
        exactPrefixLength = min(exactPrefixLength, keep)
        logitRows = 0
    }

    /// A saved sequence, already checked against the cache it was restored into.
    mutating func restore(tokens newTokens: [Int32], exactPrefixLength exact: Int, logitRows rows: Int) {
        tokens = newTokens
        exactPrefixLength = exact
        logitRows = rows
    }

    /// The logits buffer no longer holds this sequence's rows (a failed evaluation overwrote part of it).
    mutating func dropLogits() { logitRows = 0 }
}
