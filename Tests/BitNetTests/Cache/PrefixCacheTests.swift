import Testing
@testable import BitNet

@Suite struct PrefixCacheTests {
    typealias S = CacheTestSupport

    /// Warm a prefix, drop everything the context holds, then feed the whole
    /// prompt: the cached part is copied (reused = prefix length) and every
    /// computed position's logits equal a cold run's bit for bit (f16, f32);
    /// q8 stays close (its f16 window travels with the prefix).
    @Test(arguments: KVType.allCases)
    func warmPrefixReproducesColdLogits(kv: KVType) throws {
        let model = try S.golden()
        let prompt = S.tokens(150, seed: 1), prefixLength = 100
        let cold = try S.context(model, kv: kv, allLogits: true)
        try S.eval(cold, prompt)
        let warm = try S.context(model, kv: kv, allLogits: true)
        try warm.warmPrefix(Array(prompt[..<prefixLength]))
        warm.reset()
        let reused = try warm.ingest(prompt: prompt)
        #expect(reused == prefixLength)
        #expect(warm.tokens == prompt)
        #expect(warm.logitRows == prompt.count - prefixLength)
        var worst: Float = 0
        for row in 0..<(prompt.count - prefixLength) {
            let a = Array(try #require(warm.logits(row: row)))
            let b = Array(try #require(cold.logits(row: prefixLength + row)))
            worst = max(worst, S.maxAbsDiff(a, b))
        }
        #expect(worst == 0, "\(kv): max abs diff \(worst)")
        let stats = warm.prefixCacheStatistics
        #expect(stats.hits == 1 && stats.tokensReused == prefixLength && stats.entries == 1)
        #expect(stats.bytes == warm.cache.snapshotBytes(count: prefixLength) + 4 * prefixLength)
        // And the continuation is the same.
        #expect(try S.greedy(warm, steps: 8) == (try S.greedy(cold, steps: 8)))
    }

    /// A prompt sharing only part of a stored prefix reuses that part.
    @Test func partialMatchReusesTheCommonPart() throws {
        let model = try S.golden()
        let prefix = S.tokens(40, seed: 2)
        let prompt = Array(prefix[..<25]) + S.tokens(10, seed: 3)
        let context = try S.context(model)
        try context.warmPrefix(prefix)
        context.reset()
        #expect(try context.ingest(prompt: prompt) == 25)
        let cold = try S.context(model)
        try S.eval(cold, prompt)
        #expect(try S.lastLogits(context) == (try S.lastLogits(cold)))
    }

    /// The last prompt token is always computed, even when the whole prompt is stored.
    @Test func aStoredPromptStillYieldsItsLogits() throws {
        let model = try S.golden()
        let prompt = S.tokens(30, seed: 4)
        let context = try S.context(model)
        try context.warmPrefix(prompt)
        let logits = try S.lastLogits(context)
        context.reset()
        #expect(try context.ingest(prompt: prompt) == 29)
        #expect(try S.lastLogits(context) == logits)
    }

    static func evictionRun(_ policy: EvictionPolicy) throws -> (Context, [[Int32]]) {
        let model = try S.golden()
        let probe = try S.context(model)
        let length = 20
        let budget = 2 * PrefixCache.cost(count: length, cache: probe.cache) + 100
        let context = try S.context(model, prefixBytes: budget, policy: policy)
        let prefixes = (0..<3).map { S.tokens(length, seed: 10 + UInt64($0)) }
        try context.warmPrefix(prefixes[0])
        try context.warmPrefix(prefixes[1])
        // Use the first (older) prefix again, then warm a third: only two fit.
        context.reset()
        #expect(try context.ingest(prompt: prefixes[0] + [7, 8]) == length)
        try context.warmPrefix(prefixes[2])
        #expect(context.prefixCacheStatistics.evictions == 1)
        #expect(context.prefixCacheStatistics.entries == 2)
        return (context, prefixes)
    }

    static func reused(_ context: Context, _ prefix: [Int32]) throws -> Int {
        context.reset()
        return try context.ingest(prompt: prefix + [9, 9, 9])
    }

    @Test func lruEvictsTheLeastRecentlyUsed() throws {
        let (context, prefixes) = try Self.evictionRun(.leastRecentlyUsed)
        #expect(try Self.reused(context, prefixes[1]) == 0)   // evicted: stored before the first was reused
        #expect(try Self.reused(context, prefixes[0]) == 20)
        #expect(try Self.reused(context, prefixes[2]) == 20)
    }

    @Test func fifoEvictsTheOldestInserted() throws {
        let (context, prefixes) = try Self.evictionRun(.firstInFirstOut)
        #expect(try Self.reused(context, prefixes[0]) == 0)   // evicted although just used
        #expect(try Self.reused(context, prefixes[1]) == 20)
        #expect(try Self.reused(context, prefixes[2]) == 20)
    }

    @Test func missesAreCountedAndOversizedPrefixesRefused() throws {
        let model = try S.golden()
        let context = try S.context(model, prefixBytes: 1000)
        try context.ingest(prompt: S.tokens(10, seed: 1))
        #expect(context.prefixCacheStatistics.misses == 1)
        let error = caught { try context.warmPrefix(S.tokens(50, seed: 1)) }
        #expect(error?.status == .invalidArgument)
        let disabled = try S.context(model, prefixBytes: 0)
        #expect(caught { try disabled.warmPrefix([1, 2]) }?.status == .invalidArgument)
        try disabled.ingest(prompt: [1, 2, 3])
        #expect(disabled.prefixCacheStatistics.misses == 0)
    }

    /// With prefix_cache_auto every prompt is stored: the next conversation
    /// turn in a fresh sequence reuses the previous one.
    @Test func autoModeStoresEveryPrompt() throws {
        let model = try S.golden()
        let context = try S.context(model, auto: true)
        let turn1 = S.tokens(30, seed: 5)
        #expect(try context.ingest(prompt: turn1) == 0)
        context.reset()
        #expect(try context.ingest(prompt: turn1 + S.tokens(5, seed: 6)) == 30)
        #expect(context.prefixCacheStatistics.entries == 2)
    }

    /// eval on an empty context takes a stored prefix of its tokens.
    @Test func evalOnAnEmptyContextReusesAStoredPrefix() throws {
        let model = try S.golden()
        let prompt = S.tokens(60, seed: 7)
        let context = try S.context(model)
        try context.warmPrefix(Array(prompt[..<40]))
        context.reset()
        let fromCache = try prompt.withUnsafeBufferPointer { try context.evalReusingPrefixCache($0) }
        #expect(fromCache == 40)
        #expect(context.tokens == prompt)
        let cold = try S.context(model)
        try S.eval(cold, prompt)
        #expect(try S.lastLogits(context) == (try S.lastLogits(cold)))
        // Not empty: a plain append.
        #expect(try [5].withUnsafeBufferPointer { try context.evalReusingPrefixCache($0) } == 0)
    }

    /// The text variant tokenizes like generation prompts (BOS by the tokenizer's default).
    @Test func warmingTextUsesTheTokenizer() throws {
        let model = try S.golden()
        let context = try S.context(model)
        try context.warmPrefix(text: "The quick brown fox")
        let tokenizer = try #require(model.tokenizer)
        #expect(context.tokens == tokenizer.encode("The quick brown fox", addBOS: tokenizer.addsBOS, parseSpecial: true))
    }
}
