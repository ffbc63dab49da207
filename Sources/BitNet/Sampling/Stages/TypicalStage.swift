#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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
        // One pass for both the normalizer and the entropy's Σ w·(logit − max).
        let maximum = candidates.maxLogit()
        guard maximum > -.infinity else { return }  // nothing can be drawn; the final stage reports it
        var sumExp: Float = 0
        var weightedShift: Float = 0
        if candidates.coversVocabulary {
            (sumExp, weightedShift) = VectorMath.sumExpAndWeightedShift(
                UnsafeBufferPointer(candidates.vocabulary), minus: maximum)
        } else {
            for item in candidates.items where item.logit > -.infinity {
                let weight = expf(item.logit - maximum)
                sumExp += weight
                weightedShift += weight * (item.logit - maximum)
            }
        }
        let normalizer = SoftmaxNormalizer(maxLogit: maximum, sumExp: sumExp)
        let logSum = logf(sumExp)
        let entropy = logSum - weightedShift / sumExp
        let target = maximum + logSum - entropy
        let (p, minKeep) = (Double(self.p), self.minKeep)
        cut.apply(to: &candidates, normalizer: normalizer, ranking: RankByDistance(target: target)) { mass, kept in
            mass > p && kept >= minKeep
        }
    }
}
