#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which stored prefix makes room for a new one. Raw values mirror BITNET_EVICT_*.
public enum EvictionPolicy: Int32, Sendable {
    /// The least recently used (stored or reused) goes first.
    case leastRecentlyUsed = 0
    /// The oldest stored goes first, however often it was reused.
    case firstInFirstOut = 1
}

/// Counters of a context's prefix cache, for `bitnet_context_stats_get`.
public struct PrefixCacheStatistics: Sendable, Equatable {
    /// Prompts whose KV came (partly) from a stored prefix.
    public var hits = 0
    /// Prompts that looked for a stored prefix and found none longer than what the context held.
    public var misses = 0
    /// Positions copied from stored prefixes instead of computed.
    public var tokensReused = 0
    public var evictions = 0
    public var bytes = 0
    public var entries = 0
}

/// Stored prefixes: token ids plus a KVCache snapshot of their positions,
/// within a byte budget. Owned by one Context, or shared by the contexts of a
/// `Batch` (their threads call in at the same time): every method takes the
/// lock, and an entry handed out stays valid after an eviction because the
/// caller's reference keeps its snapshot alive.
final class PrefixCache: @unchecked Sendable {
    /// What a snapshot's bytes mean: contexts sharing a cache may differ in
    /// KV type, and a snapshot is only restored into a cache of its layout.
    struct Layout: Equatable {
        let type: KVType
        let layers: Int
        let kvDim: Int
        let recentWindow: Int

        init(_ cache: KVCache) {
            type = cache.type
            layers = cache.layers
            kvDim = cache.kvDim
            recentWindow = cache.recentWindow
        }
    }

    final class Entry {
        let tokens: [Int32]
        let layout: Layout
        let snapshot: UnsafeMutableRawPointer
        /// Snapshot plus token bytes: what the entry costs against the budget.
        let bytes: Int
        let inserted: UInt64
        var lastUsed: UInt64

        init(tokens: [Int32], layout: Layout, snapshot: UnsafeMutableRawPointer, bytes: Int, clock: UInt64) {
            self.tokens = tokens
            self.layout = layout
            self.snapshot = snapshot
            self.bytes = bytes
            inserted = clock
            lastUsed = clock
        }

        deinit { free(snapshot) }
    }

    let budget: Int
    let policy: EvictionPolicy
    private var entries: [Entry] = []
    private var clock: UInt64 = 0
    private var counters = PrefixCacheStatistics()
    private let mutex = Locked(())

    init(budget: Int, policy: EvictionPolicy) {
        self.budget = max(0, budget)
        self.policy = policy
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try mutex.withLock { (_: inout ()) throws(E) -> T in try body() }
    }

    var statistics: PrefixCacheStatistics { locked { counters } }

    var isEnabled: Bool { budget > 0 }

    /// What storing `count` tokens costs.
    static func cost(count: Int, cache: KVCache) -> Int {
        cache.snapshotBytes(count: count) + count * MemoryLayout<Int32>.size
    }

    /// The entry of `layout` sharing the longest token prefix with `prompt`,
    /// looking at no more than `limit` tokens. A match longer than `held` is
    /// marked used and counted as a hit of `length - held` tokens; none is a miss.
    func reuse(_ prompt: [Int32], limit: Int, held: Int, layout: Layout) -> (entry: Entry, length: Int)? {
        locked {
            guard let best = longestMatch(prompt, limit: limit, layout: layout), best.length > held else {
                counters.misses += 1
                return nil
            }
            clock += 1
            best.entry.lastUsed = clock
            counters.hits += 1
            counters.tokensReused += best.length - held
            return best
        }
    }

    private func longestMatch(_ prompt: [Int32], limit: Int, layout: Layout) -> (entry: Entry, length: Int)? {
        var best: (entry: Entry, length: Int)?
        for entry in entries where entry.layout == layout {
            let bound = min(limit, entry.tokens.count)
            var n = 0
            while n < bound, entry.tokens[n] == prompt[n] { n += 1 }
            if n > (best?.length ?? 0) { best = (entry, n) }
        }
        return best
    }

    /// Stores the first `tokens.count` positions of `cache` under `tokens`,
    /// evicting by policy until it fits. An identical entry is only marked used.
    func store(tokens: [Int32], from cache: KVCache) throws(BitNetError) {
        try locked { () throws(BitNetError) in try storeLocked(tokens: tokens, from: cache) }
    }

    private func storeLocked(tokens: [Int32], from cache: KVCache) throws(BitNetError) {
        clock += 1
        let layout = Layout(cache)
        if let existing = entries.first(where: { $0.tokens == tokens && $0.layout == layout }) {
            existing.lastUsed = clock
            return
        }
        let bytes = PrefixCache.cost(count: tokens.count, cache: cache)
        guard bytes <= budget else {
            throw .invalidArgument("a prefix of \(tokens.count) tokens needs \(bytes) bytes; prefix_cache_bytes is \(budget)")
        }
        while counters.bytes + bytes > budget, let victim = victimIndex() {
            counters.bytes -= entries[victim].bytes
            entries.remove(at: victim)
            counters.evictions += 1
        }
        let snapshot = try Memory.allocate(bytes: cache.snapshotBytes(count: tokens.count), what: "prefix cache entry")
        cache.writeSnapshot(count: tokens.count, to: snapshot)
        entries.append(Entry(tokens: tokens, layout: layout, snapshot: snapshot, bytes: bytes, clock: clock))
        counters.bytes += bytes
        counters.entries = entries.count
    }

    private func victimIndex() -> Int? {
        switch policy {
        case .leastRecentlyUsed: entries.indices.min { entries[$0].lastUsed < entries[$1].lastUsed }
        case .firstInFirstOut: entries.indices.min { entries[$0].inserted < entries[$1].inserted }
        }
    }

    func removeAll() {
        locked {
            entries.removeAll()
            counters.bytes = 0
            counters.entries = 0
        }
    }
}
