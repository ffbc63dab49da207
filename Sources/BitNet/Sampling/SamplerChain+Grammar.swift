/// The grammar stage's place in the chain: after logit bias and penalties,
/// before every narrowing stage, as if the full mask were applied there:
///
///     logit-bias → penalties → grammar → top-k → typical → top-p → min-p → temperature → dist
///
/// How much of the vocabulary is actually examined depends on what follows:
/// - greedy or top-k: the best-ranked tokens are checked one by one until k
///   pass (`GrammarConstraint.keepBestAllowed`) — the same list a full mask
///   would leave, so the same tokens for the same seed;
/// - temperature and dist only: one token is drawn from the unconstrained
///   distribution p and kept if the grammar allows it; otherwise it is drawn
///   again from the masked distribution. The result has probability
///   p(t) + (1 − M)·p(t)/M = p(t)/M for allowed t (M = allowed mass): exactly
///   the masked distribution, though not the same random stream as masking first;
/// - top-p, min-p or typical (they need the masked distribution's total): full mask.
extension SamplerChain {
    /// Constrains the chain to `grammar` over `tokenizer`'s vocabulary; the
    /// `stopTokens` (EOS, EOT, ...) are allowed exactly where the grammar may end.
    /// `reset()` returns to the grammar's start.
    package mutating func constrain(to grammar: Grammar, tokenizer: Tokenizer, stopTokens: some Sequence<Int32>) {
        self.grammar = GrammarConstraint(grammar: grammar, tokenizer: tokenizer, stopTokens: stopTokens)
    }

    /// Moves the grammar past a generated token (no-op without a grammar).
    /// Prompt tokens do not go through the grammar: only call this for sampled ones.
    package mutating func advanceGrammar(past token: Int32) throws(BitNetError) {
        try grammar?.accept(token)
    }

    /// True when the grammar has matched a complete text that nothing may follow.
    package mutating func grammarIsComplete() throws(BitNetError) -> Bool {
        try grammar?.isComplete() ?? false
    }

    /// The stages before the grammar: logit bias and penalties.
    private var grammarSlot: Int {
        stages.prefix { $0 is LogitBiasStage || $0 is PenaltiesStage }.count
    }

    mutating func sampleConstrained(logits: UnsafeMutableBufferPointer<Float>) throws(BitNetError) -> SampledToken {
        var constraint = grammar!
        defer { grammar = constraint }
        var candidates = TokenCandidates(vocabulary: logits, storage: scratch)
        scratch = []
        let slot = grammarSlot
        for index in 0..<slot { stages[index].apply(to: &candidates, random: &random) }
        let needsMaskedTotal = stages[slot...].contains { $0 is TopPStage || $0 is MinPStage || $0 is TypicalStage }
        var selected: Int32?
        if params.isGreedy {
            try constraint.keepBestAllowed(1, &candidates)
        } else if params.topK > 0 {
            try constraint.keepBestAllowed(Int(params.topK), &candidates)
        } else if needsMaskedTotal || !constraint.lazy {
            try constraint.keepAllowed(&candidates)
        } else {
            var trial = candidates
            runStages(from: slot, on: &trial)
            if let token = trial.selected, try constraint.allows(token) { selected = token }
            if selected == nil { try constraint.keepAllowed(&candidates) }
        }
        if selected == nil {
            runStages(from: slot, on: &candidates)
            selected = candidates.selected
        }
        let normalizer = selected != nil && computesLogprob ? candidates.vocabularyNormalizer() : nil
        scratch = candidates.takeStorage()
        guard let token = selected else {
            throw .invalidArgument("sample: no token can be chosen: every token the grammar allows has logit -inf")
        }
        return SampledToken(token: token, logprob: normalizer?.logProbability(logits[Int(token)]) ?? .nan)
    }

    private mutating func runStages(from start: Int, on candidates: inout TokenCandidates) {
        for index in start..<stages.count { stages[index].apply(to: &candidates, random: &random) }
    }
}
