import BitNet

/// Which OpenAI endpoint a request came through: it decides the prompt's
/// shape and the response's.
enum Endpoint: Sendable {
    case completions
    case chat
}

/// A validated request to `/v1/completions` or `/v1/chat/completions`.
struct CompletionRequest: Sendable {
    var endpoint: Endpoint
    /// The text the model continues (for chat: the messages through the template).
    var prompt: String
    /// Chat templates use control tokens spelled as text; plain prompts must not.
    var parseSpecial: Bool
    var stream: Bool
    /// `stream_options.include_usage`: a last chunk with `usage`.
    var includeUsage: Bool
    var params: GenerationParams

    /// Field names and ranges follow OpenAI's API reference. Sampling
    /// defaults are OpenAI's too (temperature 1, top_p 1, no top-k), not the
    /// CLI's presets: clients expect them.
    init(endpoint: Endpoint, body: JSON, chatFormat: ChatFormat, vocabularySize: Int) throws(APIError) {
        let fields = try RequestFields(body)
        self.endpoint = endpoint
        // One model is served whatever is named, but a name must be a string (as the OpenAPI description says).
        _ = try fields.string("model")
        switch endpoint {
        case .completions:
            prompt = try Self.completionPrompt(fields)
            parseSpecial = false
        case .chat:
            let messages = try Self.messages(fields)
            prompt = chatFormat.render(messages)
            parseSpecial = chatFormat.usesControlTokens
        }
        if let n = try fields.integer("n", in: 1...128), n != 1 {
            throw .invalid("only n = 1 is supported", param: "n")
        }
        stream = try fields.bool("stream") ?? false
        includeUsage = false
        if let options = fields["stream_options"] {
            let streamOptions = try RequestFields(options)
            includeUsage = try streamOptions.bool("include_usage") ?? false
        }

        var sampling = SamplingParams(temperature: 1, topK: 0, topP: 1, repeatLastN: 0)
        if let value = try fields.number("temperature", in: 0...2) { sampling.temperature = Float(value) }
        if let value = try fields.number("top_p", in: 0...1) { sampling.topP = Float(value) }
        if let value = try fields.integer("seed", in: Int.min...Int.max) { sampling.seed = UInt64(bitPattern: Int64(value)) }
        if let value = try fields.number("presence_penalty", in: -2...2) { sampling.presencePenalty = Float(value) }
        if let value = try fields.number("frequency_penalty", in: -2...2) { sampling.frequencyPenalty = Float(value) }
        // OpenAI's penalties look at every token so far, prompt included.
        if sampling.presencePenalty != 0 || sampling.frequencyPenalty != 0 { sampling.repeatLastN = -1 }
        sampling.logitBias = try Self.logitBias(fields, vocabularySize: vocabularySize)

        // Completions default to 16 tokens (as OpenAI's); chat to "until a stop or a full context" (0).
        let maxTokensField = endpoint == .chat && fields["max_completion_tokens"] != nil ? "max_completion_tokens" : "max_tokens"
        let maxTokens = try fields.integer(maxTokensField, in: 1...1_000_000) ?? (endpoint == .completions ? 16 : 0)
        params = GenerationParams(sampling: sampling, maxNewTokens: maxTokens, stopSequences: try Self.stops(fields),
                                  addBOS: true, parseSpecial: parseSpecial)
    }

    private static func completionPrompt(_ fields: RequestFields) throws(APIError) -> String {
        guard let value = fields["prompt"] else { throw .invalid("prompt is required", param: "prompt") }
        switch value {
        case .string(let text):
            return text
        case .array(let items) where items.count == 1:
            if case .string(let text) = items[0] { return text }
        default:
            break
        }
        throw .invalid("prompt must be a string (or an array of one string)", param: "prompt")
    }

    private static func messages(_ fields: RequestFields) throws(APIError) -> [ChatMessage] {
        guard let value = fields["messages"] else { throw .invalid("messages is required", param: "messages") }
        guard case .array(let items) = value, !items.isEmpty else {
            throw .invalid("messages must be a non-empty array", param: "messages")
        }
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            let param = "messages[\(index)]"
            guard case .object = item, let message = try? RequestFields(item) else {
                throw .invalid("\(param) must be an object", param: param)
            }
            guard let role = try? message.string("role"),
                  ["system", "developer", "user", "assistant"].contains(role) else {
                throw .invalid("\(param).role must be one of system, developer, user, assistant", param: "\(param).role")
            }
            messages.append(ChatMessage(role: role == "developer" ? "system" : role,
                                        content: try content(message["content"], param: "\(param).content")))
        }
        return messages
    }

    /// A string, or an array of `{"type": "text", "text": ...}` parts.
    private static func content(_ value: JSON?, param: String) throws(APIError) -> String {
        switch value {
        case .string(let text)?:
            return text
        case .array(let parts)?:
            var text = ""
            for part in parts {
                guard case .object(let object) = part, object["type"] == .string("text"),
                      case .string(let piece)? = object["text"] else {
                    throw .invalid("\(param): only text parts are supported", param: param)
                }
                text += piece
            }
            return text
        default:
            throw .invalid("\(param) must be a string or an array of text parts", param: param)
        }
    }

    private static func stops(_ fields: RequestFields) throws(APIError) -> [String] {
        guard let value = fields["stop"] else { return [] }
        switch value {
        case .string(let text):
            return [text]
        case .array(let items) where items.count <= 4:
            var stops: [String] = []
            for item in items {
                guard case .string(let text) = item else { break }
                stops.append(text)
            }
            if stops.count == items.count { return stops }
        default:
            break
        }
        throw .invalid("stop must be a string or an array of at most 4 strings", param: "stop")
    }

    /// `{"token id": bias}` with bias in [-100, 100]; -100 bans the token (as OpenAI's does in effect).
    private static func logitBias(_ fields: RequestFields, vocabularySize: Int) throws(APIError) -> [LogitBias] {
        guard let value = fields["logit_bias"] else { return [] }
        guard case .object(let entries) = value else {
            throw .invalid("logit_bias must be an object mapping token ids to biases", param: "logit_bias")
        }
        var biases: [LogitBias] = []
        for (key, bias) in entries.sorted(by: { $0.key < $1.key }) {
            guard let token = Int32(key), token >= 0, Int(token) < vocabularySize else {
                throw .invalid("logit_bias: \(key) is not a token id of this model (0..<\(vocabularySize))", param: "logit_bias")
            }
            guard case .number(let number) = bias, (-100...100).contains(number) else {
                throw .invalid("logit_bias[\(key)] must be a number between -100 and 100", param: "logit_bias")
            }
            biases.append(LogitBias(token: token, bias: number <= -100 ? -.infinity : Float(number)))
        }
        return biases
    }
}

/// How chat messages become a prompt: the model's chat template, or, for a
/// model that has none (a plain text-completion model such as the shipped
/// bitnet-kjv-tiny), a plain transcript it can at least continue.
enum ChatFormat: Sendable {
    case template(ChatTemplate)
    case transcript

    /// The same rule as `bitnet chat`: the file's template, or the core's
    /// guess from the architecture when the vocabulary has an end-of-turn token.
    init(model: Model) {
        guard let format = model.chatTemplate else {
            self = .transcript
            return
        }
        self = .template(format)
    }

    var usesControlTokens: Bool {
        if case .template = self { return true }
        return false
    }

    func render(_ messages: [ChatMessage]) -> String {
        switch self {
        case .template(let template):
            return template.apply(messages, addAssistant: true)
        case .transcript:
            return messages.map { "\($0.role.prefix(1).uppercased() + $0.role.dropFirst()): \($0.content)\n" }.joined() + "Assistant:"
        }
    }
}
