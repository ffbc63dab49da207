import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct SamplerChainTests {
    typealias Support = SamplingTestSupport

    // MARK: - A reference chain: plain full sorts over explicit lists

    struct Entry { var id: Int32; var logit: Float }

    static func ranked(_ list: [Entry]) -> [Entry] {
        list.sorted { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
    }

    static func probabilities(_ list: [Entry]) -> [Double] {
        Support.softmax(list.map(\.logit))
    }

    static func referenceSurvivors(_ logits: [Float], _ params: SamplingParams, history: [Int32]) -> Set<Int32> {
        var logits = logits
        for entry in params.logitBias where Int(entry.token) < logits.count {
            logits[Int(entry.token)] += entry.bias
        }
        if params.penaltiesAreActive {
            let window = params.repeatLastN < 0 ? history : Array(history.suffix(Int(params.repeatLastN)))
            var counts: [Int32: Int] = [:]
            for token in window { counts[token, default: 0] += 1 }
            for (token, count) in counts where Int(token) < logits.count {
                let logit = logits[Int(token)]
                let repeated = logit <= 0 ? logit * params.repetitionPenalty : logit / params.repetitionPenalty
                logits[Int(token)] = repeated - (Float(count) * params.frequencyPenalty + params.presencePenalty)
            }
        }
        var list = logits.enumerated().map { Entry(id: Int32($0.offset), logit: $0.element) }
        if params.topK > 0 { list = Array(ranked(list).prefix(Int(params.topK))) }
        if params.typicalP < 1 && list.count > 1 {
            let p = probabilities(list)
            let entropy = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
            let score = p.map { abs(-log($0) - entropy) }
            let order = list.indices.sorted {
                score[$0] < score[$1] || (score[$0] == score[$1] && list[$0].id < list[$1].id)
            }
            var kept: [Entry] = []
            var mass = 0.0
            for index in order {
                kept.append(list[index])
                mass += p[index]
                if mass > Double(params.typicalP) { break }
            }
            list = kept
        }
        if params.topP < 1 && list.count > 1 {
            let sorted = ranked(list)
            let p = probabilities(sorted)
            var kept: [Entry] = []
            var mass = 0.0
            for (index, entry) in sorted.enumerated() {
                kept.append(entry)
                mass += p[index]
                if mass >= Double(params.topP) { break }
            }
            list = kept
        }
        if params.minP > 0 && list.count > 1 {
            let p = probabilities(list)
            let best = p.max() ?? 0
            list = list.indices.filter { p[$0] >= Double(params.minP) * best }.map { list[$0] }
        }
        return Set(list.map(\.id))
    }

    static let combinations: [SamplingParams] = [
        .balanced,
        .quality,
        SamplingParams(temperature: 1, topK: 0, topP: 0.9),
        SamplingParams(temperature: 1.3, topK: 0, topP: 1, minP: 0.05),
        SamplingParams(temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, typicalP: 0.9),
        SamplingParams(temperature: 1, topK: 0, topP: 1, typicalP: 0.8),
        SamplingParams(temperature: 0.5, topK: 100, topP: 0.8, repetitionPenalty: 1.3, repeatLastN: -1,
                       presencePenalty: 0.4, frequencyPenalty: 0.2,
                       logitBias: [LogitBias(token: 5, bias: 4), LogitBias(token: 6, bias: -.infinity)]),
    ]

    @Test(arguments: combinations.indices)
    func survivorsMatchTheReferenceChain(combination: Int) throws {
        var params = Self.combinations[combination]
        params.seed = 11
        for round: UInt64 in 0..<4 {
            var chain = try SamplerChain(params)
            let history = (0..<80).map { Int32(($0 * 37 + Int(round)) % 3000) }
            chain.accept(contentsOf: history)
            // Spread varies from nearly flat to very peaked across rounds.
            let logits = Support.randomLogits(count: 3000, seed: round &+ 100, spread: [0.3, 1, 3, 8][Int(round)])
            var copy = logits
            let survivors = copy.withUnsafeMutableBufferPointer { chain.survivingCandidates(logits: $0) }
            let expected = Self.referenceSurvivors(logits, params, history: history)
            #expect(Set(survivors.map(\.id)) == expected, "combination \(combination) round \(round)")
            #expect(Set(survivors.map(\.id)).count == survivors.count)

            var sampleCopy = logits
            let picked = try chain.sample(logits: &sampleCopy)
            #expect(expected.contains(picked.token))
        }
    }

    @Test func stagesFollowTheParams() throws {
        #expect(try SamplerChain(.fast).stageNames == ["greedy"])
        #expect(try SamplerChain(.balanced).stageNames == ["top-k", "top-p", "temperature", "dist"])
        #expect(try SamplerChain(.quality).stageNames == ["penalties", "top-k", "top-p", "temperature", "dist"])
        let everything = SamplingParams(
            temperature: 1, topK: 5, topP: 0.9, minP: 0.1, typicalP: 0.9, repetitionPenalty: 1.1,
            logitBias: [LogitBias(token: 1, bias: 1)])
        #expect(try SamplerChain(everything).stageNames
            == ["logit-bias", "penalties", "top-k", "typical", "top-p", "min-p", "dist"])
    }

    @Test func sameSeedSameTokensAndResetRepeats() throws {
        var params = SamplingParams.balanced
        params.topK = 0
        params.topP = 1
        params.temperature = 1.5
        params.seed = 1234
        let logits = Support.randomLogits(count: 500, seed: 3, spread: 0.5)
        func run(_ chain: inout SamplerChain) throws -> [Int32] {
            try (0..<50).map { _ in
                var copy = logits
                return try chain.sample(logits: &copy).token
            }
        }
        var a = try SamplerChain(params)
        var b = try SamplerChain(params)
        let first = try run(&a)
        #expect(try run(&b) == first)
        #expect(Set(first).count > 10)  // a flat distribution really is being sampled
        a.reset()
        #expect(try run(&a) == first)
        params.seed = 1235
        var c = try SamplerChain(params)
        #expect(try run(&c) != first)
    }

    @Test func randomStateSaveAndRestoreContinuesExactly() throws {
        var params = SamplingParams.balanced
        params.seed = 99
        let logits = Support.randomLogits(count: 1000, seed: 4, spread: 1)
        var chain = try SamplerChain(params)
        for _ in 0..<7 {
            var copy = logits
            _ = try chain.sample(logits: &copy)
        }
        let saved = chain.randomState
        #expect(saved.count == 4)
        let continuation = try (0..<20).map { _ in
            var copy = logits
            return try chain.sample(logits: &copy).token
        }
        var restored = try SamplerChain(params)
        try restored.restoreRandomState(saved)
        let replay = try (0..<20).map { _ in
            var copy = logits
            return try restored.sample(logits: &copy).token
        }
        #expect(replay == continuation)
        #expect(throws: BitNetError.self) { try restored.restoreRandomState([0, 0, 0, 0]) }
    }

    @Test func greedyIsArgmaxAndLogprobIsLogSoftmaxAfterBias() throws {
        let logits = Support.randomLogits(count: 777, seed: 8)
        let bias = [LogitBias(token: 10, bias: 30), LogitBias(token: 11, bias: -2)]
        var params = SamplingParams.fast
        params.logitBias = bias
        var chain = try SamplerChain(params)
        var copy = logits
        let picked = try chain.sample(logits: &copy)
        #expect(picked.token == 10)
        var adjusted = logits
        adjusted[10] += 30
        adjusted[11] -= 2
        let reference = log(Support.softmax(adjusted)[10])
        #expect(abs(Double(picked.logprob) - reference) < 1e-4)
        #expect(copy == adjusted)  // bias applied in place, nothing else touched
    }

    @Test func sampledLogprobIgnoresTemperatureAndTruncation() throws {
        let logits = Support.randomLogits(count: 2000, seed: 9)
        var params = SamplingParams.quality
        params.seed = 5
        var chain = try SamplerChain(params)
        let reference = Support.softmax(logits)
        for _ in 0..<20 {
            var copy = logits
            let picked = try chain.sample(logits: &copy)
            #expect(abs(Double(picked.logprob) - log(reference[Int(picked.token)])) < 1e-4)
        }
    }

    @Test func logprobCanBeSkipped() throws {
        var chain = try SamplerChain(.fast)
        chain.computesLogprob = false
        var logits: [Float] = [0, 3, 1]
        let picked = try chain.sample(logits: &logits)
        #expect(picked.token == 1 && picked.logprob.isNaN)
    }

    @Test func penaltiesSteerAwayFromRepeats() throws {
        // Token 0 leads by a little; once accepted, the penalty makes token 1 the argmax.
        var params = SamplingParams.fast
        params.repetitionPenalty = 1.5
        params.repeatLastN = 8
        var chain = try SamplerChain(params)
        var logits: [Float] = [2.0, 1.8, 0.5]
        #expect(try chain.sample(logits: &logits).token == 0)
        chain.accept(0)
        #expect(chain.penaltyHistory == [0])
        logits = [2.0, 1.8, 0.5]
        #expect(try chain.sample(logits: &logits).token == 1)
        chain.reset()
        #expect(chain.penaltyHistory.isEmpty)
    }

    @Test func badLogitsNeverCrash() throws {
        var chain = try SamplerChain(SamplingParams(temperature: 1, topK: 3, topP: 0.9, seed: 1))
        var logits: [Float] = [.nan, 1, .infinity, -.infinity, .nan]
        for _ in 0..<20 {
            var copy = logits
            #expect(try chain.sample(logits: &copy).token == 2)
        }
        logits = [.nan, .nan]
        #expect(throws: BitNetError.self) { try chain.sample(logits: &logits) }
        var empty: [Float] = []
        #expect(throws: BitNetError.self) { try chain.sample(logits: &empty) }
        var banned = SamplingParams.balanced
        banned.logitBias = [LogitBias(token: 0, bias: -.infinity), LogitBias(token: 1, bias: -.infinity)]
        var bannedChain = try SamplerChain(banned)
        var two: [Float] = [1, 2]
        #expect(throws: BitNetError.self) { try bannedChain.sample(logits: &two) }
        var greedy = try SamplerChain(.fast)
        var nans: [Float] = [.nan, .nan, .nan]
        #expect(throws: BitNetError.self) { try greedy.sample(logits: &nans) }
    }

    @Test func tinyTemperatureBehavesLikeGreedy() throws {
        var chain = try SamplerChain(SamplingParams(temperature: 1e-30, topK: 0, topP: 1, seed: 3))
        for _ in 0..<50 {
            var logits: [Float] = [1e10, 2e10, -5, 3e10, .infinity]
            #expect(try chain.sample(logits: &logits).token == 4)
            logits = [1, 2, 3, 2.5]
            #expect(try chain.sample(logits: &logits).token == 2)
        }
    }

    @Test func invalidParamsAreRejected() {
        let bad: [SamplingParams] = [
            SamplingParams(temperature: -1), SamplingParams(temperature: .nan), SamplingParams(topK: -2),
            SamplingParams(topP: 1.5), SamplingParams(minP: -0.1), SamplingParams(typicalP: 2),
            SamplingParams(repetitionPenalty: 0), SamplingParams(repeatLastN: -2),
            SamplingParams(presencePenalty: .infinity), SamplingParams(frequencyPenalty: .nan),
            SamplingParams(logitBias: [LogitBias(token: -1, bias: 1)]),
            SamplingParams(logitBias: [LogitBias(token: 1, bias: .infinity)]),
        ]
        for params in bad {
            #expect(throws: BitNetError.self) { try SamplerChain(params) }
        }
        let outside = SamplingParams(logitBias: [LogitBias(token: 100, bias: 1)])
        #expect(throws: BitNetError.self) { try outside.validate(vocabularySize: 100) }
        #expect(throws: Never.self) { try outside.validate(vocabularySize: 101) }
        #expect(throws: Never.self) { try SamplerChain(.quality) }
    }

    @Test func presetsHaveTheDocumentedValues() {
        #expect(SamplingParams.fast.isGreedy)
        #expect(SamplingParams.balanced.temperature == 0.7 && SamplingParams.balanced.topK == 50
            && SamplingParams.balanced.topP == 0.9)
        #expect(SamplingParams.quality.temperature == 0.8 && SamplingParams.quality.topK == 100
            && SamplingParams.quality.topP == 0.95 && SamplingParams.quality.repetitionPenalty == 1.1)
        #expect(SamplingParams() == SamplingParams.balanced)
    }

    /// `BITNET_BENCH=1 swift test -c release --filter SamplerChainTests/benchmark`
    /// Prints, per configuration, the best and the median of 15 batches of 40
    /// samples (best = least disturbed by other processes on a shared machine).
    /// Each sample first restores the 128k logits (the chain modifies them in
    /// place); that copy is timed on its own and subtracted.
    @Test(.enabled(if: getenv("BITNET_BENCH") != nil))
    func benchmarkVocabulary128k() throws {
        let vocabularySize = 128_256
        let logits = Support.randomLogits(count: vocabularySize, seed: 21, spread: 2.5)
        var buffer = logits
        func restore() {
            buffer.withUnsafeMutableBufferPointer { target in
                logits.withUnsafeBufferPointer { source in _ = target.initialize(from: source) }
            }
        }
        func batches(_ body: () throws -> Void) rethrows -> (best: Double, median: Double) {
            var perSample: [Double] = []
            for _ in 0..<15 {
                let start = Support.nowSeconds()
                for _ in 0..<40 { try body() }
                perSample.append((Support.nowSeconds() - start) / 40 * 1e6)
            }
            perSample.sort()
            return (perSample[0], perSample[perSample.count / 2])
        }
        let copy = batches { restore() }
        print("sampler benchmark: restoring 128k logits costs \(Int(copy.best)) µs (subtracted below)")
        let configurations: [(String, SamplingParams)] = [
            ("fast (greedy)", .fast), ("balanced", .balanced), ("quality", .quality),
            ("top-p 0.9 alone, flat logits", SamplingParams(temperature: 1, topK: 0, topP: 0.9)),
            ("min-p 0.05 alone", SamplingParams(temperature: 1, topK: 0, topP: 1, minP: 0.05)),
        ]
        for (name, preset) in configurations {
            var params = preset
            params.seed = 1
            for withLogprob in [true, false] {
                var chain = try SamplerChain(params)
                chain.computesLogprob = withLogprob
                chain.accept(contentsOf: (0..<64).map { Int32($0 * 1000) })
                var sink: Int32 = 0
                let time = try batches {
                    restore()
                    sink &+= try chain.sample(logits: &buffer).token
                }
                print("sampler benchmark V=\(vocabularySize) \(name)\(withLogprob ? "" : ", no logprob"): "
                    + "best \(Int(time.best - copy.best)) µs, median \(Int(time.median - copy.best)) µs per sample [\(sink)]")
            }
        }
    }
}
