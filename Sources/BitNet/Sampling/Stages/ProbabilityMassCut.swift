/// The shared core of top-p and typical-p: rank the candidates by a key,
/// then keep the shortest best-ranked prefix whose probability mass is enough.
///
/// From the full vocabulary it never sorts 128k entries: it selects the best
/// 128 by key, and only if their mass falls short retries with 8× more
/// (128, 1k, 8k, 64k, all). Peaked distributions — the usual case — stop at
/// the first round, so the cost is one O(V) pass.
struct ProbabilityMassCut: Sendable {
    private var keys: [Float] = []
    private var ranked: [TokenCandidate] = []
    private var kept: [TokenCandidate] = []
    static let firstRound = 128

    /// - Parameters:
    ///   - key: ranks candidates, higher first (ties: lower position first).
    ///     Nil means "the logit itself".
    ///   - isEnough: given the mass so far and how many are kept, whether to stop.
    ///   - sortedByLogit: whether the ranking by key is also the ranking by logit.
    mutating func apply(
        to candidates: inout TokenCandidates,
        normalizer: SoftmaxNormalizer,
        key: ((Float) -> Float)?,
        sortedByLogit: Bool,
        isEnough: (Float, Int) -> Bool
    ) {
        let fromVocabulary = candidates.coversVocabulary
        let total = candidates.count
        // Keys by position: the vocabulary itself when ranking by logit, else a scratch copy.
        keys.removeAll(keepingCapacity: true)
        if !(fromVocabulary && key == nil) {
            keys.reserveCapacity(total)
            if fromVocabulary {
                for logit in candidates.vocabulary { keys.append(key.map { $0(logit) } ?? logit) }
            } else {
                for item in candidates.items { keys.append(key.map { $0(item.logit) } ?? item.logit) }
            }
        }
        var round = Self.firstRound
        while true {
            let k = min(round, total)
            if keys.isEmpty {
                LargestSelection.select(k, of: UnsafeBufferPointer(candidates.vocabulary), into: &ranked)
            } else {
                keys.withUnsafeBufferPointer { LargestSelection.select(k, of: $0, into: &ranked) }
            }
            kept.removeAll(keepingCapacity: true)
            var mass: Float = 0
            var done = false
            for entry in ranked {
                let position = Int(entry.id)
                let candidate = fromVocabulary
                    ? TokenCandidate(id: entry.id, logit: candidates.vocabulary[position])
                    : candidates.items[position]
                kept.append(candidate)
                mass += normalizer.probability(candidate.logit)
                if isEnough(mass, kept.count) {
                    done = true
                    break
                }
            }
            if done || k == total {
                candidates.replace(with: kept, sorted: sortedByLogit)
                return
            }
            round = round > total / 8 ? total : round * 8
        }
    }
}
