#if canImport(Glibc)
import Glibc
#endif

/// Locally typical sampling (Meister et al. 2022, as in llama.cpp's `typical`):
/// with entropy H of the candidates, rank tokens by |−log p − H| (closest
/// first) and keep them until their mass exceeds `p`; at least `minKeep`.
///
/// Since log p = logit − max − log S, the distance is |logit − target| with
/// target = max + log S − H, and H = log S − Σ p·(logit − max): no per-token
/// log is needed.
struct TypicalStage: SamplerStage {
    let name = "typical"
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
        let maximum = normalizer.maxLogit
        var weightedShift: Float = 0
        if candidates.coversVocabulary {
            for logit in candidates.vocabulary { weightedShift += expf(logit - maximum) * shift(logit, maximum) }
        } else {
            for item in candidates.items { weightedShift += expf(item.logit - maximum) * shift(item.logit, maximum) }
        }
        let logSum = logf(normalizer.sumExp)
        let entropy = logSum - weightedShift / normalizer.sumExp
        let target = maximum + logSum - entropy
        let (p, minKeep) = (Double(self.p), self.minKeep)
        cut.apply(to: &candidates, normalizer: normalizer, ranking: RankByDistance(target: target)) { mass, kept in
            mass > p && kept >= minKeep
        }
    }

    /// logit − max, with banned (−inf) tokens contributing 0 instead of 0 × −inf = NaN.
    @inline(__always)
    private func shift(_ logit: Float, _ maximum: Float) -> Float {
        logit > -.infinity ? logit - maximum : 0
    }
}
