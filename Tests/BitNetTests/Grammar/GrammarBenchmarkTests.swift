import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import BitNet

/// Timings of the grammar stage on the Llama 3 vocabulary (128,256 tokens),
/// for BENCHMARKS.md. Off unless BITNET_GRAMMAR_BENCH is set; meant for a
/// release build:
///
///     BITNET_GRAMMAR_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter GrammarBenchmark
@Suite(.enabled(if: Environment.flag("BITNET_GRAMMAR_BENCH")))
struct GrammarBenchmarkTests {
    static let schema = """
        {"type": "object", "properties": {
           "name": {"type": "string", "maxLength": 40},
           "age": {"type": "integer", "minimum": 0, "maximum": 150},
           "email": {"type": "string", "format": "email"},
           "address": {"type": "object", "properties": {
               "street": {"type": "string"}, "city": {"type": "string"},
               "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
             "required": ["street", "city"], "additionalProperties": false},
           "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 8},
           "orders": {"type": "array", "items": {"type": "object", "properties": {
               "id": {"type": "integer"}, "total": {"type": "number", "minimum": 0},
               "items": {"type": "array", "items": {"type": "object", "properties": {
                   "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                 "required": ["sku", "qty"], "additionalProperties": false}}},
             "required": ["id", "total", "items"], "additionalProperties": false}}},
         "required": ["name", "age", "address", "tags", "orders"], "additionalProperties": false}
        """

    static let document = """
        {"name": "Ada Lovelace", "age": 36, "email": "ada@example.org", "address": {"street": "12 St James's Square", \
        "city": "London", "zip": "12345"}, "tags": ["math", "engines", "poetry"], "orders": [{"id": 1, "total": 19.5, \
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}, {"id": 2, "total": 7.25, "items": [{"sku": "C-3", \
        "qty": 5}]}]}
        """

    static func milliseconds(_ d: Duration) -> Double { d.secondsDouble * 1000 }

    @Test func grammarStageCostOnLlama3Vocabulary() throws {
        let clock = ContinuousClock()
        let tokenizer = try VocabFixtures.tokenizer("llama-bpe")
        let stop = [tokenizer.eos, tokenizer.eot].compactMap { $0 }
        var start = clock.now
        let trie = TokenTrie(tokenizer: tokenizer)
        print("trie: \(trie.nodeCount) nodes for \(tokenizer.vocabularySize) tokens, max depth \(trie.maxDepth), built in \(Self.milliseconds(clock.now - start)) ms")
        start = clock.now
        let grammar = try Grammar(jsonSchema: Self.schema)
        print("schema -> grammar: \(grammar.ruleCount) rules, \(grammar.gbnf.utf8.count) bytes of GBNF, \(Self.milliseconds(clock.now - start)) ms")

        // Full masks along the document: cold (fresh automaton), then warm
        // (transitions known, mask cache emptied), per state.
        let target = tokenizer.encode(Self.document, addBOS: false)
        do {
            let engine = GrammarTokenEngine(grammar: grammar, tokenizer: tokenizer, stopTokens: stop)
            var cold: [(Double, Int)] = [], warm: [Double] = []
            try engine.withLock { (engine) throws(BitNetError) in
                var cursor = engine.initialCursor
                var states: [Int32] = []
                var state = try engine.resolve(&cursor)
                for token in target {
                    states.append(state)
                    state = engine.state(after: tokenizer.piece(token)!, from: state)
                    if state < 0 { break }
                }
                for s in states {
                    let t0 = clock.now
                    let mask = try engine.mask(s)
                    cold.append((Self.milliseconds(clock.now - t0), mask.count))
                }
                engine.clearMasksForBenchmark()
                for s in states {
                    let t0 = clock.now
                    _ = try engine.mask(s)
                    warm.append(Self.milliseconds(clock.now - t0))
                }
            }
            let coldTimes = cold.map(\.0).sorted(), warmTimes = warm.sorted()
            let wide = cold.indices.filter { cold[$0].1 > 10_000 }
            print("full masks over \(cold.count) states: cold mean \(coldTimes.reduce(0, +) / Double(cold.count)) ms, max \(coldTimes.last!) ms; warm mean \(warmTimes.reduce(0, +) / Double(warm.count)) ms, median \(warmTimes[warm.count / 2]) ms, max \(warmTimes.last!) ms; \(wide.count) wide states (>10k tokens allowed): warm mean \(wide.map { warm[$0] }.reduce(0, +) / Double(max(wide.count, 1))) ms")
        }

        let vocabulary = tokenizer.vocabularySize
        for scenario in ["guided", "noise"] {
            for lazy in [true, false] {
                var random = RandomGenerator(seed: 11)
                let base = (0..<vocabulary).map { _ in Float(random.nextUnitDouble() * 6) }
                // Unconstrained twin: same logits, same params, no grammar.
                for constrained in [false, true] {
                    var chain = try SamplerChain(SamplingParams(temperature: 0.8, topK: 40, topP: 0.95, seed: 1))
                    if constrained {
                        chain.constrain(to: grammar, tokenizer: tokenizer, stopTokens: stop)
                        chain.grammar?.lazy = lazy
                    }
                    var logits = base
                    var total = Duration.zero
                    var steps = 0
                    var worst = Duration.zero
                    var text: [UInt8] = []
                    for step in 0..<300 {
                        // "guided": a model that mostly wants the document's next token.
                        for i in 0..<vocabulary { logits[i] = base[(i + step * 7919) % vocabulary] }
                        if scenario == "guided", step < target.count { logits[Int(target[step])] += 12 }
                        let t0 = clock.now
                        let token = try chain.sample(logits: &logits).token
                        if constrained {
                            if stop.contains(token) { break }
                            try chain.advanceGrammar(past: token)
                        }
                        let elapsed = clock.now - t0
                        total += elapsed
                        worst = max(worst, elapsed)
                        steps += 1
                        text += tokenizer.piece(token)!
                        if constrained, try chain.grammarIsComplete() { break }
                    }
                    let counters = chain.grammar?.engine.counters
                    print("\(scenario) lazy=\(lazy) grammar=\(constrained): \(steps) tokens, mean \(Self.milliseconds(total) / Double(steps)) ms/token, worst \(Self.milliseconds(worst)) ms"
                          + (counters.map { ", masks computed \($0.masksComputed), cache hits \($0.maskCacheHits), tokens checked \($0.tokensChecked)" } ?? ""))
                    if constrained && scenario == "guided" && lazy {
                        print("  text: \(String(decoding: text.prefix(300), as: UTF8.self))")
                    }
                }
            }
        }
    }
}

extension GrammarBenchmarkTests {
    /// On a real model (BITNET_GRAMMAR_BENCH_MODEL, e.g. the 2B4T-shaped one from
    /// `make_model.py --preset 2b4t`): per step, the decode (eval of one token)
    /// and the same logits sampled by a chain with and without the grammar.
    @Test func grammarStageNextToTheDecodeStep() throws {
        guard let path = getenv("BITNET_GRAMMAR_BENCH_MODEL").map({ String(cString: $0) }) else { return }
        let clock = ContinuousClock()
        let model = try Model.load(path: path)
        var options = ContextOptions()
        options.contextLength = 512
        options.threads = 2
        let context = try Context(model: model, options: options)
        let tokenizer = try #require(model.tokenizer)
        let stop = [tokenizer.eos, tokenizer.eot].compactMap { $0 }
        let grammar = try Grammar(jsonSchema: Self.schema)
        let chains: [(String, SamplingParams)] = [
            ("temperature 0.8, top-k 40, top-p 0.95", SamplingParams(temperature: 0.8, topK: 40, topP: 0.95, seed: 3)),
            ("temperature 1.0 only (draw, then check)", SamplingParams(temperature: 1.0, topK: 0, topP: 1, seed: 3)),
            ("greedy", SamplingParams.fast),
        ]
        for (label, sampling) in chains {
            context.reset()
            try tokenizer.encode("Customer record as JSON:", addBOS: true).withUnsafeBufferPointer { try context.eval($0) }
            var constrained = try SamplerChain(sampling), plain = try SamplerChain(sampling)
            constrained.constrain(to: grammar, tokenizer: tokenizer, stopTokens: stop)
            var decode: [Double] = [], withGrammar: [Double] = [], without: [Double] = []
            var text: [UInt8] = []
            for _ in 0..<96 {
                let logits = try #require(context.logits(row: -1))
                var a = Array(logits), b = Array(logits)
                var t0 = clock.now
                let token = try constrained.sample(logits: &a).token
                if stop.contains(token) { break }
                try constrained.advanceGrammar(past: token)
                withGrammar.append(Self.milliseconds(clock.now - t0))
                t0 = clock.now
                _ = try plain.sample(logits: &b)
                without.append(Self.milliseconds(clock.now - t0))
                t0 = clock.now
                try [token].withUnsafeBufferPointer { try context.eval($0) }
                decode.append(Self.milliseconds(clock.now - t0))
                text += tokenizer.piece(token)!
                if try constrained.grammarIsComplete() { break }
            }
            func summary(_ values: [Double]) -> String {
                let sorted = values.sorted()
                let mean = values.reduce(0, +) / Double(values.count)
                return "mean \(mean) median \(sorted[sorted.count / 2]) p95 \(sorted[sorted.count * 95 / 100]) max \(sorted.last!)"
            }
            let extra = zip(withGrammar, without).map { $0 - $1 }
            print("[\(label)] \(decode.count) tokens")
            print("  decode step ms: \(summary(decode))")
            print("  sampling without grammar ms: \(summary(without))")
            print("  sampling with grammar ms: \(summary(withGrammar))")
            print("  grammar stage (difference) ms: \(summary(extra))")
            let counters = constrained.grammar!.engine.counters
            print("  masks computed \(counters.masksComputed), cache hits \(counters.maskCacheHits), tokens checked \(counters.tokensChecked)")
            print("  text: \(String(decoding: text.prefix(200), as: UTF8.self).debugDescription)")
        }
    }
}

enum Environment {
    static func flag(_ name: String) -> Bool {
        guard let value = getenv(name) else { return false }
        return String(cString: value) != "" && String(cString: value) != "0"
    }
}
