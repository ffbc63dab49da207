import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import BitNet

/// The generation loop on the golden m1 model (512-token byte-level BPE vocabulary).
@Suite struct GeneratorTests {
    static let prompt = "The quick brown fox jumps over the lazy dog"

    static func context(length: Int = 256) throws -> Context {
        let model = try Model.load(path: SharedData.golden("m1-b158-relu2-i2_s.gguf"))
        var options = ContextOptions()
        options.contextLength = length
        options.kvType = .f32
        options.threads = 2
        return try Context(model: model, options: options)
    }

    static func greedy(_ maxNewTokens: Int, stops: [String] = [], bias: [LogitBias] = []) -> GenerationParams {
        var sampling = SamplingParams.fast
        sampling.logitBias = bias
        return GenerationParams(sampling: sampling, maxNewTokens: maxNewTokens, stopSequences: stops, ignoreEOS: true)
    }

    /// Runs a generation to its end inside `exclusive`.
    static func run(_ context: Context, _ prompt: GenerationPrompt, _ params: GenerationParams) throws
        -> (chunks: [GenerationChunk], stats: GenerationStats) {
        let generator = try Generator(context: context, prompt: prompt, params: params)
        var chunks: [GenerationChunk] = []
        try context.exclusive { () throws(BitNetError) in
            while let chunk = try generator.next() { chunks.append(chunk) }
        }
        return (chunks, generator.stats)
    }

    static func text(_ chunks: [GenerationChunk]) -> [UInt8] { chunks.flatMap(\.text) }

    /// Tokens whose bytes are not printable ASCII, banned so that every token is one chunk.
    static func nonASCIIBans(_ tokenizer: Tokenizer) -> [LogitBias] {
        (0..<Int32(tokenizer.vocabularySize)).compactMap { id in
            let piece = tokenizer.piece(id) ?? []
            let ascii = !piece.isEmpty && piece.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            return ascii ? nil : LogitBias(token: id, bias: -.infinity)
        }
    }

    @Test func greedyIsArgmaxOfTheContextLogits() throws {
        let context = try Self.context()
        let (chunks, stats) = try Self.run(context, .text(Self.prompt), Self.greedy(32))
        let generated = chunks.flatMap(\.tokens)
        #expect(stats.generated == 32 && generated.count == 32 && stats.stopReason == .maxTokens)
        #expect(context.count == stats.promptTokens + 32)

        let reference = try Self.context()
        let tokenizer = try #require(reference.model.tokenizer)
        let promptIDs = tokenizer.encode(Self.prompt, addBOS: true)
        try promptIDs.withUnsafeBufferPointer { try reference.eval($0) }
        for token in generated {
            let logits = try #require(reference.logits(row: -1))
            let best = logits.indices.max { logits[$0] < logits[$1] }!
            #expect(token == Int32(best))
            try [token].withUnsafeBufferPointer { try reference.eval($0) }
        }
        for chunk in chunks {
            #expect(!chunk.text.isEmpty)
            #expect(String(validating: chunk.text, as: UTF8.self) != nil)
        }
    }

    @Test func stepsCanBeSpreadOutAndTheContextIsChecked() throws {
        let context = try Self.context()
        let whole = Self.text(try Self.run(context, .text(Self.prompt), Self.greedy(20)).chunks)
        let generator = try Generator(context: context, prompt: .text(Self.prompt), params: Self.greedy(20))
        var text: [UInt8] = []
        while let chunk = try generator.step() {  // each step takes and releases the context
            text += chunk.text
        }
        #expect(text == whole)

        let changed = try Generator(context: context, prompt: .text(Self.prompt), params: Self.greedy(20))
        _ = try changed.step()
        try context.exclusive { () throws(BitNetError) in try context.truncate(to: 2) }
        #expect(throws: BitNetError.self) { try changed.step() }
    }

    @Test func asyncSequenceGivesTheSameText() async throws {
        let context = try Self.context()
        let whole = Self.text(try Self.run(context, .text(Self.prompt), Self.greedy(16)).chunks)
        let generator = try Generator(context: context, prompt: .text(Self.prompt), params: Self.greedy(16))
        var text: [UInt8] = []
        for try await chunk in generator.chunks { text += chunk.text }
        #expect(text == whole)
    }

    @Test func continuationReevaluatesTheLastTokenWhenLogitsAreGone() throws {
        let context = try Self.context()
        let whole = Self.text(try Self.run(context, .text(Self.prompt), Self.greedy(12)).chunks)
        let promptIDs = try #require(context.model.tokenizer).encode(Self.prompt, addBOS: true)
        try context.truncate(to: 0)
        try promptIDs.withUnsafeBufferPointer { try context.eval($0) }
        try context.truncate(to: promptIDs.count)  // drops the logits, keeps the tokens
        let (chunks, stats) = try Self.run(context, .continuation, Self.greedy(12))
        #expect(Self.text(chunks) == whole)
        #expect(stats.promptTokens == promptIDs.count && stats.promptTokensReused == promptIDs.count - 1)
    }

    @Test func stopSequenceAcrossTokensEndsTheTextBeforeIt() throws {
        let context = try Self.context(length: 512)
        let tokenizer = try #require(context.model.tokenizer)
        let params = Self.greedy(60, bias: Self.nonASCIIBans(tokenizer))
        let chunks = try Self.run(context, .text(Self.prompt), params).chunks
        let whole = Self.text(chunks)
        // A stop made of the last byte of chunk 5 and the first two of chunk 6.
        var end = 0
        for chunk in chunks.prefix(6) { end += chunk.text.count }
        let stop = Array(whole[(end - 1)..<(end + 2)])
        let stopText = String(decoding: stop, as: UTF8.self)
        var firstAt = 0
        while !whole[firstAt...].starts(with: stop) { firstAt += 1 }

        var stopped = params
        stopped.stopSequences = ["never appears \u{1F600}", stopText]
        let (cut, stats) = try Self.run(context, .text(Self.prompt), stopped)
        #expect(Self.text(cut) == Array(whole[..<firstAt]))
        #expect(stats.stopReason == .stopSequence && stats.stopIndex == 1)
    }

    @Test func byteTokensOfMultibyteCharactersGiveValidChunks() throws {
        let context = try Self.context(length: 512)
        let tokenizer = try #require(context.model.tokenizer)
        let wanted: [[UInt8]] = [[0xC3], [0xA9], [0xE2], [0x82], [0xAC], [0xF0], [0x9F]]
        let bias = (0..<Int32(tokenizer.vocabularySize)).compactMap { id in
            wanted.contains(tokenizer.piece(id) ?? []) ? LogitBias(token: id, bias: 200) : nil
        }
        #expect(bias.count == wanted.count)
        let sampling = SamplingParams(temperature: 10, topK: 0, topP: 1, seed: 5, logitBias: bias)
        let params = GenerationParams(sampling: sampling, maxNewTokens: 300, ignoreEOS: true)
        let (chunks, stats) = try Self.run(context, .text("abc"), params)
        #expect(stats.generated == 300)
        #expect(chunks.count < 300)  // some tokens were held back until their character completed
        for chunk in chunks { #expect(String(validating: chunk.text, as: UTF8.self) != nil) }
        #expect(chunks.map(\.tokens.count).reduce(0, +) == 300)
    }

    @Test func sameSeedSameText() throws {
        let context = try Self.context()
        var sampling = SamplingParams.quality
        sampling.temperature = 1.5
        sampling.seed = 77
        let params = GenerationParams(sampling: sampling, maxNewTokens: 40, ignoreEOS: true)
        let a = try Self.run(context, .text(Self.prompt), params).chunks.flatMap(\.tokens)
        let b = try Self.run(context, .text(Self.prompt), params).chunks.flatMap(\.tokens)
        var other = params
        other.sampling.seed = 78
        let c = try Self.run(context, .text(Self.prompt), other).chunks.flatMap(\.tokens)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func interruptBetweenTokensCancels() throws {
        let context = try Self.context()
        let generator = try Generator(context: context, prompt: .text(Self.prompt), params: Self.greedy(50))
        var count = 0
        #expect(throws: BitNetError.self) {
            try context.exclusive { () throws(BitNetError) in
                while try generator.next() != nil {
                    count += 1
                    if count == 3 { context.interrupt() }
                }
            }
        }
        #expect(count == 3 && generator.stats.stopReason == .cancelled)
        let again = try Self.run(context, .text(Self.prompt), Self.greedy(5))
        #expect(again.stats.stopReason == .maxTokens)
    }

    /// bitnet_context_interrupt's promise: a prompt stopped part way keeps the
    /// batches it had evaluated, with or without a progress callback.
    @Test func interruptedPromptKeepsTheEvaluatedBatches() throws {
        let model = try Model.load(path: SharedData.golden("m1-b158-relu2-i2_s.gguf"))
        var options = ContextOptions()
        options.contextLength = 128
        options.batchSize = 8
        options.threads = 1
        let context = try Context(model: model, options: options)
        let prompt = (0..<40).map { Int32(($0 * 37) % 500) }
        var checks = 0
        #expect(throws: BitNetError.self) {
            try context.exclusive { () throws(BitNetError) in
                _ = try context.ingest(prompt: prompt, isCancelled: { checks += 1; return checks > 2 })
            }
        }
        #expect(context.tokens == Array(prompt[..<16]))
        let reused = try context.exclusive { () throws(BitNetError) in try context.ingest(prompt: prompt) }
        #expect(reused == 16)
    }

    @Test func endOfTextStopsWithoutEnteringTheContext() throws {
        let context = try Self.context()
        let tokenizer = try #require(context.model.tokenizer)
        let eos = try #require(tokenizer.eos)
        var params = Self.greedy(50, bias: [LogitBias(token: eos, bias: 1000)])
        params.ignoreEOS = false
        let (chunks, stats) = try Self.run(context, .text(Self.prompt), params)
        #expect(chunks.isEmpty && stats.generated == 0)
        #expect(stats.stopReason == .endOfText && stats.stopToken == eos)
        #expect(context.count == stats.promptTokens)
    }

    // MARK: - Pull streams

    @Test func streamProducerStaysWithinCapacityPlusOne() throws {
        let context = try Self.context(length: 512)
        let tokenizer = try #require(context.model.tokenizer)
        let params = Self.greedy(30, bias: Self.nonASCIIBans(tokenizer))
        let whole = Self.text(try Self.run(context, .text(Self.prompt), params).chunks)
        let generator = try Generator(context: context, prompt: .text(Self.prompt), params: params)
        let stream = try GenerationStream(generator: generator, capacity: 1)
        #expect(throws: BitNetError.self) { try context.exclusive { () throws(BitNetError) in } }  // held
        var text: [UInt8] = []
        while let chunk = try stream.next(timeoutMilliseconds: -1) {
            usleep(3000)
            text += chunk.text
        }
        #expect(text == whole)
        #expect(stream.maxTokensAhead >= 1 && stream.maxTokensAhead <= 2)
        stream.join()
        try context.exclusive { () throws(BitNetError) in }  // released
    }

    @Test func streamCancelWhileTheProducerIsBlockedIsPrompt() throws {
        let context = try Self.context(length: 512)
        let generator = try Generator(context: context, prompt: .text(Self.prompt), params: Self.greedy(0))
        let stream = try GenerationStream(generator: generator, capacity: 1)
        _ = try stream.next(timeoutMilliseconds: -1)
        usleep(100_000)  // the queue is full again: the producer waits
        let clock = ContinuousClock()
        let start = clock.now
        stream.cancel()
        stream.join()
        #expect(clock.now - start < .milliseconds(500))
        #expect(throws: BitNetError.self) { try stream.next(timeoutMilliseconds: 0) }
        #expect(stream.stats.stopReason == .cancelled)
    }
}
