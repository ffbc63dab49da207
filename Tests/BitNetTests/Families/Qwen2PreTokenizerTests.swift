import Testing
@testable import BitNet

/// Qwen2's pre-tokenizer (`tokenizer.ggml.pre = "qwen2"`, Qwen2 / Qwen3 files):
/// the Llama 3 pattern with `\p{N}` instead of `\p{N}{1,3}` — one digit per piece.
@Suite struct Qwen2PreTokenizerTests {
    @Test func digitsSplitOneByOne() {
        #expect(PreTokenizerKind(preName: "qwen2") == .qwen2)
        #expect(PreTokenizerKind(preName: "falcon3") == .llama3)
        #expect(PreTokenizerTests.words("I'M 1234 ok!!\n\n x", .qwen2) == ["I", "'M", " ", "1", "2", "3", "4", " ok", "!!\n\n", " x"])
        #expect(PreTokenizerTests.words("٣٤٥ 世界", .qwen2) == ["٣", "٤", "٥", " 世界"])
        // Everything but digits splits as Llama 3 does.
        for text in ["Hello  world", "a \n\n  b  ", "\tword", "don't STOP", ""] {
            #expect(PreTokenizerTests.words(text, .qwen2) == PreTokenizerTests.words(text, .llama3), "\(text)")
        }
    }
}
