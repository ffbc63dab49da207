import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Each stage against a plain reference (full sorts, Double softmax) on fixed
/// logits and on seeded random ones, starting both from the whole vocabulary
/// and from an explicit shuffled list.
@Suite struct SamplerStageTests {
    typealias Support = SamplingTestSupport
    static let sizes = [2, 3, 17, 200, 1001, 5000]

    // MARK: - References

    static func referenceTopK(_ logits: [Float], _ k: Int) -> Set<Int32> {
        Set(Support.rankByLogit(logits).prefix(k).map { Int32($0) })
    }

    static func referenceTopP(_ logits: [Float], _ p: Double) -> Set<Int32> {
        let probabilities = Support.softmax(logits)
        var kept: Set<Int32> = []
        var mass = 0.0
        for index in Support.rankByLogit(logits) {
            kept.insert(Int32(index))
            mass += probabilities[index]
            if mass >= p { break }
        }
        return kept
    }

    static func referenceMinP(_ logits: [Float], _ p: Double) -> Set<Int32> {
        let probabilities = Support.softmax(logits)
        let best = probabilities.max() ?? 0
        return Set(logits.indices.filter { probabilities[$0] >= p * best }.map { Int32($0) })
    }

    /// The textbook definition: entropy, |−log p − H|, sort, mass > p.
    static func referenceTypical(_ logits: [Float], _ p: Double) -> Set<Int32> {
        let probabilities = Support.softmax(logits)
        let entropy = -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        let score = probabilities.map { abs(-log($0) - entropy) }
        let order = logits.indices.sorted { score[$0] < score[$1] || (score[$0] == score[$1] && $0 < $1) }
        var kept: Set<Int32> = []
        var mass = 0.0
        for index in order {
            kept.insert(Int32(index))
            mass += probabilities[index]
            if mass > p { break }
        }
        return kept
    }

    // MARK: - Stages

    @Test func topKOnFixedLogits() {
        var stage = TopKStage(k: 3)
        let logits: [Float] = [0.5, 2, -1, 2, 7, 0.4]
        for fromList in [false, true] {
            let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
            #expect(Support.ids(survivors) == [1, 3, 4])
            #expect(survivors.map(\.logit) == [2, 2, 7])
        }
    }

    @Test(arguments: sizes)
    func topKMatchesReference(size: Int) {
        for k in [1, 2, 5, 50, size, size + 1] {
            var stage = TopKStage(k: k)
            let logits = Support.randomLogits(count: size, seed: UInt64(size + k))
            for fromList in [false, true] {
                let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
                #expect(Set(Support.ids(survivors)) == Self.referenceTopK(logits, k), "k \(k) list \(fromList)")
            }
        }
    }

    @Test func topPOnFixedLogits() {
        // Probabilities ≈ [0.006, 0.643, 0.006, 0.236, 0.087, 0.024].
        let logits: [Float] = [-1, 4, -1, 3, 2, 0.7]
        for fromList in [false, true] {
            var stage = TopPStage(p: 0.85)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1, 3])
            stage = TopPStage(p: 0.9)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1, 3, 4])
            stage = TopPStage(p: 0)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1])
        }
    }

    @Test(arguments: sizes)
    func topPMatchesReference(size: Int) {
        // Spread 0.3 is nearly flat: top-p must go through several selection rounds.
        for (p, spread) in [(0.5, 3.0), (0.9, 3.0), (0.95, 1.0), (0.9, 0.3), (0.99, 8.0)] as [(Double, Float)] {
            var stage = TopPStage(p: Float(p))
            let logits = Support.randomLogits(count: size, seed: UInt64(size) &* 7 &+ UInt64(p * 100), spread: spread)
            for fromList in [false, true] {
                let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
                #expect(Set(Support.ids(survivors)) == Self.referenceTopP(logits, p), "p \(p) spread \(spread)")
            }
        }
    }

    @Test func minPOnFixedLogits() {
        // p(best) e^4 vs e^3, e^2, e^0.7: ratios 1, 0.37, 0.135, 0.037.
        let logits: [Float] = [-1, 4, -1, 3, 2, 0.7]
        for fromList in [false, true] {
            var stage = MinPStage(p: 0.1)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1, 3, 4])
            stage = MinPStage(p: 1)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1])
        }
    }

    @Test(arguments: sizes)
    func minPMatchesReference(size: Int) {
        for p in [0.01, 0.05, 0.3] {
            var stage = MinPStage(p: Float(p))
            let logits = Support.randomLogits(count: size, seed: UInt64(size) &+ UInt64(p * 1000))
            for fromList in [false, true] {
                let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
                #expect(Set(Support.ids(survivors)) == Self.referenceMinP(logits, p), "p \(p)")
            }
        }
    }

    @Test func typicalOnFixedLogits() {
        // Probabilities ≈ [0.006, 0.643, 0.006, 0.236, 0.087, 0.024], entropy ≈ 1.02:
        // surprisals 5.1, 0.44, 5.1, 1.44, 2.44, 3.74 → closest: 3 (0.42), 1 (0.58), 4 (1.42).
        let logits: [Float] = [-1, 4, -1, 3, 2, 0.7]
        for fromList in [false, true] {
            var stage = TypicalStage(p: 0.2)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [3])
            stage = TypicalStage(p: 0.5)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1, 3])
            stage = TypicalStage(p: 0.9)
            #expect(Support.ids(Support.run(&stage, logits: logits, fromList: fromList).survivors) == [1, 3, 4])
        }
    }

    @Test(arguments: sizes)
    func typicalMatchesReference(size: Int) {
        for p in [0.2, 0.7, 0.95] {
            var stage = TypicalStage(p: Float(p))
            let logits = Support.randomLogits(count: size, seed: UInt64(size) &* 3 &+ UInt64(p * 100))
            for fromList in [false, true] {
                let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
                #expect(Set(Support.ids(survivors)) == Self.referenceTypical(logits, p), "p \(p)")
            }
        }
    }

    @Test func temperatureDividesLogitsShiftedByTheMax() {
        // logit / 0.5 up to a constant shift (softmax ignores it): (logit − 3) / 0.5.
        let logits: [Float] = [1, -2, 0.5, 3, -.infinity]
        for fromList in [false, true] {
            var stage = TemperatureStage(temperature: 0.5)
            let (survivors, _) = Support.run(&stage, logits: logits, fromList: fromList)
            #expect(survivors.map(\.logit) == [-4, -10, -5, 0, -.infinity])
        }
    }

    @Test func logitBiasAddsAndBans() {
        var stage = LogitBiasStage(biases: [
            LogitBias(token: 0, bias: 5), LogitBias(token: 2, bias: -.infinity),
            LogitBias(token: 0, bias: 1), LogitBias(token: 99, bias: 3),  // out of range: skipped
        ])
        for fromList in [false, true] {
            let (survivors, _) = Support.run(&stage, logits: [1, 2, 3], fromList: fromList)
            #expect(survivors.map(\.logit) == [7, 2, -.infinity])
        }
    }

    @Test func penaltiesMatchReference() {
        let logits: [Float] = [2, -1, 0.5, 3, -2, 1]
        let history: [Int32] = [3, 1, 3, 5, 3, 7, -4, 1]  // 7 and -4 are outside the vocabulary
        var stage = PenaltiesStage(window: 64, repetition: 1.25, presence: 0.5, frequency: 0.1)
        for token in history { stage.accept(token) }
        var expected = logits
        var counts: [Int: Int] = [:]
        for token in history where token >= 0 && Int(token) < logits.count { counts[Int(token), default: 0] += 1 }
        for (token, count) in counts {
            let logit = expected[token]
            expected[token] = (logit <= 0 ? logit * 1.25 : logit / 1.25) - (Float(count) * 0.1 + 0.5)
        }
        for fromList in [false, true] {
            var copy = stage
            let (survivors, _) = Support.run(&copy, logits: logits, fromList: fromList)
            #expect(survivors.map(\.logit) == expected)
        }
        // Applying twice in a row gives the same result: the count scratch is left clean.
        var twice = stage
        _ = Support.run(&twice, logits: logits, fromList: false)
        #expect(Support.run(&twice, logits: logits, fromList: false).survivors.map(\.logit) == expected)
    }

    @Test func penaltyWindowKeepsTheLastN() {
        var stage = PenaltiesStage(window: 3, repetition: 2, presence: 0, frequency: 0)
        for token: Int32 in [1, 2, 3, 4, 5] { stage.accept(token) }
        #expect(stage.recentTokens == [3, 4, 5])
        let (survivors, _) = Support.run(&stage, logits: [1, 1, 1, 1, 1, 1], fromList: false)
        #expect(survivors.map(\.logit) == [1, 1, 1, 0.5, 0.5, 0.5])
        stage.reset()
        #expect(stage.recentTokens.isEmpty)
        var unbounded = PenaltiesStage(window: -1, repetition: 2, presence: 0, frequency: 0)
        for token: Int32 in 0..<100 { unbounded.accept(token % 6) }
        #expect(unbounded.recentTokens.count == 100)
    }

    @Test func greedyPicksArgmaxLowestIdOnTies() {
        var stage = GreedyStage()
        for fromList in [false, true] {
            #expect(Support.run(&stage, logits: [1, 5, 2, 5, -3], fromList: fromList).selected == 1)
            #expect(Support.run(&stage, logits: [-.infinity, -.infinity], fromList: fromList).selected == nil)
        }
        for size in Self.sizes {
            let logits = Support.randomLogits(count: size, seed: UInt64(size))
            #expect(Support.run(&stage, logits: logits, fromList: false).selected == Int32(Support.rankByLogit(logits)[0]))
        }
    }

    @Test func distributionFollowsTheSoftmax() {
        let logits: [Float] = [1, 2, 0, 3, -1]
        let probabilities = Support.softmax(logits)
        for fromList in [false, true] {
            var counts = [Int](repeating: 0, count: logits.count)
            let draws = 40_000
            var stage = DistributionStage()
            for draw in 0..<draws {
                let (_, selected) = Support.run(&stage, logits: logits, fromList: fromList, seed: UInt64(draw))
                if let selected { counts[Int(selected)] += 1 }
            }
            #expect(counts.reduce(0, +) == draws)
            for (index, count) in counts.enumerated() {
                let expected = probabilities[index] * Double(draws)
                let sd = (expected * (1 - probabilities[index])).squareRoot()
                #expect(abs(Double(count) - expected) < 5 * sd + 1, "token \(index): \(count) vs \(expected)")
            }
        }
    }

    @Test func distributionIsTheInverseCDFOfOneUniform() {
        // With the draw known, the pick is fixed: walk the cumulative softmax in id order.
        let logits = Support.randomLogits(count: 300, seed: 5)
        let probabilities = Support.softmax(logits)
        var stage = DistributionStage()
        for seed: UInt64 in 0..<200 {
            var random = RandomGenerator(seed: seed)
            let u = random.nextUnitDouble()
            var cumulative = 0.0
            var expected = probabilities.count - 1
            for (index, p) in probabilities.enumerated() {
                cumulative += p
                if cumulative > u { expected = index; break }
            }
            #expect(Support.run(&stage, logits: logits, fromList: false, seed: seed).selected == Int32(expected))
        }
    }

    @Test func distributionNeverPicksBannedTokens() {
        var stage = DistributionStage()
        let logits: [Float] = [-.infinity, 0, -.infinity, 0, -.infinity]
        for seed: UInt64 in 0..<500 {
            let picked = Support.run(&stage, logits: logits, fromList: seed % 2 == 0, seed: seed).selected
            #expect(picked == 1 || picked == 3)
        }
        #expect(Support.run(&stage, logits: [-.infinity, -.infinity], fromList: false).selected == nil)
    }
}
