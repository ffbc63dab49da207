import Testing
@testable import BitNet

/// Greedy generation under grammars on the trained model (models/bitnet-kjv-tiny.gguf):
/// every token must be the best-scoring token that an independent per-token
/// check allows, and the text must end where the grammar accepts.
@Suite struct GrammarGenerationTests {
    static let modelPath: String = {
        var root = SharedData.root  // <repo>/Tests/Fixtures
        for _ in 0..<2 { root = String(root[..<root.lastIndex(of: "/")!]) }
        return root + "/models/bitnet-kjv-tiny.gguf"
    }()

    static func context() throws -> Context {
        var options = ContextOptions()
        options.contextLength = 256
        options.threads = 2
        return try Context(model: try Model.load(path: modelPath), options: options)
    }

    static func run(_ grammar: Grammar, prompt: String, maxNewTokens: Int) throws -> ([Int32], [UInt8], GenerationStats) {
        let context = try context()
        let params = GenerationParams(sampling: .fast, maxNewTokens: maxNewTokens, grammar: grammar)
        let generator = try Generator(context: context, prompt: .text(prompt), params: params)
        var tokens: [Int32] = [], text: [UInt8] = []
        try context.exclusive { () throws(BitNetError) in
            while let chunk = try generator.next() {
                tokens += chunk.tokens
                text += chunk.text
            }
        }
        return (tokens, text, generator.stats)
    }

    /// Replays the generation: at each step the argmax over the tokens whose
    /// bytes keep the text a valid prefix, checked one token at a time.
    static func expectArgmaxOfAllowed(_ grammar: Grammar, prompt: String, tokens: [Int32]) throws {
        let context = try context()
        let tokenizer = try #require(context.model.tokenizer)
        let matcher = GrammarMatcher(grammar)
        try tokenizer.encode(prompt, addBOS: true).withUnsafeBufferPointer { try context.eval($0) }
        var text: [UInt8] = []
        for token in tokens {
            let logits = try #require(context.logits(row: -1))
            var best: Int32 = -1
            for id in 0..<Int32(tokenizer.vocabularySize) {
                guard let type = tokenizer.tokenType(id), type != .control, type != .unknown, type != .unused,
                      let piece = tokenizer.piece(id), !piece.isEmpty else { continue }
                matcher.reset()
                guard try matcher.accept(text + piece) else { continue }
                if best < 0 || logits[Int(id)] > logits[Int(best)] { best = id }
            }
            #expect(token == best, "after \(String(decoding: text, as: UTF8.self).debugDescription)")
            text += tokenizer.piece(token)!
            try [token].withUnsafeBufferPointer { try context.eval($0) }
        }
    }

    @Test func greedyFollowsTheGrammarAndEndsWhereItAccepts() throws {
        let grammar = try Grammar(gbnf: #"root ::= "And " [a-z]+ (" " [a-z]+){3,8} "." "#)
        let (tokens, text, stats) = try Self.run(grammar, prompt: "In the beginning", maxNewTokens: 80)
        #expect(stats.stopReason == .endOfText)
        #expect(try GrammarMatcher(grammar).matches(String(decoding: text, as: UTF8.self)), "\(String(decoding: text, as: UTF8.self))")
        try Self.expectArgmaxOfAllowed(grammar, prompt: "In the beginning", tokens: tokens)
    }

    @Test func greedyUnderAJSONSchema() throws {
        let grammar = try Grammar(jsonSchema: """
            {"type": "object", "properties": {"book": {"enum": ["Genesis", "Exodus", "Psalms"]},
             "chapter": {"type": "integer", "minimum": 1, "maximum": 150}, "words": {"type": "array",
             "items": {"type": "string", "pattern": "^[a-z]{1,8}$"}, "minItems": 2, "maxItems": 3}},
             "required": ["book", "chapter", "words"], "additionalProperties": false}
            """)
        let (tokens, text, stats) = try Self.run(grammar, prompt: "And God said", maxNewTokens: 200)
        #expect(stats.stopReason == .endOfText, "\(String(decoding: text, as: UTF8.self))")
        #expect(try GrammarMatcher(grammar).matches(String(decoding: text, as: UTF8.self)))
        try Self.expectArgmaxOfAllowed(grammar, prompt: "And God said", tokens: tokens)
    }

    /// Logit bias, penalties, top-k/top-p, temperature and stop sequences all still apply.
    @Test func composesWithTheOtherStagesAndStopSequences() throws {
        let grammar = try Grammar(gbnf: #"root ::= [a-z]+ (" " [a-z]+){2,30} "." "#)
        var reasons = Set<StopReason>()
        for seed in UInt64(1)...4 {
            let context = try Self.context()
            let tokenizer = try #require(context.model.tokenizer)
            // Ban every token containing an "e": the text must do without.
            let bans = (0..<Int32(tokenizer.vocabularySize)).filter { tokenizer.piece($0)?.contains(UInt8(ascii: "e")) == true }
                .map { LogitBias(token: $0, bias: -.infinity) }
            let sampling = SamplingParams(temperature: 0.9, topK: 20, topP: 0.9, repetitionPenalty: 1.3, repeatLastN: 16,
                                          seed: seed, logitBias: bans)
            let params = GenerationParams(sampling: sampling, maxNewTokens: 120, stopSequences: [" and "], grammar: grammar)
            let generator = try Generator(context: context, prompt: .text("And it came to pass"), params: params)
            var text: [UInt8] = []
            try context.exclusive { () throws(BitNetError) in
                while let chunk = try generator.next() { text += chunk.text }
            }
            let stats = generator.stats
            reasons.insert(stats.stopReason)
            #expect(!text.contains(UInt8(ascii: "e")))
            let matcher = GrammarMatcher(grammar)
            #expect(try matcher.accept(text), "\(String(decoding: text, as: UTF8.self))")
            switch stats.stopReason {
            case .endOfText: #expect(matcher.isAccepting)
            case .stopSequence: #expect(stats.stopIndex == 0)
            default: #expect(stats.stopReason == .maxTokens)
            }
        }
        #expect(reasons.contains(.endOfText) && reasons.contains(.stopSequence), "\(reasons)")
    }

    @Test func cutShortTheTextIsAValidPrefix() throws {
        let grammar = try Grammar(gbnf: #"root ::= "Lord" (" " [a-z]+){20}"#)
        let (tokens, text, stats) = try Self.run(grammar, prompt: "Praise the", maxNewTokens: 6)
        #expect(stats.stopReason == .maxTokens && tokens.count == 6)
        let matcher = GrammarMatcher(grammar)
        #expect(try matcher.accept(text) && !matcher.isAccepting)
    }
}
