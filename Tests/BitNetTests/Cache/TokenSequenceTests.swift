import Testing
@testable import BitNet

/// `TokenSequence` keeps the tokens, the exact prefix and the logit rows in step.
@Suite struct TokenSequenceTests {
    @Test func appendExtendsTheExactPrefixOnlyWhenItReachesTheEnd() {
        var s = TokenSequence()
        s.append([1, 2, 3], logitRows: 1)
        #expect(s.tokens == [1, 2, 3] && s.exactPrefixLength == 3 && s.logitRows == 1)
        s.shift(keep: 1, discard: 1)
        #expect(s.tokens == [1, 3] && s.exactPrefixLength == 1 && s.logitRows == 0)
        s.append([4], logitRows: 1)  // evaluated after moved positions: not exact either
        #expect(s.tokens == [1, 3, 4] && s.exactPrefixLength == 1 && s.logitRows == 1)
        s.truncate(to: 1)
        #expect(s.tokens == [1] && s.exactPrefixLength == 1 && s.logitRows == 0)
        s.append([5, 6], logitRows: 0)  // copied from the prefix cache: exact, no logits
        #expect(s.exactPrefixLength == 3 && s.logitRows == 0)
        s.dropLogits()
        s.restore(tokens: [7, 8], exactPrefixLength: 1, logitRows: 1)
        #expect(s.tokens == [7, 8] && s.exactPrefixLength == 1 && s.logitRows == 1)
        s.truncate(to: 0)
        #expect(s.count == 0 && s.exactPrefixLength == 0)
    }

    /// Through a context: after a shift only the kept tokens count as reusable.
    @Test func aShiftedContextReusesOnlyTheKeptTokens() throws {
        let model = try Model.load(path: SharedData.golden("m1-b158-relu2-i2_s.gguf"))
        var options = ContextOptions()
        options.contextLength = 64
        options.threads = 1
        options.keepOnShift = 4
        options.prefixCacheBytes = 0
        let context = try Context(model: model, options: options)
        let prompt = (0..<40).map { Int32(($0 * 13) % 500) }
        try context.exclusive { () throws(BitNetError) in
            #expect(try context.ingest(prompt: prompt) == 0)
            #expect(context.logitRows == 1 && context.logits() != nil)
            try context.shift(keep: 4, discard: 10)
            #expect(context.count == 30 && context.logitRows == 0 && context.logits() == nil)
            let shifted = context.tokens
            #expect(try context.ingest(prompt: shifted) == 4)  // the moved 26 are recomputed
            #expect(context.tokens == shifted && context.sequence.exactPrefixLength == 30)
        }
    }
}
