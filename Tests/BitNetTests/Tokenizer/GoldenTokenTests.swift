import Testing
@testable import BitNet

/// The golden models carry a 512-token gpt2 vocabulary (`pre = default`) and
/// a token sequence that llama.cpp produced from an English paragraph: decoding
/// it and encoding the text again must give the same ids back.
@Suite struct GoldenTokenTests {
    static let models = ["m1-b158-relu2-i2_s", "m1-bitnet-relu2-tq2_0", "m2-bitnet-silu-tq2_0"]

    @Test(arguments: models)
    func reencodesLlamaCppTokens(_ model: String) throws {
        let tokenizer = try VocabFixtures.tokenizer("\(VocabFixtures.goldenDirectory)/\(model).gguf")
        guard case .bytePair(.standard) = tokenizer.kind else {
            Issue.record("expected byte-level BPE with the default pre-tokenizer, got \(tokenizer.kind)")
            return
        }
        let line = try VocabFixtures.readFile("\(VocabFixtures.goldenDirectory)/\(model).tokens.txt")
        let ids = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
        #expect(ids.count == 64)
        #expect(ids.first == tokenizer.bos)
        #expect(tokenizer.bos == 510 && tokenizer.eos == 511 && tokenizer.addsBOS)
        let text = tokenizer.decodeText(ids)
        #expect(!text.isEmpty && !text.contains("\u{FFFD}"))
        #expect(tokenizer.encode(text, addBOS: true) == ids, "\(text.debugDescription)")
    }
}
