import Testing
@testable import BitNet

/// q8 KV (8-bit beyond a 256-position f16 window) against f16 KV: lossy, so
/// the test measures and bounds the effect rather than demanding equality.
@Suite struct KVCompressionTests {
    typealias S = CacheTestSupport

    static func lastLogitsPerPosition(_ model: Model, kv: KVType, tokens: [Int32]) throws -> [[Float]] {
        let context = try S.context(model, kv: kv, nCtx: tokens.count, allLogits: true)
        try S.eval(context, tokens)
        return try (0..<tokens.count).map { Array(try #require(context.logits(row: $0))) }
    }

    @Test(arguments: ["m1-b158-relu2-i2_s", "m2-bitnet-silu-tq2_0"])
    func q8StaysCloseToF16(name: String) throws {
        let model = try S.golden(name)
        let tokens = S.tokens(600, seed: 9)  // > 256: most keys are read in 8 bits
        let f16 = try Self.lastLogitsPerPosition(model, kv: .f16, tokens: tokens)
        let q8 = try Self.lastLogitsPerPosition(model, kv: .q8, tokens: tokens)
        var worst: Float = 0, worstOld: Float = 0, agree = 0
        for p in tokens.indices {
            let d = S.maxAbsDiff(f16[p], q8[p])
            worst = max(worst, d)
            if p >= 256 { worstOld = max(worstOld, d) }
            let a = f16[p].indices.max { f16[p][$0] < f16[p][$1] }!
            let b = q8[p].indices.max { q8[p][$0] < q8[p][$1] }!
            if a == b { agree += 1 }
        }
        print("\(name) q8 vs f16 KV over \(tokens.count) positions: max abs diff \(worst) (positions >= 256: \(worstOld)), argmax agreement \(agree)/\(tokens.count)")
        #expect(f16[..<256] == q8[..<256])  // inside the window q8 reads the same f16 rows
        #expect(worstOld > 0)
        #expect(worst <= 0.5)
        // The count moves by a few with any change of float summation order on
        // these random models (m1: 582 with per-query attention, 578-579 tiled).
        #expect(agree >= tokens.count * 95 / 100)
    }
}
