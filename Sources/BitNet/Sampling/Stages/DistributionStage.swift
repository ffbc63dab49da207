#if canImport(Glibc)
import Glibc
#endif

/// Draws one candidate with probability softmax(logit) using the chain's
/// seeded generator: one uniform number, one walk over the cumulative weights.
struct DistributionStage: SamplerStage {
    let name = "dist"

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        let normalizer = candidates.candidateNormalizer()
        guard normalizer.maxLogit > -.infinity, normalizer.sumExp > 0 else {
            candidates.selected = nil
            return
        }
        let target = Double(normalizer.sumExp) * random.nextUnitDouble()
        let maximum = normalizer.maxLogit
        // The walk adds the same terms in the same order as the normalizer, so
        // it reaches the full sum; the fallback (last token with weight) only
        // covers target rounding up to the sum itself.
        var cumulative: Float = 0
        var lastWithWeight: Int32?
        if candidates.coversVocabulary {
            for (index, logit) in candidates.vocabulary.enumerated() {
                let weight = expf(logit - maximum)
                if weight > 0 { lastWithWeight = Int32(truncatingIfNeeded: index) }
                cumulative += weight
                if Double(cumulative) > target && weight > 0 {
                    candidates.selected = Int32(truncatingIfNeeded: index)
                    return
                }
            }
        } else {
            for item in candidates.items {
                let weight = expf(item.logit - maximum)
                if weight > 0 { lastWithWeight = item.id }
                cumulative += weight
                if Double(cumulative) > target && weight > 0 {
                    candidates.selected = item.id
                    return
                }
            }
        }
        candidates.selected = lastWithWeight
    }
}
