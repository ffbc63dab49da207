/// The prefix cache as a context uses it: `ingest` looks up stored prefixes,
/// `warmPrefix` stores them.
extension Context {
    /// Copies the longest stored prefix of `prompt` beyond the `held` tokens the
    /// context already has (never the last prompt token, which `ingest`
    /// evaluates for its logits). Returns how many leading tokens are now held.
    func reusePrefixCache(_ prompt: [Int32], holding held: Int) -> Int {
        let limit = prompt.count - 1
        guard prefixCache.isEnabled, held < limit else { return held }
        guard let (entry, length) = prefixCache.reuse(prompt, limit: limit, held: held,
                                                      layout: PrefixCache.Layout(cache)) else { return held }
        cache.restore(snapshot: entry.snapshot, storedCount: entry.tokens.count, positions: held..<length)
        sequence.append(prompt[held..<length], logitRows: 0)
        return length
    }

    /// Computes the KV of `prefix` and stores it in the prefix cache, so later
    /// prompts starting with it skip that work. The context is left holding
    /// `prefix` (with the logits of its last token).
    /// Errors: an empty prefix, one larger than the whole budget (or a disabled
    /// cache), anything `ingest` throws.
    package func warmPrefix(_ prefix: [Int32]) throws(BitNetError) {
        guard !prefix.isEmpty else { throw .invalidArgument("the prefix has no tokens") }
        let cost = PrefixCache.cost(count: prefix.count, cache: cache)
        guard cost <= prefixCache.budget else {
            throw .invalidArgument("a prefix of \(prefix.count) tokens needs \(cost) bytes of prefix cache; "
                                   + "prefix_cache_bytes is \(prefixCache.budget)")
        }
        try ingest(prompt: prefix)
        try prefixCache.store(tokens: prefix, from: cache)
    }

    /// Tokenizes `text` the way prompts are tokenized for generation (BOS as the
    /// tokenizer's add_bos default, control-token text such as "<|eot_id|>"
    /// parsed) and warms it. Errors: BITNET_E_UNSUPPORTED without a tokenizer.
    package func warmPrefix(text: String) throws(BitNetError) {
        guard let tokenizer = model.tokenizer else { throw .unsupported("the model has no tokenizer") }
        try warmPrefix(tokenizer.encode(text, addBOS: tokenizer.addsBOS, parseSpecial: true))
    }

    /// Appends `newTokens` like `eval`; when the context is empty (and only the
    /// last position's logits are wanted) a stored prefix of them is copied in
    /// instead of computed. Returns the number of tokens taken from the cache.
    @discardableResult
    package func evalReusingPrefixCache(_ newTokens: UnsafeBufferPointer<Int32>) throws(BitNetError) -> Int {
        guard tokens.isEmpty, !options.allLogits, prefixCache.isEnabled, newTokens.count > 1 else {
            try eval(newTokens)
            return 0
        }
        return try ingest(prompt: Array(newTokens))
    }

    package var prefixCacheStatistics: PrefixCacheStatistics { prefixCache.statistics }

    /// Drops every stored prefix (the counters stay).
    package func clearPrefixCache() { prefixCache.removeAll() }
}
