#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Draws one candidate with probability softmax(logit) using the chain's
/// seeded generator: one uniform number, one walk over the cumulative weights.
struct DistributionStage: SamplerStage {
    let name = "dist"
    /// exp(logit − max) per candidate, in candidate order; reused across calls.
    private var weights: [Float] = []

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        candidates.selected = nil
        let maximum = candidates.maxLogit()
        guard maximum > -.infinity else { return }
        let count = candidates.count
        if weights.count < count { weights = [Float](repeating: 0, count: count) }
        // The total and the walk use the very same weights, summed in the same
        // order, so the walk reaches the total; the fallback only covers the
        // draw rounding up to the total itself.
        var total = 0.0
        weights.withUnsafeMutableBufferPointer { weights in
            if candidates.coversVocabulary {
                VectorMath.storeExp(UnsafeBufferPointer(candidates.vocabulary), minus: maximum, into: weights)
            } else {
                for (index, item) in candidates.items.enumerated() { weights[index] = expf(item.logit - maximum) }
            }
            for index in 0..<count { total += Double(weights[index]) }
        }
        let target = total * random.nextUnitDouble()
        var cumulative = 0.0
        var chosen = -1
        weights.withUnsafeBufferPointer { weights in
            for index in 0..<count where weights[index] > 0 {
                chosen = index
                cumulative += Double(weights[index])
                if cumulative > target { break }
            }
        }
        guard chosen >= 0 else { return }
        candidates.selected = candidates.coversVocabulary
            ? Int32(truncatingIfNeeded: chosen) : candidates.items[chosen].id
    }
}
