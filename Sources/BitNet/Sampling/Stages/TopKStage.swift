/// Keeps the `k` highest logits (sorted). O(V) from the full vocabulary.
struct TopKStage: SamplerStage {
    let name = "top-k"
    let k: Int

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        guard k > 0 else { return }
        candidates.keepLargest(k)
    }
}
