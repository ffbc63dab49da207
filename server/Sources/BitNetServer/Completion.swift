import BitNet
import Foundation
import Hummingbird

/// `POST /v1/completions` and `/v1/chat/completions`: validate, tokenize,
/// check the prompt fits, take a slot (or 429), then answer in one JSON
/// object or as server-sent events.
func completion(_ endpoint: Endpoint, state: ServerState, request: Request,
                arrived: ContinuousClock.Instant) async throws -> Response {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > state.maxBodyBytes {
        // Read and drop the body (up to a bound) so the client, still sending, gets to read the 413.
        var discarded = 0
        for try await part in request.body {
            discarded += part.readableBytes
            if discarded > state.maxBodyBytes * 16 { break }
        }
        throw bodyTooLarge(state.maxBodyBytes)
    }
    let body = try await request.body.collect(upTo: state.maxBodyBytes)
    let json: JSON
    do {
        json = try JSON.decode(Data(buffer: body))
    } catch {
        throw APIError.invalid("the request body is not valid JSON", param: nil)
    }
    guard let tokenizer = state.model.tokenizer else {
        throw APIError(status: .internalServerError, message: "the model has no tokenizer", type: "server_error",
                       param: nil, code: nil)
    }
    let parsed = try CompletionRequest(endpoint: endpoint, body: json, chatFormat: state.chatFormat,
                                       vocabularySize: state.model.vocabularySize)
    let prompt = tokenizer.encode(parsed.prompt, addBOS: parsed.params.addBOS, parseSpecial: parsed.parseSpecial)
    guard !prompt.isEmpty else { throw APIError.invalid("the prompt has no tokens", param: "prompt") }
    // One position must stay free for the first generated token.
    guard prompt.count < state.contextLength else {
        throw APIError.invalid("the prompt has \(prompt.count) tokens and the context holds \(state.contextLength) "
                               + "(start the server with a larger --ctx or shorten the prompt)",
                               param: endpoint == .chat ? "messages" : "prompt", code: "context_length_exceeded")
    }
    let lease = SlotLease(try await state.pool.acquire(), pool: state.pool)
    let reply = Reply(endpoint: endpoint, model: state.modelID)
    if parsed.stream {
        return streamingResponse(parsed, prompt: prompt, lease: lease, reply: reply, state: state, arrived: arrived)
    }
    var text = ""
    let stats: GenerationStats
    do {
        stats = try await runGeneration(parsed, prompt: prompt, lease: lease, pool: state.pool, metrics: state.metrics,
                                        arrived: arrived) { text += $0 }
    } catch let error as BitNetError {
        throw generationError(error)
    }
    if let template = parsed.toolTemplate {
        let output = template.parseToolCalls(text)
        if !output.calls.isEmpty { return jsonResponse(reply.complete(content: output.content, calls: output.calls, stats: stats)) }
    }
    return jsonResponse(reply.complete(text: text, stats: stats))
}

private func streamingResponse(_ parsed: CompletionRequest, prompt: [Int32], lease: SlotLease, reply: Reply,
                               state: ServerState, arrived: ContinuousClock.Instant) -> Response {
    let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
    return Response(status: .ok, headers: headers, body: ResponseBody { writer in
        func send(_ value: JSON) async throws {
            var buffer = ByteBuffer(string: "data: ")
            buffer.writeBytes(value.bytes)
            buffer.writeString("\n\n")
            try await writer.write(buffer)
        }
        if parsed.endpoint == .chat { try await send(reply.chunk(delta: .object(["role": .string("assistant"), "content": .string("")]))) }
        do {
            var calls = parsed.toolTemplate.map(ToolCallStream.init(template:))
            let stats = try await runGeneration(parsed, prompt: prompt, lease: lease, pool: state.pool,
                                                metrics: state.metrics, arrived: arrived) { text in
                let released = calls == nil ? text : calls!.feed(text)
                if !released.isEmpty { try await send(reply.chunk(text: released)) }
            }
            var finish = finishReason(stats)
            if let end = calls?.finish() {
                if !end.text.isEmpty { try await send(reply.chunk(text: end.text)) }
                for (index, call) in end.calls.enumerated() {
                    // As OpenAI streams a call: id, type and name first, then the arguments.
                    try await send(reply.chunk(delta: .object(["tool_calls": .array([.object([
                        "index": .int(index), "id": .string(call.id), "type": .string("function"),
                        "function": .object(["name": .string(call.name), "arguments": .string("")])])])])))
                    try await send(reply.chunk(delta: .object(["tool_calls": .array([.object([
                        "index": .int(index), "function": .object(["arguments": .string(call.arguments)])])])])))
                }
                if !end.calls.isEmpty { finish = "tool_calls" }
            }
            try await send(reply.chunk(finish: finish))
            if parsed.includeUsage { try await send(reply.usageChunk(stats)) }
        } catch let error as BitNetError {
            // The status line is gone already: the error travels as an event.
            try await send(generationError(error).json)
        }
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
    })
}

private func generationError(_ error: BitNetError) -> APIError {
    if error.status == .cancelled { return SlotPool.shuttingDown }
    return APIError(status: .internalServerError, message: error.message, type: "server_error", param: nil, code: nil)
}

/// The response objects of one request, in the endpoint's shape.
struct Reply: Sendable {
    let endpoint: Endpoint
    let model: String
    let id: String
    let created = Int(Date().timeIntervalSince1970)

    init(endpoint: Endpoint, model: String) {
        self.endpoint = endpoint
        self.model = model
        let prefix = endpoint == .chat ? "chatcmpl-" : "cmpl-"
        id = prefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    private func object(_ kind: String, choices: [JSON], extra: [String: JSON] = [:]) -> JSON {
        var fields: [String: JSON] = ["id": .string(id), "object": .string(kind), "created": .int(created),
                                      "model": .string(model), "choices": .array(choices)]
        fields.merge(extra) { $1 }
        return .object(fields)
    }

    private func choice(_ content: [String: JSON], finish: String?) -> JSON {
        var fields = content
        fields["index"] = .int(0)
        fields["logprobs"] = .null
        fields["finish_reason"] = finish.map(JSON.string) ?? .null
        return .object(fields)
    }

    /// OpenAI's usage; `prompt_tokens_details.cached_tokens` counts the prompt
    /// tokens taken from the slot's context or the prefix cache instead of evaluated.
    func usage(_ stats: GenerationStats) -> JSON {
        .object(["prompt_tokens": .int(stats.promptTokens), "completion_tokens": .int(stats.generated),
                 "total_tokens": .int(stats.promptTokens + stats.generated),
                 "prompt_tokens_details": .object(["cached_tokens": .int(stats.promptTokensReused)])])
    }

    func complete(text: String, stats: GenerationStats) -> JSON {
        let content: [String: JSON] = endpoint == .chat
            ? ["message": .object(["role": .string("assistant"), "content": .string(text)])]
            : ["text": .string(text)]
        return object(endpoint == .chat ? "chat.completion" : "text_completion",
                      choices: [choice(content, finish: finishReason(stats))], extra: ["usage": usage(stats)])
    }

    /// A chat reply that calls tools: `message.tool_calls`, `finish_reason` "tool_calls".
    func complete(content: String, calls: [ToolCall], stats: GenerationStats) -> JSON {
        let toolCalls = calls.map { call -> JSON in
            .object(["id": .string(call.id), "type": .string("function"),
                     "function": .object(["name": .string(call.name), "arguments": .string(call.arguments)])])
        }
        let message: JSON = .object(["role": .string("assistant"), "content": content.isEmpty ? .null : .string(content),
                                     "tool_calls": .array(toolCalls)])
        return object("chat.completion", choices: [choice(["message": message], finish: "tool_calls")],
                      extra: ["usage": usage(stats)])
    }

    func chunk(delta: JSON) -> JSON {
        object("chat.completion.chunk", choices: [choice(["delta": delta], finish: nil)])
    }

    func chunk(text: String) -> JSON {
        endpoint == .chat ? chunk(delta: .object(["content": .string(text)]))
            : object("text_completion", choices: [choice(["text": .string(text)], finish: nil)])
    }

    func chunk(finish: String) -> JSON {
        endpoint == .chat ? object("chat.completion.chunk", choices: [choice(["delta": .object([:])], finish: finish)])
            : object("text_completion", choices: [choice(["text": .string("")], finish: finish)])
    }

    func usageChunk(_ stats: GenerationStats) -> JSON {
        object(endpoint == .chat ? "chat.completion.chunk" : "text_completion", choices: [],
               extra: ["usage": usage(stats)])
    }
}
