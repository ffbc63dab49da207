/// Turns one position's logits into the next token: a fixed pipeline of
/// `SamplerStage`s built from `SamplingParams`, llama.cpp's default order:
///
///     logit-bias → penalties → top-k → typical → top-p → min-p → temperature → dist
///
/// or, at temperature 0, `logit-bias → penalties → greedy`. Stages whose
/// parameter is neutral are left out. Cost per token is O(V) plus small
/// terms: the narrowing stages select partially instead of sorting the vocabulary.
///
/// Typical loop:
///
///     var chain = try SamplerChain(params)
///     chain.accept(contentsOf: promptTokens)      // penalties see the prompt too
///     let next = try chain.sample(logits: logits)  // next.token, next.logprob
///     chain.accept(next.token)
///
/// Reproducibility: same seed + same logits + same params gives the same
/// tokens as long as each generation starts from a new chain or `reset()`.
/// A value type: copying a chain copies its history and generator state.
package struct SamplerChain: Sendable {
    package let params: SamplingParams
    /// The seed actually used (differs from `params.seed` when that asked for a random one).
    package let seed: UInt64
    var stages: [any SamplerStage]
    var random: RandomGenerator
    /// Whether `sample` computes `SampledToken.logprob`. The log-softmax needs
    /// one exp over the whole vocabulary (~0.15 ms at 128k on this machine);
    /// when false, `logprob` is NaN.
    package var computesLogprob = true
    /// Candidate storage reused across calls.
    var scratch: [TokenCandidate] = []
    /// The grammar stage, when generation is constrained (`SamplerChain+Grammar.swift`).
    var grammar: GrammarConstraint?

    package init(_ params: SamplingParams) throws(BitNetError) {
        try params.validate()
        self.params = params
        seed = params.seed == SamplingParams.randomSeed ? RandomGenerator.entropySeed() : params.seed
        random = RandomGenerator(seed: seed)
        stages = Self.stages(for: params)
    }

    /// The stage names in order, e.g. ["top-k", "top-p", "temperature", "dist"].
    package var stageNames: [String] { stages.map(\.name) }

    private static func stages(for params: SamplingParams) -> [any SamplerStage] {
        var stages: [any SamplerStage] = []
        if !params.logitBias.isEmpty { stages.append(LogitBiasStage(biases: params.logitBias)) }
        if params.penaltiesAreActive {
            stages.append(PenaltiesStage(
                window: Int(params.repeatLastN), repetition: params.repetitionPenalty,
                presence: params.presencePenalty, frequency: params.frequencyPenalty))
        }
        if params.isGreedy {
            stages.append(GreedyStage())
            return stages
        }
        if params.topK > 0 { stages.append(TopKStage(k: Int(params.topK))) }
        if params.typicalP < 1 { stages.append(TypicalStage(p: params.typicalP)) }
        if params.topP < 1 { stages.append(TopPStage(p: params.topP)) }
        if params.minP > 0 { stages.append(MinPStage(p: params.minP)) }
        if params.temperature != 1 { stages.append(TemperatureStage(temperature: params.temperature)) }
        stages.append(DistributionStage())
        return stages
    }

    /// Picks the next token.
    ///
    /// `logits` (one per vocabulary entry) is modified in place: NaN becomes
    /// −inf, +inf the largest finite float, and logit bias and penalties are
    /// added. Throws when the buffer is empty or no token can be chosen
    /// (every logit −inf, e.g. all banned by the bias).
    package mutating func sample(logits: UnsafeMutableBufferPointer<Float>) throws(BitNetError) -> SampledToken {
        guard !logits.isEmpty else { throw .invalidArgument("sample: the logits buffer is empty") }
        guard logits.count <= Int(Int32.max) else {
            throw .invalidArgument("sample: \(logits.count) logits exceed the token id range")
        }
        Self.sanitize(logits)
        if grammar != nil { return try sampleConstrained(logits: logits) }
        var candidates = TokenCandidates(vocabulary: logits, storage: scratch)
        scratch = []
        for index in stages.indices {
            stages[index].apply(to: &candidates, random: &random)
        }
        let selected = candidates.selected
        let normalizer = selected != nil && computesLogprob ? candidates.vocabularyNormalizer() : nil
        scratch = candidates.takeStorage()
        guard let token = selected else {
            throw .invalidArgument("sample: no token can be chosen: every logit is -inf (all banned?)")
        }
        return SampledToken(token: token, logprob: normalizer?.logProbability(logits[Int(token)]) ?? .nan)
    }

    /// The candidates left just before the final stage (greedy or dist), for
    /// tests that compare the filters with a reference. Same side effects on
    /// `logits` as `sample`; the generator is not advanced.
    mutating func survivingCandidates(logits: UnsafeMutableBufferPointer<Float>) -> [TokenCandidate] {
        Self.sanitize(logits)
        var candidates = TokenCandidates(vocabulary: logits)
        for index in stages.indices.dropLast() {
            stages[index].apply(to: &candidates, random: &random)
        }
        return candidates.candidateList
    }

    /// Convenience for callers holding an array.
    package mutating func sample(logits: inout [Float]) throws(BitNetError) -> SampledToken {
        var result: Result<SampledToken, BitNetError>
        result = logits.withUnsafeMutableBufferPointer { buffer in
            do throws(BitNetError) { return .success(try sample(logits: buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Records a token that is now part of the sequence (prompt or generated)
    /// for the penalties' window.
    package mutating func accept(_ token: Int32) {
        for index in stages.indices { stages[index].accept(token) }
    }

    package mutating func accept(contentsOf tokens: some Sequence<Int32>) {
        for token in tokens { accept(token) }
    }

    /// Starts over: forgets the history and re-seeds the generator with `seed`
    /// (so a reset chain repeats its tokens exactly).
    package mutating func reset() {
        for index in stages.indices { stages[index].reset() }
        grammar?.reset()
        random = RandomGenerator(seed: seed)
    }

    /// The generator's complete state (4 words), for saving with a context.
    package var randomState: [UInt64] { random.stateWords }

    /// Continues the random sequence from a saved `randomState`.
    package mutating func restoreRandomState(_ words: [UInt64]) throws(BitNetError) {
        random = try RandomGenerator(stateWords: words)
    }

    /// The penalties' window, oldest first (empty when penalties are off).
    package var penaltyHistory: [Int32] {
        for stage in stages {
            if let penalties = stage as? PenaltiesStage { return penalties.recentTokens }
        }
        return []
    }

    /// NaN would poison every comparison and sum: treat it as "impossible".
    /// +inf would make exp(inf − inf) = NaN: clamp it to the largest finite value.
    private static func sanitize(_ logits: UnsafeMutableBufferPointer<Float>) {
        VectorMath.sanitize(logits)
    }
}

extension SamplingParams {
    /// The checks of `validate()` plus those that need the vocabulary size
    /// (logit-bias token ids must exist).
    package func validate(vocabularySize: Int) throws(BitNetError) {
        try validate()
        for (index, entry) in logitBias.enumerated() where Int(entry.token) >= vocabularySize {
            throw .invalidArgument(
                "logit_bias[\(index)]: token \(entry.token) is outside the vocabulary (size \(vocabularySize))")
        }
    }
}
