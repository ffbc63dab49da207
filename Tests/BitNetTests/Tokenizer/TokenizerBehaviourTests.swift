import Testing
@testable import BitNet

@Suite struct TokenizerBehaviourTests {
    @Test func llama3SpecialTokenIDs() throws {
        let t = try VocabFixtures.tokenizer("llama-bpe")
        #expect(t.vocabularySize == 128256)
        #expect(t.bos == 128000 && t.eos == 128001 && t.eot == 128009)
        #expect(t.addsBOS)
        #expect(t.tokenType(128009) == .control)
        #expect(t.piece(128009) == Array("<|eot_id|>".utf8))
        #expect(t.piece(-1) == nil && t.piece(128256) == nil)
    }

    @Test func parseSpecialMapsControlTextOnlyWhenAsked() throws {
        let t = try VocabFixtures.tokenizer("llama-bpe")
        let text = "Hi<|eot_id|>there"
        let parsed = t.encode(text, parseSpecial: true)
        #expect(parsed.contains(128009))
        #expect(parsed == t.encode("Hi") + [128009] + t.encode("there"))
        let plain = t.encode(text)
        #expect(!plain.contains(128009))
        #expect(t.decodeText(plain) == text)
        // Control tokens are dropped when decoding unless rendered on purpose.
        #expect(t.decodeText(parsed) == "Hithere")
        #expect(t.decodeText(parsed, renderSpecial: true) == text)
    }

    @Test func addBOSNeverDoublesIt() throws {
        let t = try VocabFixtures.tokenizer("llama-bpe")
        #expect(t.encode("Hello", addBOS: true) == [128000, 9906])
        #expect(t.encode("<|begin_of_text|>Hello", addBOS: true, parseSpecial: true) == [128000, 9906])
        #expect(t.encode("", addBOS: true) == [128000])
        #expect(t.encode("") == [])
    }

    @Test func sentencePieceDefaults() throws {
        let t = try VocabFixtures.tokenizer("llama-spm")
        #expect(t.bos == 1 && t.eos == 2 && t.addsBOS && t.addsSpacePrefix)
        #expect(t.encode(" ") == [259])  // "▁▁"
        // Characters outside the vocabulary fall back to <0xXX> byte tokens.
        let ids = t.encode("𝕏")
        #expect(ids.allSatisfy { t.tokenType($0) == .byte || t.piece($0) == [0x20] })
        #expect(t.decodeText(ids) == "𝕏")
    }

    @Test func invalidUTF8IsRejected() throws {
        let t = try VocabFixtures.tokenizer("gpt-2")
        for bad: [UInt8] in [[0xFF], [0x61, 0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(throws: BitNetError.self) { try bad.withUnsafeBufferPointer { try t.encode(utf8: $0) } }
        }
        let good = Array("ok é".utf8)
        #expect(try good.withUnsafeBufferPointer { try t.encode(utf8: $0) } == t.encode("ok é"))
    }

    @Test func badMetadataThrows() {
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "gpt2", tokens: [])) }
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "wordpiece", tokens: ["a"])) }
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "gpt2", pre: "nonsense", tokens: ["a"])) }
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "gpt2", tokens: ["a", "b"], merges: ["a"])) }
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "gpt2", tokens: ["a", "b"], merges: ["a c"])) }
        #expect(throws: BitNetError.self) { try Tokenizer(TokenizerData(model: "gpt2", tokens: ["a"], tokenTypes: [1, 1])) }
    }

    @Test func outOfRangeSpecialIDsAreIgnored() throws {
        let t = try Tokenizer(TokenizerData(model: "gpt2", tokens: ["a"], bosID: 5, eosID: -1, eotID: 0))
        #expect(t.bos == nil && t.eos == nil && t.eot == 0)
        #expect(t.encode("a", addBOS: true) == [0])
    }

    @Test func bitnetArchitectureWithoutPreUsesLlama3() throws {
        let data = TokenizerData(model: "gpt2", architecture: "bitnet-b1.58", tokens: ["a"])
        let t = try Tokenizer(data)
        guard case .bytePair(.llama3) = t.kind else { Issue.record("kind \(t.kind)"); return }
        #expect(t.chatTemplate == .bitnet)
    }
}

@Suite struct ModelTokenizerTests {
    @Test func modelCarriesItsTokenizer() throws {
        let model = try Model.load(path: "\(VocabFixtures.goldenDirectory)/m1-b158-relu2-i2_s.gguf")
        let tokenizer = try #require(model.tokenizer)
        #expect(tokenizer.vocabularySize == 512 && tokenizer.vocabularySize == model.hparams.nVocab)
        #expect(tokenizer.chatTemplate == .bitnet)
        let vocabOnly = try Model.load(path: "\(VocabFixtures.vocabDirectory)/ggml-vocab-llama-bpe.gguf", options: ModelLoadOptions(vocabOnly: true))
        #expect(vocabOnly.tokenizer?.eot == 128009)
        #expect(vocabOnly.tokenizer?.chatTemplate == .llama3)
    }
}

@Suite struct ControlTokenSafetyTests {
    /// A vocabulary whose merges and scores would spell a control token from
    /// plain text: the tokenizer must still never emit it.
    @Test func mergesNeverProduceControlTokens() throws {
        // Byte-level: "a" + "b" -> "ab" is a control token; "ab" + "c" would follow.
        let bpe = try Tokenizer(TokenizerData(model: "gpt2", pre: "gpt-2", tokens: ["a", "b", "c", "ab", "abc"],
                                              tokenTypes: [1, 1, 1, 3, 1], merges: ["a b", "ab c"]))
        #expect(bpe.encode("abc") == [0, 1, 2])
        #expect(bpe.encode("ab", parseSpecial: true) == [3])
        // SentencePiece: "<s>" spelled from characters.
        let spm = try Tokenizer(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>", "<", "s", ">", "<s", "▁"],
                                              tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1], scores: [0, 0, 0, -1, -1, -1, 5, -1]))
        let ids = spm.encode("<s>")
        #expect(!ids.contains(1) && !ids.contains(0))
        #expect(ids == [7, 6, 5])
    }
}
