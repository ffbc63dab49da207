/// How top-p and typical-p rank candidates before cutting: a key per logit,
/// higher first (ties: lower id first). A protocol so the O(V) loops are
/// specialized per ranking instead of calling a closure per token.
protocol CandidateRanking {
    /// The key is the logit itself (lets the first round read the vocabulary directly).
    static var ranksByLogit: Bool { get }
    func key(_ logit: Float) -> Float
}

struct RankByLogit: CandidateRanking {
    static var ranksByLogit: Bool { true }
    @inline(__always) func key(_ logit: Float) -> Float { logit }
}

/// Closest to the target logit first (see `TypicalStage`).
struct RankByDistance: CandidateRanking {
    let target: Float
    static var ranksByLogit: Bool { false }
    @inline(__always) func key(_ logit: Float) -> Float { -abs(logit - target) }
}

/// The shared core of top-p and typical-p: rank the candidates, then keep the
/// shortest best-ranked prefix whose probability mass is enough.
///
/// Never a full sort of the vocabulary:
/// - a short list (after top-k) is simply sorted;
/// - from the full vocabulary, ranking by logit first tries the best 128 with
///   the heap selection (enough for any peaked distribution: one O(V) pass);
/// - otherwise a histogram: keys go into 4096 buckets by value, the mass of
///   each bucket is summed, every bucket above the one where the mass is
///   reached is kept whole, and only that boundary bucket is sorted. O(V).
/// The survivors come out sorted by rank only in the first two cases.
struct ProbabilityMassCut: Sendable {
    static let firstRound = 128
    static let bucketCount = 4096
    private var ranked: [TokenCandidate] = []
    private var boundary: [TokenCandidate] = []
    private var weights: [Float] = []
    private var bucketMass: [Double] = []
    private var bucketPopulation: [Int] = []

    /// - Parameter isEnough: given the (normalized) mass so far and how many
    ///   are kept, whether to stop; must be monotone in both.
    mutating func apply<Ranking: CandidateRanking>(
        to candidates: inout TokenCandidates,
        normalizer: SoftmaxNormalizer,
        ranking: Ranking,
        isEnough: (Double, Int) -> Bool
    ) {
        if !candidates.coversVocabulary {
            cutSortedList(&candidates, normalizer: normalizer, ranking: ranking, isEnough: isEnough)
            return
        }
        if Ranking.ranksByLogit && Self.firstRound < candidates.count {
            LargestSelection.select(Self.firstRound, of: UnsafeBufferPointer(candidates.vocabulary), into: &ranked)
            var mass = 0.0
            for (position, candidate) in ranked.enumerated() {
                mass += Double(normalizer.probability(candidate.logit))
                if isEnough(mass, position + 1) {
                    ranked.removeLast(ranked.count - position - 1)
                    candidates.replace(with: &ranked, sorted: true)
                    return
                }
            }
        }
        cutByHistogram(&candidates, normalizer: normalizer, ranking: ranking, isEnough: isEnough)
    }

    private static func ranksBefore<Ranking: CandidateRanking>(
        _ ranking: Ranking, _ a: TokenCandidate, _ b: TokenCandidate
    ) -> Bool {
        let (keyA, keyB) = (ranking.key(a.logit), ranking.key(b.logit))
        return keyA > keyB || (keyA == keyB && a.id < b.id)
    }

    private mutating func cutSortedList<Ranking: CandidateRanking>(
        _ candidates: inout TokenCandidates, normalizer: SoftmaxNormalizer, ranking: Ranking,
        isEnough: (Double, Int) -> Bool
    ) {
        if Ranking.ranksByLogit {
            candidates.sortDescending()
        } else {
            candidates.items.sort { Self.ranksBefore(ranking, $0, $1) }
            candidates.isSortedDescending = false
        }
        var mass = 0.0
        for (position, candidate) in candidates.items.enumerated() {
            mass += Double(normalizer.probability(candidate.logit))
            if isEnough(mass, position + 1) {
                candidates.truncate(to: position + 1)
                return
            }
        }
    }

    private mutating func cutByHistogram<Ranking: CandidateRanking>(
        _ candidates: inout TokenCandidates, normalizer: SoftmaxNormalizer, ranking: Ranking,
        isEnough: (Double, Int) -> Bool
    ) {
        let vocabulary = UnsafeBufferPointer(candidates.vocabulary)
        let n = vocabulary.count
        if weights.count != n { weights = [Float](repeating: 0, count: n) }
        weights.withUnsafeMutableBufferPointer {
            VectorMath.storeExp(vocabulary, minus: normalizer.maxLogit, into: $0)
        }
        // Key range over tokens that can be drawn at all.
        var highest = -Float.infinity
        var lowest = Float.infinity
        for logit in vocabulary where logit > -.infinity {
            let key = ranking.key(logit)
            if key > highest { highest = key }
            if key < lowest { lowest = key }
        }
        let buckets = Self.bucketCount
        let span = highest - lowest
        // A non-finite span (extreme logits) puts everything in bucket 0: still correct, just a bigger sort.
        let scale: Float = span.isFinite && span > 0 ? Float(buckets) / span : 0
        @inline(__always) func bucket(_ logit: Float) -> Int {
            guard logit > -.infinity else { return buckets - 1 }
            let position = (highest - ranking.key(logit)) * scale
            return position < Float(buckets - 1) ? Int(position) : buckets - 1
        }
        bucketMass.removeAll(keepingCapacity: true)
        bucketMass.append(contentsOf: repeatElement(0, count: buckets))
        bucketPopulation.removeAll(keepingCapacity: true)
        bucketPopulation.append(contentsOf: repeatElement(0, count: buckets))
        weights.withUnsafeBufferPointer { weights in
            bucketMass.withUnsafeMutableBufferPointer { mass in
                bucketPopulation.withUnsafeMutableBufferPointer { population in
                    for index in 0..<n {
                        let b = bucket(vocabulary[index])
                        mass[b] += Double(weights[index])
                        population[b] += 1
                    }
                }
            }
        }
        // The first bucket where the cumulative mass becomes enough.
        let total = Double(normalizer.sumExp)
        var massBefore = 0.0
        var countBefore = 0
        var boundaryBucket = buckets - 1
        for b in 0..<buckets where bucketPopulation[b] > 0 {
            if isEnough((massBefore + bucketMass[b]) / total, countBefore + bucketPopulation[b]) {
                boundaryBucket = b
                break
            }
            massBefore += bucketMass[b]
            countBefore += bucketPopulation[b]
        }
        var kept = candidates.takeStorage()
        kept.removeAll(keepingCapacity: true)
        boundary.removeAll(keepingCapacity: true)
        for (index, logit) in vocabulary.enumerated() {
            let b = bucket(logit)
            if b < boundaryBucket {
                kept.append(TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: logit))
            } else if b == boundaryBucket {
                boundary.append(TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: logit))
            }
        }
        boundary.sort { Self.ranksBefore(ranking, $0, $1) }
        var mass = massBefore
        for candidate in boundary {
            kept.append(candidate)
            mass += Double(weights[Int(candidate.id)])
            if isEnough(mass / total, kept.count) { break }
        }
        candidates.replace(with: &kept, sorted: false)
    }
}
