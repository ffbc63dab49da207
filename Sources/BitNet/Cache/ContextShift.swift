#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a generation does when the context is full. Raw values mirror BITNET_OVERFLOW_*.
public enum OverflowPolicy: Int32, Sendable {
    /// Stop with reason context_full.
    case stop = 0
    /// Drop tokens after the first `keepOnShift` (see `Context.shiftForOverflow`) and go on.
    case shift = 1
}

extension Context {
    /// Frees room when the context is full under `OverflowPolicy.shift`: keeps
    /// the first `keepOnShift` tokens (attention sinks), drops the older half
    /// of the rest and moves the newer half down. Returns how many tokens were
    /// dropped. The generation loop calls this when `count == capacity`.
    /// Errors: BITNET_E_CONTEXT_FULL when nothing can be dropped (keepOnShift
    /// covers the whole context).
    @discardableResult
    package func shiftForOverflow() throws(BitNetError) -> Int {
        let keep = min(options.keepOnShift, count)
        let discard = (count - keep + 1) / 2
        guard discard > 0 else {
            throw BitNetError(.contextFull, "context holds \(count) of \(capacity) tokens and n_keep \(options.keepOnShift) "
                              + "leaves nothing to drop")
        }
        try shift(keep: keep, discard: discard)
        return discard
    }

    // MARK: - The overflow policy: the one place that decides what a full context does

    /// Whether `incoming` more tokens can be appended: they fit now, or the
    /// policy is `.shift` and they fit beside the `keepOnShift` kept tokens.
    package func canMakeRoom(for incoming: Int) -> Bool {
        if incoming <= capacity - count { return true }
        return options.overflowPolicy == .shift && incoming <= capacity - min(options.keepOnShift, capacity)
    }

    /// Throws BITNET_E_CONTEXT_FULL when `incoming` more tokens cannot fit even
    /// by the policy; changes nothing. (`makeRoom` checks it first too; a
    /// caller with more to check before the policy may shift calls it alone.)
    package func requireRoom(for incoming: Int) throws(BitNetError) {
        guard canMakeRoom(for: incoming) else {
            let why = options.overflowPolicy == .shift ? " even after shifting (n_keep \(options.keepOnShift))" : ""
            throw BitNetError(.contextFull, "context holds \(count) of \(capacity) tokens; \(incoming) more do not fit\(why)")
        }
    }

    /// Makes room for `incoming` more tokens as the overflow policy says:
    /// nothing when they fit; under `.shift`, shifts until they do. Throws
    /// BITNET_E_CONTEXT_FULL (changing nothing) when they cannot fit. Returns
    /// the tokens dropped. The generation loop and `bitnet_context_eval` both
    /// go through here.
    @discardableResult
    package func makeRoom(for incoming: Int) throws(BitNetError) -> Int {
        try requireRoom(for: incoming)
        var dropped = 0
        while incoming > capacity - count { dropped += try shiftForOverflow() }
        return dropped
    }

    /// Removes tokens keep..<keep+discard: later positions move down by
    /// `discard` and their keys (stored after RoPE) are rotated back by
    /// `discard` positions, a RoPE with a negative position. The result is
    /// what a fresh context fed the kept tokens holds, up to float rounding
    /// (and the requantization of moved rows under q8) — except that the
    /// moved rows still reflect attention over the dropped tokens, which is
    /// the point of shifting rather than recomputing.
    package func shift(keep: Int, discard: Int) throws(BitNetError) {
        guard keep >= 0, discard > 0, keep <= count, discard <= count - keep else {
            throw .invalidArgument("cannot drop \(discard) tokens after the first \(keep) of \(count)")
        }
        let kvDim = cache.kvDim
        let scratch = try Memory.allocate(bytes: 2 * kvDim * MemoryLayout<Float>.size + rope.headDim * 4,
                                          what: "shift scratch").assumingMemoryBound(to: Float.self)
        defer { free(scratch) }
        let k = scratch, v = scratch + kvDim, table = scratch + 2 * kvDim
        rope.fillTable(position: -discard, into: table)
        // Position by position (all layers each) keeps q8's ring bookkeeping, shared by the layers, consistent.
        for source in (keep + discard)..<count {
            for layer in 0..<cache.layers {
                cache.load(layer: layer, position: source, keys: k, values: v)
                rope.apply(k, heads: cache.heads, table: table)
                cache.store(layer: layer, position: source - discard, keys: k, values: v)
            }
        }
        sequence.shift(keep: keep, discard: discard)
    }
}
