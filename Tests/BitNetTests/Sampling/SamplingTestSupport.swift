@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers shared by the sampling tests: random logits from our own seeded
/// generator (so every run sees the same inputs) and a stage runner.
enum SamplingTestSupport {
    /// Logits roughly normal(0, spread) via the sum of 4 uniforms.
    static func randomLogits(count: Int, seed: UInt64, spread: Float = 3) -> [Float] {
        var random = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            var sum = 0.0
            for _ in 0..<4 { sum += random.nextUnitDouble() }
            return Float(sum - 2) * spread * 1.7
        }
    }

    /// Logits with many exact ties (few distinct values), to test tie order.
    static func tiedLogits(count: Int, seed: UInt64) -> [Float] {
        var random = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Float(random.next() % 7) - 3 }
    }

    /// Runs one stage on `logits`, starting from the whole vocabulary or from
    /// an explicit (shuffled) list, and returns the survivors sorted by id.
    static func run<Stage: SamplerStage>(
        _ stage: inout Stage, logits: [Float], fromList: Bool, seed: UInt64 = 1
    ) -> (survivors: [TokenCandidate], selected: Int32?) {
        var logits = logits
        var random = RandomGenerator(seed: seed)
        return logits.withUnsafeMutableBufferPointer { buffer in
            var candidates = TokenCandidates(vocabulary: buffer)
            if fromList {
                var list = (0..<buffer.count).map { TokenCandidate(id: Int32($0), logit: buffer[$0]) }
                var shuffler = RandomGenerator(seed: seed &+ 99)
                for i in stride(from: list.count - 1, to: 0, by: -1) {
                    list.swapAt(i, Int(shuffler.next() % UInt64(i + 1)))
                }
                candidates.replace(with: &list, sorted: false)
            }
            stage.apply(to: &candidates, random: &random)
            let survivors = candidates.candidateList.sorted { $0.id < $1.id }
            return (survivors, candidates.selected)
        }
    }

    /// Softmax in Double, the plain way.
    static func softmax(_ logits: [Float]) -> [Double] {
        let maximum = Double(logits.max() ?? 0)
        let weights = logits.map { exp(Double($0) - maximum) }
        let sum = weights.reduce(0, +)
        return weights.map { $0 / sum }
    }

    static func ids(_ candidates: [TokenCandidate]) -> [Int32] { candidates.map(\.id) }

    /// Indices sorted by logit descending, ties by lower index — a full sort.
    static func rankByLogit(_ logits: [Float]) -> [Int] {
        logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    }

    static func nowSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}
