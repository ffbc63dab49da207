extension Context {
    /// Generates text from `prompt` and streams it as it is produced.
    ///
    /// The generation starts when iteration starts and runs on a thread of
    /// its own into a queue of at most `bufferCapacity` chunks: a consumer
    /// that is slower than the model pauses the generation instead of
    /// letting text pile up. Cancelling the iterating task (or breaking out
    /// of the loop and dropping the stream) cancels the generation; the
    /// context keeps the tokens evaluated so far. Like every
    /// `AsyncThrowingStream`, a stream whose task is cancelled simply ends.
    ///
    /// ```swift
    /// for try await chunk in context.stream(.text("In the beginning")) {
    ///     print(chunk.string, terminator: "")
    /// }
    /// ```
    ///
    /// The stream throws ``BitNetError`` only: ``Status/busy`` when another
    /// generation holds this context, ``Status/contextFull``, ``Status/invalidArgument`` for bad
    /// parameters. One consumer per stream.
    public func stream(_ prompt: GenerationPrompt, params: GenerationParams = GenerationParams(),
                       bufferCapacity: Int = 4) -> AsyncThrowingStream<GenerationChunk, any Error> {
        let bridge = GenerationBridge(context: self, prompt: prompt, params: params, capacity: max(1, bufferCapacity))
        return AsyncThrowingStream(unfolding: { try await bridge.next() })
    }

    /// Streams the assistant's answer to a conversation, rendered with
    /// `template` (by default the model's, see ``Model/chatTemplate``).
    ///
    /// - Throws: ``BitNetError`` with ``Status/unsupported`` when neither
    ///   `template` nor the model names a chat format.
    public func stream(chat messages: [ChatMessage], template: ChatTemplate? = nil,
                       params: GenerationParams = GenerationParams(),
                       bufferCapacity: Int = 4) throws(BitNetError) -> AsyncThrowingStream<GenerationChunk, any Error> {
        let (prompt, params) = try chatPrompt(messages, template: template, params: params)
        return stream(prompt, params: params, bufferCapacity: bufferCapacity)
    }

    /// Generates the whole answer to `prompt` and returns it with its counters.
    /// Cancelling the awaiting task cancels the generation.
    public func generate(_ prompt: GenerationPrompt,
                         params: GenerationParams = GenerationParams()) async throws(BitNetError) -> GenerationResult {
        let bridge = GenerationBridge(context: self, prompt: prompt, params: params, capacity: 4)
        var text: [UInt8] = []
        var tokens: [Int32] = []
        while let chunk = try await bridge.next() {
            text += chunk.text
            tokens += chunk.tokens
        }
        return GenerationResult(text: String(decoding: text, as: UTF8.self), tokens: tokens, stats: bridge.stats)
    }

    /// Generates the assistant's whole answer to a conversation (see ``stream(chat:template:params:bufferCapacity:)``).
    public func generate(chat messages: [ChatMessage], template: ChatTemplate? = nil,
                         params: GenerationParams = GenerationParams()) async throws(BitNetError) -> GenerationResult {
        let (prompt, params) = try chatPrompt(messages, template: template, params: params)
        return try await generate(prompt, params: params)
    }

    /// The conversation as a prompt: the template's text, tokenized with its
    /// control tokens (`parseSpecial`) and without a second BOS.
    private func chatPrompt(_ messages: [ChatMessage], template: ChatTemplate?,
                            params: GenerationParams) throws(BitNetError) -> (GenerationPrompt, GenerationParams) {
        guard let template = template ?? model.chatTemplate else {
            throw .unsupported("the model names no chat template; pass one (e.g. .chatml) or use a text prompt")
        }
        var params = params
        params.parseSpecial = true
        params.addBOS = false
        return (.text(template.apply(messages, addAssistant: true)), params)
    }
}

/// The outcome of ``Context/generate(_:params:)``.
public struct GenerationResult: Sendable, Hashable {
    /// The generated text (stop sequences excluded).
    public var text: String
    /// The generated token ids.
    public var tokens: [Int32]
    /// Why it stopped, token counts and timings.
    public var stats: GenerationStats
}

extension GenerationChunk {
    /// The chunk's text as a `String` (chunks always hold whole UTF-8 characters).
    public var string: String { String(decoding: text, as: UTF8.self) }
}
