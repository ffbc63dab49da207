/// Nucleus sampling: keeps the most likely candidates until their probability
/// (renormalized over the current candidates) reaches `p`; at least `minKeep`.
struct TopPStage: SamplerStage {
    let name = "top-p"
    let p: Float
    let minKeep: Int
    private var cut = ProbabilityMassCut()

    init(p: Float, minKeep: Int = 1) {
        self.p = p
        self.minKeep = minKeep
    }

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        guard p < 1, candidates.count > 1 else { return }
        let normalizer = candidates.candidateNormalizer()
        guard normalizer.sumExp > 0 else { return }  // everything banned; the final stage reports it
        let (p, minKeep) = (Double(self.p), self.minKeep)
        cut.apply(to: &candidates, normalizer: normalizer, ranking: RankByLogit()) { mass, kept in
            mass >= p && kept >= minKeep
        }
    }
}
