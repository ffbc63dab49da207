#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One token still in the running, with its (possibly adjusted) logit.
struct TokenCandidate: Hashable, Sendable {
    var id: Int32
    var logit: Float

    /// The order used everywhere a ranking is needed: higher logit first,
    /// lower id first among equals — so results never depend on sort stability.
    @inline(__always)
    static func ranksBefore(_ a: TokenCandidate, _ b: TokenCandidate) -> Bool {
        a.logit > b.logit || (a.logit == b.logit && a.id < b.id)
    }
}

/// `max` and `Σ exp(logit − max)` of a set of logits: enough to turn any of
/// them into a probability or a log-probability without overflow.
struct SoftmaxNormalizer: Sendable {
    var maxLogit: Float
    var sumExp: Float

    @inline(__always)
    func probability(_ logit: Float) -> Float { expf(logit - maxLogit) / sumExp }

    @inline(__always)
    func logProbability(_ logit: Float) -> Float { (logit - maxLogit) - logf(sumExp) }

    init(maxLogit: Float, sumExp: Float) {
        self.maxLogit = maxLogit
        self.sumExp = sumExp
    }

    /// Over a (short) candidate list.
    init(of candidates: UnsafeBufferPointer<TokenCandidate>) {
        var maximum = -Float.infinity
        for candidate in candidates where candidate.logit > maximum { maximum = candidate.logit }
        var sum: Float = 0
        if maximum > -.infinity {
            for candidate in candidates { sum += expf(candidate.logit - maximum) }
        }
        self.init(maxLogit: maximum, sumExp: sum)
    }
}

/// The tokens still in the running during one `SamplerChain.sample` call, as
/// the stages narrow them down (llama.cpp's `llama_token_data_array`).
///
/// Until a stage narrows the set, the candidates are simply every entry of
/// `vocabulary` and no list is built: with 128k tokens and top-k 50, the list
/// only ever holds the 50 survivors.
struct TokenCandidates {
    /// Every token's logit, index = token id. Logit bias and penalties are
    /// applied here in place; after them it is read-only, which is what the
    /// returned log-probability is computed from.
    let vocabulary: UnsafeMutableBufferPointer<Float>
    /// True while the candidates are all of `vocabulary` (then `items` is unused).
    private(set) var coversVocabulary = true
    /// The candidates once the set has been narrowed.
    var items: [TokenCandidate]
    /// `items` is ordered by `TokenCandidate.ranksBefore`.
    var isSortedDescending = false
    /// Set by the final stage (greedy or distribution).
    var selected: Int32?
    private var cachedVocabularyNormalizer: SoftmaxNormalizer?
    private var cachedVocabularyMax: Float?

    /// - Parameter storage: a reusable array, so steady-state sampling allocates nothing.
    init(vocabulary: UnsafeMutableBufferPointer<Float>, storage: [TokenCandidate] = []) {
        self.vocabulary = vocabulary
        self.items = storage
        self.items.removeAll(keepingCapacity: true)
    }

    /// Hands the item storage back for reuse by the next call.
    mutating func takeStorage() -> [TokenCandidate] {
        var storage: [TokenCandidate] = []
        swap(&storage, &items)
        return storage
    }

    var count: Int { coversVocabulary ? vocabulary.count : items.count }

    /// The current candidates as a list (materializing all of the vocabulary if needed).
    var candidateList: [TokenCandidate] {
        mutating get {
            materialize()
            return items
        }
    }

    // MARK: - Normalizers

    /// Softmax normalizer of the whole vocabulary, computed at most once per call.
    mutating func vocabularyNormalizer() -> SoftmaxNormalizer {
        if let cached = cachedVocabularyNormalizer { return cached }
        let maximum = vocabularyMax()
        let vocabulary = UnsafeBufferPointer(self.vocabulary)
        let sum = maximum > -.infinity ? VectorMath.sumExp(vocabulary, minus: maximum) : 0
        let normalizer = SoftmaxNormalizer(maxLogit: maximum, sumExp: sum)
        cachedVocabularyNormalizer = normalizer
        return normalizer
    }

    /// The vocabulary's max alone: cheap (no exp), cached like the normalizer.
    mutating func vocabularyMax() -> Float {
        if let cached = cachedVocabularyMax { return cached }
        let maximum = VectorMath.maximum(UnsafeBufferPointer(vocabulary))
        cachedVocabularyMax = maximum
        return maximum
    }

    /// Softmax normalizer of the current candidates only (llama.cpp renormalizes
    /// over the survivors at each stage; so do we).
    mutating func candidateNormalizer() -> SoftmaxNormalizer {
        if coversVocabulary { return vocabularyNormalizer() }
        return items.withUnsafeBufferPointer { SoftmaxNormalizer(of: $0) }
    }

    /// The highest logit among the candidates.
    mutating func maxLogit() -> Float {
        if coversVocabulary { return vocabularyMax() }
        if isSortedDescending, let first = items.first { return first.logit }
        var maximum = -Float.infinity
        for candidate in items where candidate.logit > maximum { maximum = candidate.logit }
        return maximum
    }

    // MARK: - Changing logits

    /// Changes one token's logit wherever it is held. Only valid before the
    /// set is narrowed or for a few ids (it searches `items` linearly).
    mutating func modifyLogit(of id: Int32, _ transform: (Float) -> Float) {
        let index = Int(id)
        guard index >= 0, index < vocabulary.count else { return }
        vocabulary[index] = transform(vocabulary[index])
        cachedVocabularyNormalizer = nil
        cachedVocabularyMax = nil
        if !coversVocabulary, let position = items.firstIndex(where: { $0.id == id }) {
            items[position].logit = transform(items[position].logit)
            isSortedDescending = false
        }
    }

    /// Temperature: every candidate's logit becomes (logit − max) / `divisor`
    /// (divisor > 0). Softmax ignores the shift, so the distribution is exactly
    /// that of logit / divisor, but a tiny divisor can only push logits down to
    /// −inf (weight 0), never up to +inf (exp(inf − inf) = NaN). Builds the
    /// list first if needed: the vocabulary stays as it is for the logprob.
    mutating func applyTemperature(_ divisor: Float) {
        let maximum = maxLogit()
        guard maximum > -.infinity else { return }
        materialize()
        items.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i].logit = (buffer[i].logit - maximum) / divisor }
        }
    }

    // MARK: - Narrowing

    /// Turns "all of the vocabulary" into an explicit list.
    mutating func materialize() {
        guard coversVocabulary else { return }
        items.removeAll(keepingCapacity: true)
        items.reserveCapacity(vocabulary.count)
        for (index, logit) in vocabulary.enumerated() {
            items.append(TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: logit))
        }
        coversVocabulary = false
        isSortedDescending = false
    }

    /// Keeps the `k` best-ranked candidates, sorted. O(V) from the full
    /// vocabulary (a vector compare per 16 tokens in practice), O(n log n)
    /// from a list. Keeps everything, unsorted, when there are no more than `k`.
    mutating func keepLargest(_ k: Int) {
        guard k < count else { return }
        if coversVocabulary {
            LargestSelection.select(max(k, 0), of: UnsafeBufferPointer(vocabulary), into: &items)
            coversVocabulary = false
            isSortedDescending = true
        } else {
            sortDescending()
            items.removeLast(items.count - max(k, 0))
        }
    }

    /// Sorts the list by rank (materializing the vocabulary if needed — callers
    /// that care about O(V) use `keepLargest` first).
    mutating func sortDescending() {
        materialize()
        if !isSortedDescending {
            items.sort(by: TokenCandidate.ranksBefore)
            isSortedDescending = true
        }
    }

    /// Keeps the first `n` items (order unchanged).
    mutating func truncate(to n: Int) {
        precondition(!coversVocabulary, "truncate needs a materialized list")
        if n < items.count { items.removeLast(items.count - n) }
    }

    /// Keeps the candidates whose logit is >= `threshold`, in their current order.
    mutating func keepLogits(atLeast threshold: Float) {
        if coversVocabulary {
            items.removeAll(keepingCapacity: true)
            for (index, logit) in vocabulary.enumerated() where logit >= threshold {
                items.append(TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: logit))
            }
            coversVocabulary = false
            // Built in id order, so it is sorted only if it holds one element.
            isSortedDescending = items.count <= 1
        } else {
            items.removeAll(where: { !($0.logit >= threshold) })
        }
    }

    /// Makes `list` the candidate set (order as given) without copying: the
    /// two arrays are swapped, and `list` receives the old storage for reuse.
    mutating func replace(with list: inout [TokenCandidate], sorted: Bool) {
        swap(&items, &list)
        coversVocabulary = false
        isSortedDescending = sorted
    }
}
