import Testing
@testable import BitNet

/// Hand-checked splits for each pre-tokenizer (the regex semantics that matter:
/// `\s+(?!\S)` backtracking, `\s*[\r\n]+`, digit groups, contractions).
@Suite struct PreTokenizerTests {
    static func words(_ text: String, _ kind: PreTokenizerKind) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            let cps = CodePoints(validUTF8: bytes)
            var out: [String] = []
            PreTokenizer(kind: kind).split(cps) { s, e in
                out.append(String(decoding: bytes[cps.offsets[s]..<cps.offsets[e]], as: UTF8.self))
            }
            return out
        }
    }

    @Test func llama3() {
        #expect(Self.words("Hello  world", .llama3) == ["Hello", " ", " world"])
        #expect(Self.words("I'M 1234567 ok!!\n\n x", .llama3) == ["I", "'M", " ", "123", "456", "7", " ok", "!!\n\n", " x"])
        #expect(Self.words("a \n\n  b  ", .llama3) == ["a", " \n\n", " ", " b", "  "])
        #expect(Self.words("\tword", .llama3) == ["\tword"])
        #expect(Self.words("٣٤٥٦ 世界", .llama3) == ["٣٤٥", "٦", " 世界"])
        #expect(Self.words("", .llama3) == [])
    }

    @Test func gpt2() {
        #expect(Self.words("Hello  world", .gpt2) == ["Hello", " ", " world"])
        #expect(Self.words("I'M 1234567 ok!!\n\n x", .gpt2) == ["I", "'", "M", " 1234567", " ok", "!!", "\n\n", " x"])
        #expect(Self.words("don't", .gpt2) == ["don", "'t"])
        #expect(Self.words("\tword", .gpt2) == ["\t", "word"])
    }

    @Test func standard() {
        // Punctuation runs split first, then GPT-2, then digit runs and triples.
        #expect(Self.words("don't stop", .standard) == ["don", "'", "t", " stop"])
        #expect(Self.words("x=12345, y", .standard) == ["x", "=", "123", "45", ",", " y"])
        #expect(Self.words("a  b", .standard) == ["a", " ", " b"])
        #expect(Self.words("end.  ", .standard) == ["end", ".", "  "])
    }

    @Test func characterClassesMatchTheRegexCategories() {
        #expect(CharacterClass.of(0x41) == .letter)
        #expect(CharacterClass.of(0x4E16) == .letter)  // 世
        #expect(CharacterClass.of(0x0663) == .number)  // Arabic-Indic three
        #expect(CharacterClass.of(0x2167) == .number)  // Roman numeral eight (Nl)
        #expect(CharacterClass.of(0x21) == .punctuation)
        #expect(CharacterClass.of(0x24) == [])  // '$' is a symbol, not punctuation
        for ws: UInt32 in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] {
            #expect(CharacterClass.of(ws).contains(.whitespace), "U+\(String(ws, radix: 16))")
        }
        #expect(!CharacterClass.of(0x200B).contains(.whitespace))  // zero width space is not White_Space
        #expect(CharacterClass.of(0x1D400) == .letter)  // 𝐀, above the BMP table
        #expect(CharacterClass.of(0x1F600) == [])  // emoji: symbol
    }
}
