import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of an inference context.
public struct ContextOptions: Sendable {
    /// KV capacity in tokens; 0 means the model's training context, capped at 4096.
    public var contextLength: Int = 0
    /// Most tokens pushed through the network at once while reading a prompt.
    public var batchSize: Int = 64
    /// Worker threads including the caller; 0 means one per online CPU
    /// (negative is refused when the context is created).
    public var threads: Int = 0
    public var kvType: KVType = .f16
    /// Budget of the prefix cache (stored prefixes' KV + ids); 0 disables it.
    public var prefixCacheBytes: Int = 64 << 20
    public var prefixEviction: EvictionPolicy = .leastRecentlyUsed
    /// Store every prompt `ingest` evaluates in the prefix cache, not only warmed ones.
    public var prefixCacheAuto: Bool = false
    /// What a generation does when the context is full (see `shiftForOverflow`).
    public var overflowPolicy: OverflowPolicy = .stop
    /// Tokens a shift never drops (attention sinks: the BOS and system prompt start).
    public var keepOnShift: Int = 4
    /// Keep the logits of every position an `eval` computes, not only the last.
    package var allLogits: Bool = false
    /// The kernel set of everything this context runs: the int8, dense and
    /// attention kernels and the float helpers of its forward pass, KV cache
    /// and activation quantization (tests pin a whole context to one set and
    /// compare sets within one process). `KernelSet.selected` is only the default.
    package var kernels: KernelSet = .selected
    /// The batch whose steps evaluate this context (nil: alone, on its own
    /// threads). A batched context uses the batch's threads, kernels and
    /// prefix cache instead of `threads`, `kernels` and the prefix-cache
    /// options here, and reads prompts `batch.options.promptChunk` tokens at a time.
    public var batch: Batch?

    public init() {}

    /// The kernel set the context runs: its batch's when it has one (the
    /// batch's steps run its forward pass), else `kernels`.
    package var effectiveKernels: KernelSet { batch?.options.kernels ?? kernels }

    /// The options with defaults filled in for a model (n_ctx 0, batch beyond
    /// n_ctx), or the error for a value no context takes. The one check of
    /// these options: Swift callers and the C API (`bitnet_context_new`,
    /// `bitnet_kv_bytes_estimate`) both come through here.
    package func resolved(for hp: HyperParameters) throws(BitNetError) -> ContextOptions {
        guard threads >= 0 else { throw .invalidArgument("n_threads is negative (\(threads))") }
        guard keepOnShift >= 0 else { throw .invalidArgument("n_keep is negative (\(keepOnShift))") }
        var options = self
        if options.contextLength == 0 { options.contextLength = min(hp.nCtxTrain, 4096) }
        guard options.contextLength > 0 else { throw .invalidArgument("n_ctx must be positive") }
        guard options.batchSize > 0 else { throw .invalidArgument("n_batch must be positive") }
        options.batchSize = min(options.batchSize, options.contextLength)
        return options
    }
}

/// A sequence being evaluated: the KV cache, scratch memory and threads that
/// run the forward pass of a shared, immutable `Model`.
///
/// One thread at a time: every public operation that changes the context
/// runs inside `exclusive`, which fails with `BITNET_E_BUSY` instead of
/// racing when another thread (or a callback of the running call) is inside.
/// `interrupt()` is the exception: any thread, any time.
public final class Context: @unchecked Sendable {
    public let model: Model
    let weights: ModelWeights
    let options: ContextOptions
    public let capacity: Int
    let cache: KVCache
    let prefixCache: PrefixCache
    let pool: ThreadPool
    let rope: RoPE
    /// Who runs the forward pass: the context itself, or its batch's steps.
    private enum Evaluator {
        case alone(ForwardPass)
        case batched(Batch)
    }
    private let evaluator: Evaluator
    /// Most tokens one forward pass of this context takes.
    private let chunkSize: Int

    /// The tokens the cache holds, their exact prefix and the logit rows:
    /// changed only through `TokenSequence`'s edits.
    var sequence = TokenSequence()
    /// The token ids whose keys and values the cache holds, in order.
    package var tokens: [Int32] { sequence.tokens }
    /// A slot the generation loop may fill (e.g. the sampler's RNG state) so
    /// that it is saved and restored with the context's state.
    package var stateExtra: [UInt64] = []
    package var count: Int { sequence.count }
    package var threadCount: Int { batch?.scheduler.threadCount ?? pool.threadCount }
    /// The batch whose steps evaluate this context, if it was created with one.
    public var batch: Batch? { options.batch }

    /// Logits of the positions the last `eval` kept: [logitRows][nVocab].
    /// Manually allocated so the pointer handed to C stays stable.
    private var logitsStorage: UnsafeMutablePointer<Float>?
    private var logitsCapacity = 0
    package var logitRows: Int { sequence.logitRows }

    private let busy = Atomic<Bool>(false)
    private let interruptRequested = Atomic<Bool>(false)

    public init(model: Model, options: ContextOptions = ContextOptions()) throws(BitNetError) {
        let weights = try model.evaluableWeights()
        let hp = model.hparams
        var options = try options.resolved(for: hp)
        if options.threads <= 0 { options.threads = ThreadPool.defaultThreadCount }
        options.threads = min(options.threads, 256)
        self.model = model
        self.weights = weights
        capacity = options.contextLength
        if let batch = options.batch {
            guard batch.model === model else {
                throw .invalidArgument("the batch belongs to another model; a batch's contexts share one model")
            }
            options.batchSize = min(options.batchSize, batch.options.promptChunk)
        }
        self.options = options
        chunkSize = options.batchSize
        rope = RoPE(model: hp)
        cache = try KVCache(layers: hp.nLayer, capacity: capacity, heads: hp.nHeadKV, headDim: hp.headDim,
                            type: options.kvType, batch: options.batchSize, kernels: options.effectiveKernels)
        if let batch = options.batch {
            prefixCache = batch.prefixCache
            pool = try ThreadPool(threadCount: 1)  // no workers: the batch's steps do the work
            try batch.join()
            evaluator = .batched(batch)
        } else {
            prefixCache = PrefixCache(budget: options.prefixCacheBytes, policy: options.prefixEviction)
            pool = try ThreadPool(threadCount: options.threads)
            evaluator = .alone(try ForwardPass(hparams: hp, weights: weights, pool: pool,
                                               batchSize: options.batchSize, kernels: options.kernels))
        }
    }

    deinit {
        free(logitsStorage)
        if case .batched(let batch) = evaluator { batch.leave(ObjectIdentifier(self)) }
    }

    // MARK: - Exclusive use

    /// Runs `body` as the only user of this context, or throws BITNET_E_BUSY.
    /// Starting a call clears an interrupt left over from an earlier one.
    package func exclusive<T>(_ body: () throws(BitNetError) -> T) throws(BitNetError) -> T {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw BitNetError(.busy, "the context is in use by another thread or by the running call")
        }
        defer { busy.store(false, ordering: .releasing) }
        // An interrupt aimed at an earlier call must not cancel this one.
        interruptRequested.store(false, ordering: .relaxed)
        return try body()
    }

    /// Asks the running call to stop; honoured between layers (batched:
    /// between steps). Any thread.
    public func interrupt() {
        interruptRequested.store(true, ordering: .relaxed)
        if case .batched(let batch) = evaluator { batch.scheduler.wake() }
    }

    /// This context will not evaluate for a while (its generation paused or
    /// ended): its batch's next step need not wait for it. No effect alone.
    public func willIdle() {
        if case .batched(let batch) = evaluator { batch.scheduler.forget(ObjectIdentifier(self)) }
    }

    var isInterrupted: Bool { interruptRequested.load(ordering: .relaxed) }

    // MARK: - Evaluation

    /// Appends `newTokens` to the sequence and computes their logits: every
    /// position's when `allLogits` is set, else the last one's. Atomic: on any
    /// error (full context, bad id, interrupt) the sequence is as before.
    package func eval(_ newTokens: UnsafeBufferPointer<Int32>) throws(BitNetError) {
        guard !newTokens.isEmpty else { return }
        // Room first: a caller's count is checked before its ids are read.
        guard newTokens.count <= capacity - count else {
            throw BitNetError(.contextFull, "context holds \(count) of \(capacity) tokens; "
                              + "\(newTokens.count) more do not fit")
        }
        try checkTokens(newTokens)
        let vocab = model.hparams.nVocab
        let keepAll = options.allLogits
        let rows = keepAll ? newTokens.count : 1
        let logits = try logitsBuffer(floats: rows * vocab)
        let start = tokens.count
        var done = 0
        while done < newTokens.count {
            let n = min(chunkSize, newTokens.count - done)
            let isLast = done + n == newTokens.count
            let firstLogitRow = keepAll ? 0 : (isLast ? n - 1 : n)
            let segment = SequenceSegment(cache: cache, tokens: UnsafeBufferPointer(rebasing: newTokens[done..<(done + n)]),
                                          startPosition: start + done, logitRows: firstLogitRow..<n,
                                          logits: logits + (keepAll ? done * vocab : 0))
            do {
                switch evaluator {
                case .alone(let forward):
                    try forward.run([segment], isInterrupted: { self.isInterrupted })
                case .batched(let batch):
                    try batch.scheduler.evaluate(segment, for: ObjectIdentifier(self), isInterrupted: { self.isInterrupted })
                }
            } catch {
                sequence.dropLogits()
                throw error
            }
            done += n
        }
        sequence.append(newTokens, logitRows: rows)
    }

    /// The one check of token ids the context evaluates (eval, ingest, the
    /// generator's prompt): every id inside the vocabulary.
    package func checkTokens<C: Collection<Int32>>(_ ids: C, what: String = "token") throws(BitNetError) {
        let vocab = model.hparams.nVocab
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= vocab {
            throw .invalidArgument("\(what) \(i) has id \(id), outside the vocabulary 0..<\(vocab)")
        }
    }

    func logitsBuffer(floats: Int) throws(BitNetError) -> UnsafeMutablePointer<Float> {
        if let storage = logitsStorage, logitsCapacity >= floats { return storage }
        free(logitsStorage)
        logitsStorage = nil
        logitsCapacity = 0
        let bytes = try Memory.checkedProduct([floats, MemoryLayout<Float>.size], what: "logits")
        let storage = try Memory.allocate(bytes: bytes, what: "logits").assumingMemoryBound(to: Float.self)
        logitsStorage = storage
        logitsCapacity = floats
        return storage
    }

    /// Logits of row `index` of the last eval (negative counts from the end),
    /// nVocab floats; nil when that row was not kept. Valid until the next
    /// call that changes the context.
    package func logits(row index: Int = -1) -> UnsafeBufferPointer<Float>? {
        let row = index < 0 ? logitRows + index : index
        guard row >= 0, row < logitRows, let storage = logitsStorage else { return nil }
        let vocab = model.hparams.nVocab
        return UnsafeBufferPointer(start: storage + row * vocab, count: vocab)
    }

    /// Makes the sequence equal `prompt` and computes the logits of its last
    /// token, reusing the longest prefix the context already holds: only the
    /// tokens after it are evaluated. Returns how many tokens were reused.
    /// The prefix cache extends the reuse to prefixes stored earlier (copied
    /// in), and with `prefixCacheAuto` the prompt is stored there afterwards.
    ///
    /// The rest is evaluated batch by batch; `progress(done, total)` runs
    /// after the reuse and after each batch (false cancels), and `isCancelled`
    /// or an interrupt is checked between batches. On failure the context
    /// holds the reused prefix plus the batches that completed. With
    /// `allLogits` and no `progress`, the rest is one eval, so the logits of
    /// every evaluated position are kept (and an interrupt keeps none of it).
    @discardableResult
    package func ingest(prompt: [Int32], progress: ((Int, Int) -> Bool)? = nil,
                       isCancelled: () -> Bool = { false }) throws(BitNetError) -> Int {
        guard !prompt.isEmpty else { throw .invalidArgument("the prompt has no tokens") }
        // Whole-prompt checks before anything changes: a prompt that cannot
        // fit or holds a bad id leaves the context as it was.
        guard prompt.count <= capacity else {
            throw BitNetError(.contextFull, "the prompt has \(prompt.count) tokens; the context holds \(capacity)")
        }
        try checkTokens(prompt, what: "prompt token")
        var common = 0
        let held = min(prompt.count, sequence.exactPrefixLength)
        while common < held, prompt[common] == tokens[common] { common += 1 }
        // The last prompt token is always evaluated: its logits are the point.
        var reused = min(common, prompt.count - 1)
        try truncate(to: reused)
        if prompt.count <= capacity {
            reused = reusePrefixCache(prompt, holding: reused)
        }
        let total = prompt.count
        var done = reused
        if let progress, !progress(done, total) { throw BitNetError(.cancelled, "cancelled by the prompt progress callback") }
        while done < total {
            if isCancelled() || isInterrupted { throw BitNetError(.cancelled, "cancelled while reading the prompt") }
            // One batch per eval, so an interrupt keeps the batches already
            // evaluated (bitnet_context_interrupt's promise) and progress is
            // reported per batch; eval would split the same way. With
            // allLogits and no progress callback, one eval keeps every row.
            let oneCall = options.allLogits && progress == nil
            let end = oneCall ? total : min(done + chunkSize, total)
            try prompt[done..<end].withUnsafeBufferPointer { (slice) throws(BitNetError) in try eval(slice) }
            done = end
            if let progress, !progress(done, total) { throw BitNetError(.cancelled, "cancelled by the prompt progress callback") }
        }
        if options.prefixCacheAuto, prefixCache.isEnabled,
           PrefixCache.cost(count: prompt.count, cache: cache) <= prefixCache.budget {
            // Storing is an optimization: a failure (memory) does not fail the prompt.
            do throws(BitNetError) {
                try prefixCache.store(tokens: prompt, from: cache)
            } catch {
                Log.warn("prefix cache: the prompt was not stored: \(error.message)")
            }
        }
        return reused
    }

    /// Keeps the first `count` tokens (the cache beyond them is ignored and overwritten).
    package func truncate(to count: Int) throws(BitNetError) {
        guard count >= 0, count <= tokens.count else {
            throw .invalidArgument("cannot keep \(count) tokens of \(tokens.count)")
        }
        sequence.truncate(to: count)
    }

    /// Empties the sequence.
    package func reset() {
        sequence.truncate(to: 0)
    }
}
