import Testing
@testable import BitNet

/// The llama.cpp / Hugging Face tokenizer test vectors, reproduced exactly
/// (add_special = false, parse_special = false), and decode(encode(x)) == x.
@Suite struct VocabVectorTests {
    static let vocabularies = ["llama-bpe", "llama-spm", "gpt-2"]

    @Test(arguments: vocabularies)
    func reproducesEveryCase(_ name: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(name)
        let cases = try VocabFixtures.cases(name)
        #expect(cases.count == 46)
        #expect(cases.reduce(0) { $0 + $1.expected.count } > 300)
        for (index, c) in cases.enumerated() {
            let ids = try c.text.withUnsafeBufferPointer { try tokenizer.encode(utf8: $0) }
            #expect(ids == c.expected, "\(name) case \(index): \(String(decoding: c.text, as: UTF8.self).debugDescription)")
        }
    }

    @Test(arguments: vocabularies)
    func decodeInvertsEncode(_ name: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(name)
        for (index, c) in try VocabFixtures.cases(name).enumerated() {
            #expect(tokenizer.decode(c.expected) == c.text,
                    "\(name) case \(index): \(String(decoding: c.text, as: UTF8.self).debugDescription)")
        }
    }
}
