import Testing
@testable import BitNet

/// Bad input never traps: malformed metadata throws, arbitrary bytes and ids
/// are rejected or ignored.
@Suite struct TokenizerInputSafetyTests {
    static let good: [String: GGUFValue] = [
        "tokenizer.ggml.model": .string("gpt2"),
        "tokenizer.ggml.pre": .string("gpt-2"),
        "tokenizer.ggml.tokens": .array(.string(["a", "b", "ab", "<|end|>"])),
        "tokenizer.ggml.token_type": .array(.int32([1, 1, 1, 3])),
        "tokenizer.ggml.merges": .array(.string(["a b"])),
        "tokenizer.ggml.bos_token_id": .uint32(3),
    ]

    @Test func metadataIsReadAndChecked() throws {
        let data = try #require(try TokenizerData(metadata: Self.good))
        let t = try Tokenizer(data)
        #expect(t.encode("abab") == [2, 2])
        #expect(t.bos == 3 && t.eot == 3)
        #expect(try TokenizerData(metadata: [:]) == nil)  // no tokenizer at all

        let broken: [(String, GGUFValue?)] = [
            ("tokenizer.ggml.model", .uint32(2)),
            ("tokenizer.ggml.tokens", .array(.int32([1, 2]))),
            ("tokenizer.ggml.tokens", nil),
            ("tokenizer.ggml.token_type", .array(.string(["x"]))),
            ("tokenizer.ggml.token_type", .array(.int32([1]))),
            ("tokenizer.ggml.merges", .array(.string(["ab"]))),
            ("tokenizer.ggml.merges", .string("a b")),
            ("tokenizer.ggml.bos_token_id", .string("3")),
            ("tokenizer.ggml.add_bos_token", .uint8(1)),
            ("tokenizer.ggml.scores", .array(.float32([0, 0]))),
        ]
        for (key, value) in broken {
            var metadata = Self.good
            metadata[key] = value
            #expect(throws: BitNetError.self, "\(key) = \(String(describing: value))") {
                guard let data = try TokenizerData(metadata: metadata) else { return }
                _ = try Tokenizer(data)
            }
        }
    }

    @Test(arguments: ["llama-bpe", "llama-spm"])
    func randomBytesAndIDs(_ name: String) throws {
        let t = try VocabFixtures.tokenizer(name)
        var rng = TokenizerTestRNG(state: 11)
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let valid = String(validating: bytes, as: UTF8.self) != nil
            do throws(BitNetError) {
                let ids = try bytes.withUnsafeBufferPointer { buffer throws(BitNetError) in try t.encode(utf8: buffer, parseSpecial: true) }
                #expect(valid)
                #expect(t.decode(ids, renderSpecial: true) == bytes)
            } catch {
                #expect(!valid)
                #expect(error.status == .invalidArgument)
            }
            let ids = (0..<8).map { _ in Int32.random(in: -5...Int32(t.vocabularySize + 5), using: &rng) }
            _ = t.decode(ids)
            var stream = StreamingDetokenizer(tokenizer: t)
            for id in ids { _ = stream.append(id) }
            _ = stream.flush()
            for id in ids where id < 0 || Int(id) >= t.vocabularySize { #expect(t.piece(id) == nil) }
        }
    }
}
