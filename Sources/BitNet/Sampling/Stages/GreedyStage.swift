/// Selects the highest logit (lowest id among equals). Selects nothing when
/// every logit is −inf.
struct GreedyStage: SamplerStage {
    let name = "greedy"

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        var best: TokenCandidate?
        if candidates.coversVocabulary {
            var bestLogit = -Float.infinity
            var bestIndex = -1
            for (index, logit) in candidates.vocabulary.enumerated() where logit > bestLogit {
                bestLogit = logit
                bestIndex = index
            }
            if bestIndex >= 0 { best = TokenCandidate(id: Int32(truncatingIfNeeded: bestIndex), logit: bestLogit) }
        } else {
            for item in candidates.items where item.logit > -.infinity {
                if let current = best, !TokenCandidate.ranksBefore(item, current) { continue }
                best = item
            }
        }
        candidates.selected = best?.id
    }
}
