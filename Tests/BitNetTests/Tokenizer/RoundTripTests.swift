import Testing
@testable import BitNet

/// A small deterministic generator (tests must be reproducible).
typealias TokenizerTestRNG = SplitMix64

/// Random text mixing scripts, digits, punctuation, every kind of whitespace,
/// combining marks, emoji and unassigned/private-use code points.
func randomText(_ rng: inout TokenizerTestRNG, maxLength: Int = 40) -> String {
    let pools: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0x20...0x7E, 0x20...0x7E,  // ASCII, weighted
        0x09...0x0D, 0xA0...0xFF, 0x100...0x24F, 0x300...0x36F, 0x370...0x3FF, 0x400...0x4FF,
        0x590...0x6FF, 0x900...0x97F, 0x2000...0x206F, 0x3000...0x303F, 0x3040...0x30FF,
        0x4E00...0x9FFF, 0xAC00...0xD7A3, 0xE000...0xE0FF, 0xFF00...0xFFEF,
        0x1F300...0x1F6FF, 0x1D400...0x1D7FF, 0x20000...0x2A6DF, 0xE0000...0xE007F,
    ]
    var text = ""
    let length = Int.random(in: 0...maxLength, using: &rng)
    for _ in 0..<length {
        let pool = pools[Int.random(in: 0..<pools.count, using: &rng)]
        if let scalar = Unicode.Scalar(UInt32.random(in: pool, using: &rng)) { text.unicodeScalars.append(scalar) }
    }
    return text
}

@Suite struct RoundTripTests {
    @Test(arguments: ["llama-bpe", "gpt-2", "llama-spm"])
    func randomUnicodeRoundTrips(_ name: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(name)
        var rng = TokenizerTestRNG(state: 0xB17_4E7)
        for _ in 0..<400 {
            let text = randomText(&rng)
            let ids = tokenizer.encode(text)
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
            // Compare bytes: String == would treat canonically equivalent texts as equal.
            #expect(tokenizer.decode(ids) == Array(text.utf8), "\(name): \(text.debugDescription)")
        }
    }

    @Test func goldenVocabularyRoundTrips() throws {
        let tokenizer = try VocabFixtures.tokenizer("\(VocabFixtures.goldenDirectory)/m1-b158-relu2-i2_s.gguf")
        var rng = TokenizerTestRNG(state: 42)
        for _ in 0..<300 {
            let text = randomText(&rng)
            #expect(tokenizer.decode(tokenizer.encode(text)) == Array(text.utf8), "\(text.debugDescription)")
        }
    }
}
