/// What a generation starts from.
public enum GenerationPrompt: Sendable {
    /// Text, tokenized with the params' `addBOS` / `parseSpecial`.
    case text(String)
    /// Token ids, used as they are.
    case tokens([Int32])
    /// Whatever the context already holds (after `eval` or a state load).
    case continuation
}

/// The one generation loop: prompt → sample → evaluate → detokenize → stop
/// matching → chunks. Push mode, resume after a pause, pull streams and Swift
/// iteration all drive this object; they differ only in who calls `next`.
///
/// Order inside one step: sample a token from the context's current logits;
/// a stop token ends the generation without entering the context; any other
/// token is evaluated *before* its text is released. So whenever a chunk has
/// been handed out, the context holds every token generated so far and its
/// logits are those of the last one: a pause needs no pending state beyond
/// this object, resuming is simply calling `next` again, and a cancelled or
/// interrupted evaluation leaves the context as it was before that token
/// (its text never delivered). The cost is that the first chunk waits for
/// the first token's evaluation; a generation that ends at `maxNewTokens`
/// has the last token evaluated too, so `.continuation` can go on from it.
///
/// Not thread-safe: run `prepare` and `next` inside `context.exclusive`.
/// Between calls the context must not change (checked: a changed context
/// fails with BITNET_E_INVALID_ARGUMENT instead of producing wrong text).
public final class Generator: @unchecked Sendable {
    public let context: Context
    public let params: GenerationParams
    public private(set) var stats = GenerationStats()
    public private(set) var isFinished = false

    private let tokenizer: Tokenizer
    private let prompt: GenerationPrompt
    private var promptTokens: [Int32] = []
    private var sampler: SamplerChain
    private var detokenizer: StreamingDetokenizer
    private var stops: StopSequenceMatcher
    private let stopTokens: Set<Int32>
    private var isPrepared = false
    /// Sequence length the context must have between steps.
    private var expectedCount = 0
    /// A copy of the logits: sampling modifies its input.
    private var scratch: [Float] = []
    /// Tokens sampled since the last chunk (their text may be held back).
    private var pendingTokens: [Int32] = []
    private var pendingLogprobs: [Float] = []
    private let clock = ContinuousClock()
    private var started: ContinuousClock.Instant

    /// Checks the params and tokenizes a text prompt; does not touch the context.
    public init(context: Context, prompt: GenerationPrompt, params: GenerationParams) throws(BitNetError) {
        guard let tokenizer = context.model.tokenizer else {
            throw .unsupported("generation needs a tokenizer and the model has no tokenizer metadata")
        }
        let vocabulary = context.model.hparams.nVocab
        try params.validate(vocabularySize: vocabulary)
        self.context = context
        self.params = params
        self.tokenizer = tokenizer
        self.prompt = prompt
        sampler = try SamplerChain(params.sampling)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stops = StopSequenceMatcher(stops: params.stopSequences)
        var stopTokens = Set(params.stopTokens)
        if !params.ignoreEOS {
            if let eos = tokenizer.eos { stopTokens.insert(eos) }
            if let eot = tokenizer.eot { stopTokens.insert(eot) }
        }
        self.stopTokens = stopTokens
        if let grammar = params.grammar {
            sampler.constrain(to: grammar, tokenizer: tokenizer, stopTokens: stopTokens)
        }
        started = clock.now
        switch prompt {
        case .text(let text):
            promptTokens = tokenizer.encode(text, addBOS: params.addBOS, parseSpecial: params.parseSpecial)
            guard !promptTokens.isEmpty else { throw .invalidArgument("the prompt has no tokens (empty text and no BOS)") }
        case .tokens(let ids):
            guard !ids.isEmpty else { throw .invalidArgument("the prompt has no tokens") }
            try context.checkTokens(ids, what: "prompt token")  // early, so a bad prompt fails at creation
            promptTokens = ids
        case .continuation:
            break
        }
        scratch = [Float](repeating: 0, count: vocabulary)
    }

    /// The prompt's token ids (for `.continuation`, known after `prepare`).
    public var promptTokenIDs: [Int32] { promptTokens }

    // MARK: - Prompt

    /// Brings the context to the prompt: keeps the longest common prefix,
    /// evaluates the rest batch by batch and reports `progress(done, total)`
    /// after each batch (return false to cancel). Idempotent.
    public func prepare(progress: ((Int, Int) -> Bool)? = nil,
                        isCancelled: () -> Bool = { false }) throws(BitNetError) {
        guard !isPrepared else { return }
        let start = clock.now
        started = start
        do {
            if case .continuation = prompt {
                try prepareContinuation()
            } else {
                try ingest(progress: progress, isCancelled: isCancelled)
            }
        } catch {
            finish(error.status == .cancelled ? .cancelled : .none)
            throw error
        }
        sampler.accept(contentsOf: promptTokens)
        stats.promptTokens = promptTokens.count
        stats.promptDuration = clock.now - start
        expectedCount = context.count
        isPrepared = true
    }

    private func ingest(progress: ((Int, Int) -> Bool)?, isCancelled: () -> Bool) throws(BitNetError) {
        // Context.ingest reuses what the context holds and the prefix cache.
        stats.promptTokensReused = try context.ingest(prompt: promptTokens, progress: progress, isCancelled: isCancelled)
    }

    /// Continues from the context's tokens; re-evaluates the last one when
    /// its logits are gone (after a truncate or a state load).
    private func prepareContinuation() throws(BitNetError) {
        promptTokens = context.tokens
        guard let last = promptTokens.last else {
            throw .invalidArgument("prompt is NULL but the context holds no tokens to continue from")
        }
        stats.promptTokensReused = promptTokens.count
        if context.logits(row: -1) == nil {
            try context.truncate(to: promptTokens.count - 1)
            stats.promptTokensReused -= 1
            try [last].withUnsafeBufferPointer { (one) throws(BitNetError) in try context.eval(one) }
        }
    }

    // MARK: - Tokens

    /// The next chunk of text, or nil when the generation has finished
    /// (`stats.stopReason` says why). Throws BITNET_E_CANCELLED when the
    /// context was interrupted or `isCancelled` returned true (the
    /// generation is then finished with stop reason `.cancelled`).
    public func next(isCancelled: () -> Bool = { false }) throws(BitNetError) -> GenerationChunk? {
        if !isPrepared { try prepare(isCancelled: isCancelled) }
        while !isFinished {
            let stepStart = clock.now
            defer { stats.generationDuration += clock.now - stepStart }
            if isCancelled() || context.isInterrupted {
                finish(.cancelled)
                throw cancelledError("between tokens")
            }
            guard context.count == expectedCount, context.logits(row: -1) != nil else {
                finish(.none)
                throw .invalidArgument("the context changed while the generation was paused; start a new one")
            }
            if params.maxNewTokens > 0 && stats.generated >= params.maxNewTokens { return finish(.maxTokens) }
            // Room is made after sampling (a shift drops the logits), but whether there can be any is known now.
            if !context.canMakeRoom(for: 1) { return finish(.contextFull) }

            let sampled: SampledToken
            do {
                // A grammar that allows nothing more ends the text (also without an EOS token).
                if try sampler.grammarIsComplete() { return finish(.endOfText) }
                sampled = try sampleNext()
            } catch {
                finish(.none)
                throw error
            }
            let token = sampled.token
            if stopTokens.contains(token) {
                stats.stopToken = token
                return finish(.endOfText)
            }
            do {
                stats.shiftedTokens += try context.makeRoom(for: 1)
            } catch {
                return finish(.contextFull)
            }
            do {
                try [token].withUnsafeBufferPointer { (one) throws(BitNetError) in try context.eval(one) }
            } catch {
                finish(error.status == .cancelled ? .cancelled : .none)
                throw error
            }
            expectedCount = context.count
            sampler.accept(token)
            do {
                try sampler.advanceGrammar(past: token)
            } catch {
                finish(.none)
                throw error
            }
            stats.generated += 1
            if stats.generated == 1 { stats.timeToFirstToken = clock.now - started }
            pendingTokens.append(token)
            pendingLogprobs.append(sampled.logprob)

            let output = stops.feed(detokenizer.append(token).utf8)
            if let matched = output.matchedStop {
                stats.stopIndex = matched
                isFinished = true
                stats.stopReason = .stopSequence
                return makeChunk(output.text)
            }
            if let chunk = makeChunk(output.text) { return chunk }
        }
        return nil
    }

    /// Ends the generation as cancelled (e.g. the callback asked for it).
    public func cancel() { finish(.cancelled) }

    private func sampleNext() throws(BitNetError) -> SampledToken {
        guard let logits = context.logits(row: -1) else {
            throw BitNetError(.internal, "no logits for the last token")
        }
        return try scratch.withUnsafeMutableBufferPointer { (buffer) throws(BitNetError) -> SampledToken in
            _ = buffer.initialize(fromContentsOf: logits)
            return try sampler.sample(logits: buffer)
        }
    }

    /// Ends the generation; releases held-back text unless it was cancelled.
    @discardableResult
    private func finish(_ reason: StopReason) -> GenerationChunk? {
        guard !isFinished else { return nil }
        isFinished = true
        stats.stopReason = reason
        context.willIdle()
        guard reason != .cancelled && reason != .none else { return nil }
        var tail = stops.feed(detokenizer.flush().utf8)
        if let matched = tail.matchedStop {
            stats.stopReason = .stopSequence
            stats.stopIndex = matched
        } else {
            tail.text += stops.flush()
        }
        return makeChunk(tail.text)
    }

    private func makeChunk(_ text: [UInt8]) -> GenerationChunk? {
        guard !text.isEmpty else { return nil }
        let chunk = GenerationChunk(text: text, tokens: pendingTokens, logprobs: pendingLogprobs,
                                    generatedCount: stats.generated)
        pendingTokens.removeAll(keepingCapacity: true)
        pendingLogprobs.removeAll(keepingCapacity: true)
        return chunk
    }

    private func cancelledError(_ when: String) -> BitNetError {
        BitNetError(.cancelled, "generation cancelled \(when)")
    }
}
