import Testing
@testable import BitNet

@Suite struct LargestSelectionTests {
    @Test(arguments: [1, 2, 3, 7, 64, 129, 1000, 4097])
    func matchesFullSort(size: Int) {
        for round in 0..<2 {
            let seed = UInt64(size * 31 + round)
            let logits = round == 0
                ? SamplingTestSupport.randomLogits(count: size, seed: seed)
                : SamplingTestSupport.tiedLogits(count: size, seed: seed)
            let reference = SamplingTestSupport.rankByLogit(logits).map { Int32($0) }
            for k in Set([0, 1, 2, 5, size / 2, size - 1, size, size + 3]) where k >= 0 {
                var out: [TokenCandidate] = []
                logits.withUnsafeBufferPointer { LargestSelection.select(k, of: $0, into: &out) }
                #expect(out.map(\.id) == Array(reference.prefix(k)), "size \(size) k \(k) ties \(round)")
                #expect(out.allSatisfy { logits[Int($0.id)] == $0.logit })
            }
        }
    }

    @Test func ascendingInputIsTheWorstCaseAndStillRight() {
        let logits = (0..<5000).map { Float($0) }
        var out: [TokenCandidate] = []
        logits.withUnsafeBufferPointer { LargestSelection.select(10, of: $0, into: &out) }
        #expect(out.map(\.id) == (4990..<5000).reversed().map { Int32($0) })
    }
}
