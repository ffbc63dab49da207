/// Settings of a `Batch`.
public struct BatchOptions: Sendable {
    /// Most contexts that may belong to the batch at once.
    public var maxSequences: Int = 8
    /// Worker threads of the batch's steps, its own step thread included; 0 means one per online CPU.
    public var threads: Int = 0
    /// Most prompt tokens of one sequence in one step. A newcomer's prompt is
    /// read this many tokens at a time, interleaved with the others' decode
    /// steps: smaller keeps running streams flowing, larger reads prompts faster.
    public var promptChunk: Int = 16
    /// Budget of the prefix cache shared by the batch's contexts; 0 disables it.
    public var prefixCacheBytes: Int = 64 << 20
    public var prefixEviction: EvictionPolicy = .leastRecentlyUsed
    /// The kernel set of the steps and of every member context (its KV cache
    /// included); see `ContextOptions.kernels`. `KernelSet.selected` is only the default.
    package var kernels: KernelSet = .selected

    public init() {}
}

/// Counters of a batch since it was created.
public struct BatchStatistics: Sendable, Equatable {
    /// Forward passes run.
    public var steps: UInt64 = 0
    /// Contexts that belong to the batch now.
    public var sequences = 0
    /// Sequences in the most recent step.
    public var lastStepSequences = 0
    /// Sequence segments over all steps (a decode token or a prompt chunk each).
    public var segments: UInt64 = 0
    /// Tokens evaluated over all steps (decode and prompt).
    public var tokens: UInt64 = 0
    /// Seconds spent inside steps.
    public var busySeconds: Double = 0

    /// Sequences per step, on average.
    public var meanBatchSize: Double { steps == 0 ? 0 : Double(segments) / Double(steps) }
    /// Tokens evaluated per second of step time.
    public var tokensPerSecond: Double { busySeconds > 0 ? Double(tokens) / busySeconds : 0 }
}

/// A group of contexts of one model whose evaluations are coalesced: every
/// step runs the pending work of all of them — one decode token each, plus
/// prompt chunks — in one pass over the weights (continuous batching).
///
/// Decoding is memory-bound, so N sequences in one pass cost little more than
/// one. Contexts join by being created with `ContextOptions.batch`; they keep
/// their own KV cache, tokens and logits, and are driven exactly as before
/// (`eval`, `ingest`, generators, streams): their evaluations wait for the
/// next step instead of running on their own threads.
///
/// Threading rules: each context is still used by one thread at a time; any
/// number of contexts of the batch may evaluate concurrently from their own
/// threads. The batch's steps run on its own thread plus `threads - 1`
/// workers. A sequence that pauses, finishes or is cancelled simply stops
/// submitting: the others never wait for it beyond the short gathering window
/// after a step (`StepScheduler.gatherWindow(after:)`: an eighth of a step,
/// 2–10 ms).
///
/// Determinism: a sequence's logits do not depend on what shares its steps
/// (`ForwardPass.run(_:)`), so its tokens equal those it gets alone with the
/// same seed and kernels.
public final class Batch: @unchecked Sendable {
    public let model: Model
    public let options: BatchOptions
    let scheduler: StepScheduler
    /// Shared by the contexts: a common system prompt is evaluated once.
    let prefixCache: PrefixCache
    private let members = Locked<Int>(0)

    public init(model: Model, options: BatchOptions = BatchOptions()) throws(BitNetError) {
        guard options.maxSequences >= 1, options.maxSequences <= 256 else {
            throw .invalidArgument("max_sequences must be in 1...256, got \(options.maxSequences)")
        }
        guard options.promptChunk >= 1, options.promptChunk <= 512 else {
            throw .invalidArgument("prompt_chunk must be in 1...512, got \(options.promptChunk)")
        }
        guard options.threads >= 0 else { throw .invalidArgument("n_threads is negative (\(options.threads))") }
        guard options.prefixCacheBytes >= 0 else { throw .invalidArgument("prefix_cache_bytes is negative") }
        var resolved = options
        if resolved.threads == 0 { resolved.threads = ThreadPool.defaultThreadCount }
        resolved.threads = min(resolved.threads, 256)
        let weights = try model.evaluableWeights()
        self.model = model
        self.options = resolved
        prefixCache = PrefixCache(budget: resolved.prefixCacheBytes, policy: resolved.prefixEviction)
        // Room for every member's decode token plus one full prompt chunk.
        scheduler = try StepScheduler(hparams: model.hparams, weights: weights, threads: resolved.threads,
                                      rows: resolved.maxSequences + resolved.promptChunk,
                                      kernels: resolved.kernels)
    }

    /// Counters so far.
    public var statistics: BatchStatistics {
        var stats = scheduler.statistics
        stats.sequences = members.withLock { $0 }
        return stats
    }

    /// Admits one more context, or throws BITNET_E_BUSY when the batch is full.
    func join() throws(BitNetError) {
        let admitted = members.withLock { count -> Bool in
            guard count < options.maxSequences else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw BitNetError(.busy, "the batch already has its max_sequences (\(options.maxSequences)) contexts")
        }
    }

    /// A member context went away.
    func leave(_ context: ObjectIdentifier) {
        scheduler.forget(context)
        members.withLock { $0 -= 1 }
    }
}
