import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import BitNet

/// The grammar stage in the sampler chain: masks against a per-token
/// reference, lazy paths against full masking, end-of-text only where the
/// grammar may end.
@Suite struct GrammarSamplingTests {
    /// A SentencePiece-style vocabulary with exactly these text tokens after
    /// <unk>, <s>, </s> (ids 0, 1, 2).
    static func tokenizer(_ pieces: [String]) throws -> Tokenizer {
        let tokens = ["<unk>", "<s>", "</s>"] + pieces
        let types: [Int32] = [2, 3, 3] + [Int32](repeating: 1, count: pieces.count)
        return try Tokenizer(TokenizerData(model: "llama", tokens: tokens, tokenTypes: types,
                                           scores: [Float](repeating: 0, count: tokens.count),
                                           bosID: 1, eosID: 2, unknownID: 0, addSpacePrefix: false))
    }

    static let json = try! Grammar(gbnf: """
        root   ::= object
        value  ::= object | array | string | number | ("true" | "false" | "null")
        object ::= "{" ws ( string ":" ws value ws ("," ws string ":" ws value ws)* )? "}"
        array  ::= "[" ws ( value ws ("," ws value ws)* )? "]"
        string ::= "\\"" ( [^"\\\\\\x00-\\x1f] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\\""
        number ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})?
        ws     ::= | " " | "\\n" [ \\t]{0,20}
        """)

    /// Plain twin of the trie walk: every token checked on its own with a matcher.
    static func referenceMask(_ grammar: Grammar, _ tokenizer: Tokenizer, prefix: String, stop: [Int32]) throws -> Set<Int32> {
        let matcher = GrammarMatcher(grammar)
        var allowed = Set<Int32>()
        let complete = try matcher.matches(prefix)
        for id in 0..<Int32(tokenizer.vocabularySize) {
            if stop.contains(id) {
                if complete { allowed.insert(id) }
                continue
            }
            guard let type = tokenizer.tokenType(id), type != .control, type != .unknown, type != .unused,
                  let piece = tokenizer.piece(id), !piece.isEmpty else { continue }
            matcher.reset()
            if try matcher.accept(Array(prefix.utf8) + piece) { allowed.insert(id) }
        }
        return allowed
    }

    static func engineMask(_ grammar: Grammar, _ tokenizer: Tokenizer, prefix: String, stop: [Int32]) throws -> Set<Int32> {
        let engine = GrammarTokenEngine(grammar: grammar, tokenizer: tokenizer, stopTokens: stop)
        return try engine.withLock { (engine) throws(BitNetError) -> Set<Int32> in
            var cursor = engine.initialCursor
            let state = engine.state(after: Array(prefix.utf8), from: try engine.resolve(&cursor))
            guard state >= 0 else { throw BitNetError(.invalidArgument, "prefix rejected") }
            let mask = try engine.mask(state)
            var set = Set<Int32>()
            for id in 0..<Int32(tokenizer.vocabularySize) where mask.allows(id) { set.insert(id) }
            #expect(set.count == mask.count)
            if let sparse = mask.sparse { #expect(Set(sparse) == set && sparse == sparse.sorted()) }
            return set
        }
    }

    @Test(arguments: ["", "{", "{\"", "{\"ke", "{\"key\": ", "{\"key\": \"caf\u{e9}", "{\"a\": [1, 2.5", "{\"a\": {}}",
                      "{\"a\": -0.", "{\"\\u00"])
    func trieWalkMatchesPerTokenCheckOnLlama3(prefix: String) throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-bpe")
        let stop = [tokenizer.eos, tokenizer.eot].compactMap { $0 }
        let fast = try Self.engineMask(Self.json, tokenizer, prefix: prefix, stop: stop)
        let reference = try Self.referenceMask(Self.json, tokenizer, prefix: prefix, stop: stop)
        #expect(fast == reference, "prefix \(prefix.debugDescription): \(fast.count) vs \(reference.count)")
        #expect(!reference.isEmpty)
    }

    @Test func trieWalkMatchesPerTokenCheckOnSentencePiece() throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-spm")
        let grammar = try Grammar(gbnf: "root ::= (\" \" [a-zA-Zé]+)+ \".\" | \"中文\"")
        for prefix in ["", " ab", " ab ", " \u{e9}", "\u{4e2d}"] {
            let stop = [tokenizer.eos].compactMap { $0 }
            #expect(try Self.engineMask(grammar, tokenizer, prefix: prefix, stop: stop)
                    == Self.referenceMask(grammar, tokenizer, prefix: prefix, stop: stop), "\(prefix)")
        }
    }

    /// Random logits over the Llama 3 vocabulary, one JSON generation each:
    /// greedy and top-k with the lazy check pick exactly the tokens full masking picks.
    @Test(arguments: [(Float(0), Int32(0)), (0.8, 40), (1.0, 1), (1.3, 200)])
    func lazyTopKAndGreedyEqualFullMasking(temperature: Float, topK: Int32) throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-bpe")
        let stop = [tokenizer.eos, tokenizer.eot].compactMap { $0 }
        var runs: [[Int32]] = []
        for lazy in [true, false] {
            var chain = try SamplerChain(SamplingParams(temperature: temperature, topK: topK, topP: 1, seed: 99))
            chain.constrain(to: Self.json, tokenizer: tokenizer, stopTokens: stop)
            chain.grammar?.lazy = lazy
            var random = RandomGenerator(seed: 5)
            var tokens: [Int32] = []
            for step in 0..<40 {
                // Mostly noise, with a few favourites so that the best tokens are sometimes allowed.
                var logits = (0..<tokenizer.vocabularySize).map { _ in Float(random.nextUnitDouble() * 4) }
                for id in [90, 1, 330, 794, 25, 220, 364, 60] { logits[id] += Float(step % 3) * 3 }
                let token = try chain.sample(logits: &logits).token
                tokens.append(token)
                if stop.contains(token) { break }
                try chain.advanceGrammar(past: token)
            }
            runs.append(tokens)
        }
        #expect(runs[0] == runs[1])
        let text = tokenizer.decode(runs[0].filter { !stop.contains($0) })
        let matcher = GrammarMatcher(Self.json)
        #expect(try matcher.accept(text), "\(String(decoding: text, as: UTF8.self))")
    }

    /// Draw-then-check (temperature and dist only) samples the masked distribution exactly.
    @Test func drawThenCheckSamplesTheMaskedDistribution() throws {
        let tokenizer = try Self.tokenizer(["a", "b", "c", "ab", "x", "y", "bx"])
        let grammar = try Grammar(gbnf: "root ::= [ab]+")  // allows a, b, ab (ids 3, 4, 6); </s> not yet
        let logits: [Float] = [0, 1, 0, 0.5, 1.0, 3.0, -1, 2.0, 2.5, 0]
        let allowed: [Int32] = [3, 4, 6]
        let weights = allowed.map { Double(expf(logits[Int($0)] / 0.7)) }
        let expected = weights.map { $0 / weights.reduce(0, +) }
        for lazy in [true, false] {
            var chain = try SamplerChain(SamplingParams(temperature: 0.7, topK: 0, topP: 1, seed: lazy ? 1 : 2))
            chain.constrain(to: grammar, tokenizer: tokenizer, stopTokens: [2])
            chain.grammar?.lazy = lazy
            var counts = [Int32: Int]()
            let draws = 40_000
            for _ in 0..<draws {
                var copy = logits
                counts[try chain.sample(logits: &copy).token, default: 0] += 1
            }
            #expect(Set(counts.keys).isSubset(of: Set(allowed)))
            for (index, id) in allowed.enumerated() {
                let p = expected[index]
                let sigma = (p * (1 - p) / Double(draws)).squareRoot()
                let observed = Double(counts[id, default: 0]) / Double(draws)
                #expect(abs(observed - p) < 5 * sigma, "lazy \(lazy) token \(id): \(observed) vs \(p)")
            }
        }
    }

    @Test func endOfTextOnlyWhereTheGrammarMayEnd() throws {
        let tokenizer = try Self.tokenizer(["a", "b", "ab"])
        let grammar = try Grammar(gbnf: "root ::= \"ab\" \"b\"?")
        var chain = try SamplerChain(.fast)
        chain.constrain(to: grammar, tokenizer: tokenizer, stopTokens: [2])
        // </s> (id 2) has the best logit throughout.
        let logits: [Float] = [0, 0, 10, 1, 2, 3]
        var copy = logits
        #expect(try chain.sample(logits: &copy).token == 5)   // "ab" (best allowed; "b" is not)
        try chain.advanceGrammar(past: 5)
        copy = logits
        #expect(try chain.sample(logits: &copy).token == 2)   // complete: </s> now allowed
        #expect(try !chain.grammarIsComplete())
        try chain.advanceGrammar(past: 4)
        #expect(try chain.grammarIsComplete())
        chain.reset()
        copy = logits
        #expect(try chain.sample(logits: &copy).token == 5)
    }

    @Test func bannedTokensStayBannedAndDeadEndsAreErrors() throws {
        let tokenizer = try Self.tokenizer(["a", "b"])
        var sampling = SamplingParams.fast
        sampling.logitBias = [LogitBias(token: 3, bias: -.infinity)]
        var chain = try SamplerChain(sampling)
        chain.constrain(to: try Grammar(gbnf: "root ::= \"a\" | \"c\""), tokenizer: tokenizer, stopTokens: [2])
        var logits: [Float] = [0, 0, 0, 5, 1]
        #expect(throws: BitNetError.self) { try chain.sample(logits: &logits) }  // "a" is banned, "c" unspellable
    }

    /// Vocabularies without a token for some byte still reach every string they can spell.
    @Test func multiByteAndPartialCharacterTokensReachWhatSingleBytesCannot() throws {
        // No token for "é" alone: only the two-character token "aé" spells it.
        let plain = try Self.tokenizer(["a", "a\u{e9}", "c"])
        var chain = try SamplerChain(SamplingParams(temperature: 1, topK: 0, topP: 1, seed: 3))
        chain.constrain(to: try Grammar(gbnf: "root ::= \"a\u{e9}\" \"b\"?"), tokenizer: plain, stopTokens: [2])
        var logits: [Float] = [0, 0, 0, 0, 0, 0]
        var candidates = TokenCandidates(vocabulary: logits.withUnsafeMutableBufferPointer { $0 })
        try chain.grammar!.keepAllowed(&candidates)
        #expect(candidates.candidateList.map(\.id) == [3, 4])
        _ = logits

        // "é" only as two byte tokens (a partial character each), or inside "éb"; no "b" token.
        let data = TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>", "\u{e9}b", "a"],
                                 tokenTypes: [2, 3, 3, 6, 6, 1, 1], scores: [0, 0, 0, 0, 0, 0, 0],
                                 bosID: 1, eosID: 2, unknownID: 0, addSpacePrefix: false)
        let split = try Tokenizer(data)
        let grammar = try Grammar(gbnf: "root ::= \"a\" \"\u{e9}\" \"b\"?")
        for (preferences, expected) in [([Float](arrayLiteral: 0, 0, 5, 3, 1, 2, 0), "a\u{e9}"), ([0, 0, 5, 1, 0, 3, 0], "a\u{e9}b")] {
            var chain = try SamplerChain(.fast)
            chain.constrain(to: grammar, tokenizer: split, stopTokens: [2])
            var text: [UInt8] = []
            for _ in 0..<6 {
                if try chain.grammarIsComplete() { break }
                var logits = preferences
                let token = try chain.sample(logits: &logits).token
                if token == 2 { break }
                try chain.advanceGrammar(past: token)
                text += split.piece(token)!
            }
            #expect(String(decoding: text, as: UTF8.self) == expected)
        }
    }
}
