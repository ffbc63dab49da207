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
    /// With `tools`: the chat family whose call format the reply follows (the
    /// reply is then parsed into `tool_calls`); nil without tools.
    var toolTemplate: ChatTemplate?

    /// Field names and ranges follow OpenAI's API reference. Sampling
    /// defaults are OpenAI's too (temperature 1, top_p 1, no top-k), not the
    /// CLI's presets: clients expect them.
    init(endpoint: Endpoint, body: JSON, chatFormat: ChatFormat, vocabularySize: Int) throws(APIError) {
        let fields = try RequestFields(body)
        self.endpoint = endpoint
        var grammar: Grammar?
        // One model is served whatever is named, but a name must be a string (as the OpenAPI description says).
        _ = try fields.string("model")
        switch endpoint {
        case .completions:
            prompt = try Self.completionPrompt(fields)
            parseSpecial = false
        case .chat:
            let messages = try Self.messages(fields)
            let tools = try Self.tools(fields, chatFormat: chatFormat)
            if let tools, case .template(let template) = chatFormat {
                do throws(BitNetError) {
                    prompt = try template.apply(messages, tools: tools.set, addAssistant: true)
                } catch {
                    throw .invalid(error.message, param: "messages")
                }
                toolTemplate = tools.choice == .none ? nil : template
                grammar = tools.grammar
            } else {
                prompt = try chatFormat.renderChecked(messages)
            }
            parseSpecial = chatFormat.usesControlTokens
        }
        if let format = try Self.responseFormat(fields) {
            guard grammar == nil else {
                throw .invalid("response_format and tools cannot be combined", param: "response_format")
            }
            grammar = format
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
                                  addBOS: true, parseSpecial: parseSpecial, grammar: grammar)
    }

    /// `tools` and `tool_choice` (chat only): the tools, and the grammar that
    /// keeps the reply to text or valid calls; nil without tools.
    private static func tools(_ fields: RequestFields, chatFormat: ChatFormat)
        throws(APIError) -> (set: ToolSet, choice: ToolChoice, grammar: Grammar)? {
        guard let value = fields["tools"] else {
            if fields["tool_choice"] != nil { throw .invalid("tool_choice needs tools", param: "tool_choice") }
            return nil
        }
        guard case .template(let template) = chatFormat else {
            throw .invalid("this model has no chat template, so it has no tool-call format", param: "tools")
        }
        let tools: ToolSet
        do throws(BitNetError) {
            tools = try ToolSet(json: String(decoding: value.bytes, as: UTF8.self))
        } catch {
            throw .invalid(error.message, param: "tools")
        }
        var choice = ToolChoice.auto
        if let given = fields["tool_choice"] {
            do throws(BitNetError) {
                switch given {
                case .string(let word) where ["auto", "required", "none"].contains(word): choice = try ToolChoice(word)
                case .object: choice = try ToolChoice(String(decoding: given.bytes, as: UTF8.self))
                default: throw BitNetError(.invalidArgument, "tool_choice must be \"auto\", \"required\", \"none\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
                }
                try choice.validate(against: tools)
            } catch {
                throw .invalid(error.message, param: "tool_choice")
            }
        }
        do throws(BitNetError) {
            return (tools, choice, try template.toolGrammar(tools, choice: choice))
        } catch {
            throw .invalid(error.message, param: "tools")
        }
    }

    /// `response_format`: `{"type": "text"}`, `{"type": "json_object"}` (any
    /// JSON object) or `{"type": "json_schema", "json_schema": {"schema": ...}}`.
    private static func responseFormat(_ fields: RequestFields) throws(APIError) -> Grammar? {
        guard let value = fields["response_format"] else { return nil }
        let format = try RequestFields(value)
        // The fields OpenAI defines, typed as it defines them (whatever the type).
        if let wrapper = format["json_schema"] {
            let inner = try RequestFields(wrapper)
            _ = try inner.string("name")
            _ = try inner.bool("strict")
            if let schema = inner["schema"], case .object = schema {} else if inner["schema"] != nil {
                throw .invalid("response_format.json_schema.schema must be an object", param: "response_format")
            }
        }
        let schemaText: String
        switch try format.string("type") {
        case "text"?:
            return nil
        case "json_object"?:
            schemaText = #"{"type": "object", "additionalProperties": true}"#
        case "json_schema"?:
            guard let wrapper = format["json_schema"], case .object = wrapper,
                  case .object(let members)? = format["json_schema"], case .object? = members["schema"] else {
                throw .invalid("response_format.json_schema.schema (an object) is required", param: "response_format")
            }
            schemaText = String(decoding: members["schema"]!.bytes, as: UTF8.self)
        default:
            throw .invalid("response_format.type must be text, json_object or json_schema", param: "response_format")
        }
        do throws(BitNetError) {
            return try Grammar(jsonSchema: schemaText)
        } catch {
            throw .invalid("response_format: \(error.message)", param: "response_format")
        }
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
                  ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                throw .invalid("\(param).role must be one of system, developer, user, assistant, tool", param: "\(param).role")
            }
            if let id = message["tool_call_id"], case .string = id {} else if message["tool_call_id"] != nil {
                throw .invalid("\(param).tool_call_id must be a string", param: "\(param).tool_call_id")
            }
            let calls = try toolCalls(message["tool_calls"], param: "\(param).tool_calls")
            // An assistant turn that only calls has no content (null or absent).
            let text = calls.isEmpty || message["content"] != nil ? try content(message["content"], param: "\(param).content") : ""
            messages.append(ChatMessage(role: role == "developer" ? "system" : role, content: text, toolCalls: calls))
        }
        return messages
    }

    /// An assistant turn's earlier calls: `[{"id", "type": "function", "function": {"name", "arguments": JSON text}}]`.
    private static func toolCalls(_ value: JSON?, param: String) throws(APIError) -> [ToolCall] {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw .invalid("\(param) must be an array", param: param) }
        var calls: [ToolCall] = []
        for (index, item) in items.enumerated() {
            let at = "\(param)[\(index)]"
            // OpenAI's shape exactly: id, type "function", function.name and function.arguments (JSON text).
            guard case .object(let call) = item, case .string(let id)? = call["id"], call["type"] == .string("function"),
                  case .object(let function)? = call["function"], case .string(let name)? = function["name"],
                  case .string(let arguments)? = function["arguments"] else {
                throw .invalid("\(at) must be {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}", param: at)
            }
            calls.append(ToolCall(id: id, name: name, arguments: arguments))
        }
        return calls
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

    /// `render`, refusing calls and tool results that only a template can write.
    func renderChecked(_ messages: [ChatMessage]) throws(APIError) -> String {
        if case .template(let template) = self {
            do throws(BitNetError) {
                return try template.apply(messages, tools: nil, addAssistant: true)
            } catch {
                throw .invalid(error.message, param: "messages")
            }
        }
        if messages.contains(where: { !$0.toolCalls.isEmpty || $0.role == "tool" }) {
            throw .invalid("this model has no chat template, so it has no tool-call format", param: "messages")
        }
        return render(messages)
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
