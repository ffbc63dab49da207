import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import BitNet

/// The Swift API of Sources/BitNet/Public on the trained model: async load
/// (progress, cancellation), `stream`/`generate` against the `Generator`
/// loop they wrap, task cancellation, backpressure, exclusive cache and state
/// operations.
@Suite struct PublicAPITests {
    static let modelPath = GrammarGenerationTests.modelPath

    static func context(_ model: Model) throws -> Context {
        var options = ContextOptions()
        options.contextLength = 256
        options.threads = 2
        return try Context(model: model, options: options)
    }

    @Test func asyncLoadReportsProgressFromZeroToOne() async throws {
        let seen = Locked<[Double]>([])
        var options = ModelLoadOptions()
        options.useMmap = false  // the chunked read reports in between
        let model = try await Model.load(from: Self.modelPath, options: options) { fraction in
            seen.withLock { $0.append(fraction) }
        }
        let fractions = seen.withLock { $0 }
        #expect(fractions.first == 0)
        #expect(fractions.last == 1)
        #expect(fractions.count > 2)
        #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(model.vocabularySize > 0 && model.trainingContextLength > 0)
    }

    @Test func cancellingTheTaskCancelsTheLoad() async throws {
        let task = Task { () async throws -> Model in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await Model.load(from: Self.modelPath)
        }
        guard case .failure(let error) = await task.result else {
            Issue.record("the load was not cancelled")
            return
        }
        #expect((error as? BitNetError)?.status == .cancelled)
    }

    @Test func loadErrorsAreTyped() async {
        await #expect(throws: BitNetError.self) { try await Model.load(from: "/nonexistent/model.gguf") }
        do {
            _ = try await Model.load(from: "/nonexistent/model.gguf")
        } catch {
            #expect(error.status == .io)
        }
    }

    /// `stream` and `generate` give exactly the text of the plain `Generator` loop.
    @Test func streamAndGenerateMatchTheGeneratorLoop() async throws {
        let model = try await Model.load(from: Self.modelPath)
        let params = GenerationParams(sampling: .fast, maxNewTokens: 40)
        let reference = try Self.context(model)
        let generator = try Generator(context: reference, prompt: .text("And the LORD said"), params: params)
        var expected: [UInt8] = []
        try reference.exclusive { () throws(BitNetError) in
            while let chunk = try generator.next() { expected += chunk.text }
        }

        let context = try Self.context(model)
        var streamed: [UInt8] = []
        for try await chunk in context.stream(.text("And the LORD said"), params: params) {
            #expect(!chunk.text.isEmpty)
            streamed += chunk.text
        }
        #expect(streamed == expected)

        try context.clear()
        let result = try await context.generate(.text("And the LORD said"), params: params)
        #expect(Array(result.text.utf8) == expected)
        #expect(result.stats.generated == 40 && result.stats.stopReason == .maxTokens)
        #expect(result.tokens.count == 40)
    }

    /// A consumer that stops reading holds the generation: with a buffer of
    /// 2 the context cannot get more than a few tokens ahead of what was
    /// read, where an unbounded producer would finish all 200 in that time.
    @Test func aSlowConsumerHoldsTheGenerationBack() async throws {
        let model = try await Model.load(from: Self.modelPath)
        let context = try Self.context(model)
        let params = GenerationParams(sampling: .fast, maxNewTokens: 200, ignoreEOS: true)
        let promptCount = model.tokenizer!.encode("In the beginning", addBOS: true).count
        do {
            var iterator = context.stream(.text("In the beginning"), params: params, bufferCapacity: 2)
                .makeAsyncIterator()
            _ = try await iterator.next()
            try await Task.sleep(for: .milliseconds(300))
            // While the generation holds the context, other operations are refused.
            #expect(throws: BitNetError.self) { try context.clear() }
        }
        // The stream is gone: its generation was cancelled and let go of the context.
        let held = try context.tokenIDs().count - promptCount
        #expect(held >= 1 && held <= 8, "the context ran \(held) tokens ahead")
    }

    @Test func cancellingTheTaskCancelsTheStream() async throws {
        let model = try await Model.load(from: Self.modelPath)
        let context = try Self.context(model)
        let params = GenerationParams(sampling: .fast, maxNewTokens: 0, ignoreEOS: true)
        let task = Task { () async throws -> Int in
            var chunks = 0
            for try await _ in context.stream(.text("In the beginning"), params: params) {
                chunks += 1
                if chunks == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return chunks
        }
        // AsyncThrowingStream ends iteration quietly once its task is
        // cancelled (a cancellation that reached the bridge first throws
        // BITNET_E_CANCELLED instead); uncancelled, this generation would
        // run on until the context is full.
        do {
            #expect(try await task.value == 3)
        } catch let error as BitNetError {
            #expect(error.status == .cancelled)
        }
        // The generation let go of the context and kept what it had evaluated.
        #expect(try context.tokenIDs().count < 256)
        try context.clear()
    }

    @Test func stateRoundTripsThroughBytesAndFiles() async throws {
        let model = try await Model.load(from: Self.modelPath)
        let context = try Self.context(model)
        _ = try await context.generate(.text("In the beginning"), params: GenerationParams(sampling: .fast, maxNewTokens: 5))
        let tokens = try context.tokenIDs()
        let state = try context.stateData()
        try context.clear()
        #expect(try context.tokenIDs().isEmpty)
        try context.restoreState(state)
        #expect(try context.tokenIDs() == tokens)

        let path = "/tmp/bitnet-public-api-\(UInt64.random(in: 0...UInt64.max)).state"
        try context.saveState(toFile: path)
        try context.keepTokens(2)
        #expect(try context.tokenIDs() == Array(tokens.prefix(2)))
        try context.restoreState(fromFile: path)
        #expect(try context.tokenIDs() == tokens)
        unlink(path)

        var damaged = state
        damaged[damaged.count / 2] ^= 0xFF
        #expect(throws: BitNetError.self) { try context.restoreState(damaged) }
        #expect(try context.tokenIDs() == tokens)
    }

    @Test func chatNeedsATemplateAndRendersOne() async throws {
        let model = try await Model.load(from: Self.modelPath)
        #expect(model.chatTemplate == nil)  // a text-completion model
        let context = try Self.context(model)
        let messages = [ChatMessage(role: "user", content: "Who made the heaven?")]
        do {
            _ = try context.stream(chat: messages)
            Issue.record("a chat without a template was accepted")
        } catch {
            #expect(error.status == .unsupported)
        }
        let result = try await context.generate(chat: messages, template: .chatml,
                                                params: GenerationParams(sampling: .fast, maxNewTokens: 4))
        #expect(result.stats.generated > 0)
        let rendered = model.tokenizer!.encode(ChatTemplate.chatml.apply(messages, addAssistant: true), parseSpecial: true)
        #expect(Array(try context.tokenIDs().prefix(rendered.count)) == rendered)
    }
}
