/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// Who speaks: `system`, `user` or `assistant` (templates may capitalise it).
    public var role: String
    /// What is said.
    public var content: String
    /// Calls an assistant turn made (rendered in the template's tool-call
    /// format by `apply(_:tools:addAssistant:)`); a `tool` turn's content is the result.
    public var toolCalls: [ToolCall]
    /// A message from `role` saying `content` (an assistant turn may carry `toolCalls`).
    public init(role: String, content: String, toolCalls: [ToolCall] = []) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
    }
}

/// The chat formats we can render. GGUF files carry a Jinja template; we do
/// not run Jinja, we recognise the known ones and render them natively.
public enum ChatTemplate: String, Sendable, CaseIterable {
    /// BitNet b1.58 2B4T: `<|begin_of_text|>System: {s}<|eot_id|>User: {u}<|eot_id|>Assistant: `.
    /// Its Jinja capitalises the role, trims the content and appends
    /// `<|eot_id|>`; the generation prompt is `Assistant: `.
    case bitnet
    /// Llama 3: `<|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>`.
    case llama3
    /// ChatML (Qwen2 / Qwen3): `<|im_start|>{role}\n{content}<|im_end|>\n`, no BOS;
    /// the generation prompt is `<|im_start|>assistant\n`.
    case chatml

    /// By name ("bitnet", "llama3"; a few aliases).
    public init?(name: String) {
        switch name {
        case "bitnet", "bitnet-b1.58", "bitnet-25": self = .bitnet
        case "llama3", "llama-3": self = .llama3
        case "chatml", "qwen2", "qwen3": self = .chatml
        default: return nil
        }
    }

    /// Recognises a Jinja template by telltale substrings (heuristic).
    public init?(detecting jinja: String) {
        if jinja.contains("<|start_header_id|>") {
            self = .llama3
        } else if jinja.contains("<|im_start|>") {
            self = .chatml
        } else if jinja.contains("'Assistant: '") || (jinja.contains("capitalize") && jinja.contains("<|eot_id|>")) {
            self = .bitnet
        } else {
            return nil
        }
    }

    /// Renders the conversation. The text starts with `<|begin_of_text|>`
    /// (like the Hugging Face template; not ChatML, which has no BOS), so
    /// tokenize it with `parseSpecial`; `Tokenizer.encode(addBOS:)` does not
    /// add a second BOS.
    public func apply(_ messages: [ChatMessage], addAssistant: Bool) -> String {
        var text = self == .chatml ? "" : "<|begin_of_text|>"
        switch self {
        case .chatml:
            for message in messages {
                text += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n"
            }
            if addAssistant { text += "<|im_start|>assistant\n" }
        case .bitnet:
            for message in messages {
                text += Self.capitalized(message.role) + ": " + Self.trimmed(message.content) + "<|eot_id|>"
            }
            if addAssistant { text += "Assistant: " }
        case .llama3:
            for message in messages {
                text += "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n" + Self.trimmed(message.content) + "<|eot_id|>"
            }
            if addAssistant { text += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        }
        return text
    }

    /// Jinja's `capitalize`: first character upper case, the rest lower case.
    static func capitalized(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst().lowercased()
    }

    /// Jinja's `trim`: strips leading and trailing whitespace.
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...last])
    }
}
