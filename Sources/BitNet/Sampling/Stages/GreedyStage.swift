/// Selects the highest logit (lowest id among equals). Selects nothing when
/// every logit is −inf.
struct GreedyStage: SamplerStage {
    let name = "greedy"

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        var best: TokenCandidate?
        if candidates.coversVocabulary {
            // The vectorized max is computed anyway (the logprob needs it); then
            // the first token holding it.
            let maximum = candidates.maxLogit()
            if maximum > -.infinity, let index = candidates.vocabulary.firstIndex(of: maximum) {
                best = TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: maximum)
            }
        } else {
            for item in candidates.items where item.logit > -.infinity {
                if let current = best, !TokenCandidate.ranksBefore(item, current) { continue }
                best = item
            }
        }
        candidates.selected = best?.id
    }
}
