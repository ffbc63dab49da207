/// Cache and state operations for Swift callers. Each runs as the only user
/// of the context (`exclusive`), so while a generation holds the context they
/// throw ``BitNetError`` with ``Status/busy`` instead of racing it.
extension Context {
    /// The token ids the context holds (prompt and generated), in order.
    public func tokenIDs() throws(BitNetError) -> [Int32] {
        try exclusive { tokens }
    }

    /// Forgets every token: the next generation starts from an empty context.
    public func clear() throws(BitNetError) {
        try exclusive { reset() }
    }

    /// Keeps the first `count` tokens and forgets the rest.
    public func keepTokens(_ count: Int) throws(BitNetError) {
        try exclusive { () throws(BitNetError) in try truncate(to: count) }
    }

    /// Evaluates `text` (tokenized like a prompt, with control tokens) and
    /// stores its keys and values in the prefix cache, so later prompts that
    /// start with it skip that work (e.g. a long system prompt).
    /// ``ContextOptions/prefixCacheBytes`` must leave room for it.
    public func cachePrefix(_ text: String) throws(BitNetError) {
        try exclusive { () throws(BitNetError) in try warmPrefix(text: text) }
    }

    /// Drops every prefix stored by ``cachePrefix(_:)`` or `prefixCacheAuto`.
    public func removeCachedPrefixes() throws(BitNetError) {
        try exclusive { clearPrefixCache() }
    }

    /// Hits, misses and size of the prefix cache.
    public func prefixCacheStats() throws(BitNetError) -> PrefixCacheStatistics {
        try exclusive { prefixCacheStatistics }
    }

    /// The context's state (its tokens, KV cache, last logits and the
    /// sampler's saved state) as bytes, for ``restoreState(_:)`` into a
    /// context of the same model and settings.
    public func stateData() throws(BitNetError) -> [UInt8] {
        try exclusive { () throws(BitNetError) -> [UInt8] in
            let size = try stateSize()
            var bytes = [UInt8](repeating: 0, count: size)
            // withUnsafeMutableBytes rethrows untyped errors: carry ours in a Result.
            let written = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(BitNetError) -> Int in try saveState(into: buffer) }
            }
            bytes.removeLast(size - (try written.get()))
            return bytes
        }
    }

    /// Replaces the context's state with bytes from ``stateData()``; on any
    /// error the context is unchanged.
    ///
    /// - Throws: ``BitNetError`` with ``Status/stateMismatch`` when the bytes
    ///   come from another model or settings, ``Status/format`` when they are damaged.
    public func restoreState(_ bytes: [UInt8]) throws(BitNetError) {
        try exclusive { () throws(BitNetError) in
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(BitNetError) in try loadState(from: buffer) }
            }.get()
        }
    }

    /// Writes the state to a file atomically (a crash leaves the old file or the new one).
    public func saveState(toFile path: String) throws(BitNetError) {
        try exclusive { () throws(BitNetError) in try saveState(path: path) }
    }

    /// Loads a state file written by ``saveState(toFile:)``; on any error the context is unchanged.
    public func restoreState(fromFile path: String) throws(BitNetError) {
        try exclusive { () throws(BitNetError) in try loadState(path: path) }
    }
}
