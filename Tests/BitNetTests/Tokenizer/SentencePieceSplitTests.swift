import Testing
@testable import BitNet

/// Merging word by word (the fast path) against merging the whole text as
/// one sequence (the plain definition, what llama.cpp does).
@Suite struct SentencePieceSplitTests {
    @Test func wordSplitMatchesWholeTextMerging() throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-spm")
        let fast = try #require(tokenizer.sentencePieceEncoderForTesting)
        #expect(fast.splitsAtWordStarts)
        var whole = fast
        whole.splitsAtWordStarts = false
        var rng = TokenizerTestRNG(state: 3)
        let words = ["the", " ", "  ", "   ", "\n", "ing", "Hello", "▁", "世界", "🌍", "a", "'s", "123", "\t"]
        for trial in 0..<1500 {
            var text: String
            if trial % 2 == 0 {
                text = randomText(&rng, maxLength: 60)
            } else {
                text = ""
                for _ in 0..<Int.random(in: 0...25, using: &rng) { text += words.randomElement(using: &rng)! }
            }
            // The tokenizer escapes spaces and adds the prefix; do the same here.
            let escaped = Array(("▁" + text).utf8.split(separator: 0x20, omittingEmptySubsequences: false)
                .joined(separator: Array("▁".utf8)))
            var a: [Int32] = [], b: [Int32] = []
            escaped.withUnsafeBufferPointer { fast.encode($0, into: &a); whole.encode($0, into: &b) }
            #expect(a == b, "\(text.debugDescription)")
        }
    }
}
