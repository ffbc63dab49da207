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
/// within a byte budget. Owned by one Context (used under its `exclusive`).
final class PrefixCache {
    final class Entry {
        let tokens: [Int32]
        let snapshot: UnsafeMutableRawPointer
        /// Snapshot plus token bytes: what the entry costs against the budget.
        let bytes: Int
        let inserted: UInt64
        var lastUsed: UInt64

        init(tokens: [Int32], snapshot: UnsafeMutableRawPointer, bytes: Int, clock: UInt64) {
            self.tokens = tokens
            self.snapshot = snapshot
            self.bytes = bytes
            inserted = clock
            lastUsed = clock
        }

        deinit { free(snapshot) }
    }

    let budget: Int
    let policy: EvictionPolicy
    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0
    var statistics = PrefixCacheStatistics()

    init(budget: Int, policy: EvictionPolicy) {
        self.budget = max(0, budget)
        self.policy = policy
    }

    var isEnabled: Bool { budget > 0 }

    /// What storing `count` tokens costs.
    static func cost(count: Int, cache: KVCache) -> Int {
        cache.snapshotBytes(count: count) + count * MemoryLayout<Int32>.size
    }

    /// The entry sharing the longest token prefix with `prompt`, looking at no
    /// more than `limit` tokens.
    func longestMatch(_ prompt: [Int32], limit: Int) -> (entry: Entry, length: Int)? {
        var best: (entry: Entry, length: Int)?
        for entry in entries {
            let bound = min(limit, entry.tokens.count)
            var n = 0
            while n < bound, entry.tokens[n] == prompt[n] { n += 1 }
            if n > (best?.length ?? 0) { best = (entry, n) }
        }
        return best
    }

    /// Records a reuse of `entry` (what LRU orders by).
    func markUsed(_ entry: Entry) {
        clock += 1
        entry.lastUsed = clock
    }

    /// Stores the first `tokens.count` positions of `cache` under `tokens`,
    /// evicting by policy until it fits. An identical entry is only marked used.
    func store(tokens: [Int32], from cache: KVCache) throws(BitNetError) {
        clock += 1
        if let existing = entries.first(where: { $0.tokens == tokens }) {
            existing.lastUsed = clock
            return
        }
        let bytes = PrefixCache.cost(count: tokens.count, cache: cache)
        guard bytes <= budget else {
            throw .invalidArgument("a prefix of \(tokens.count) tokens needs \(bytes) bytes; prefix_cache_bytes is \(budget)")
        }
        while statistics.bytes + bytes > budget, let victim = victimIndex() {
            statistics.bytes -= entries[victim].bytes
            entries.remove(at: victim)
            statistics.evictions += 1
        }
        let snapshot = try Memory.allocate(bytes: cache.snapshotBytes(count: tokens.count), what: "prefix cache entry")
        cache.writeSnapshot(count: tokens.count, to: snapshot)
        entries.append(Entry(tokens: tokens, snapshot: snapshot, bytes: bytes, clock: clock))
        statistics.bytes += bytes
        statistics.entries = entries.count
    }

    private func victimIndex() -> Int? {
        switch policy {
        case .leastRecentlyUsed: entries.indices.min { entries[$0].lastUsed < entries[$1].lastUsed }
        case .firstInFirstOut: entries.indices.min { entries[$0].inserted < entries[$1].inserted }
        }
    }

    func removeAll() {
        entries.removeAll()
        statistics.bytes = 0
        statistics.entries = 0
    }
}
