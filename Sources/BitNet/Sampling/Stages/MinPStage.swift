#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Drops candidates less likely than `p` times the most likely one, i.e.
/// with logit < max + log p. Needs no probabilities and no sort: one O(n) filter.
/// The best candidate always survives, so at least one is kept.
struct MinPStage: SamplerStage {
    let name = "min-p"
    let p: Float

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        guard p > 0, candidates.count > 1 else { return }
        let threshold = candidates.maxLogit() + logf(p)
        candidates.keepLogits(atLeast: threshold)
    }
}
