/// How a chat family writes tool calls. Built in per family, as the chat
/// templates are (no Jinja): the layouts follow the published templates'
/// documented formats.
public enum ToolCallStyle: Sendable {
    /// Llama 3.1: the reply is one JSON object
    /// `{"name": NAME, "parameters": {...}}` (BitNet b1.58 2B4T, which has no
    /// tool format of its own but Llama 3's vocabulary, uses it too).
    case llamaJSON
    /// Qwen (ChatML): optional text, then one or more
    /// `<tool_call>\n{"name": NAME, "arguments": {...}}\n</tool_call>` blocks joined by "\n".
    case taggedJSON
}

extension ChatTemplate {
    public var toolCallStyle: ToolCallStyle {
        switch self {
        case .llama3, .bitnet: .llamaJSON
        case .chatml: .taggedJSON
        }
    }

    /// Renders a conversation that may involve tools: `tools` described the
    /// family's way, assistant turns with `toolCalls` in its call format, and
    /// `tool` turns (results) as it expects them. Without tools, calls or
    /// tool turns this is `apply(_:addAssistant:)`.
    ///
    /// - Llama 3.1 (`llama3`): a system turn "Environment: ipython", the
    ///   knowledge/today dates of Meta's template, the system message; the
    ///   tools (JSON, indent 4) with the calling instructions open the first
    ///   user turn; a call is `{"name": ..., "parameters": ...}`; a result is an
    ///   `ipython` turn. One call per assistant turn (as Meta's template requires).
    /// - `bitnet`: the same text in its `Role: content<|eot_id|>` layout (its
    ///   own template has no tools), results as an `Ipython:` turn.
    /// - ChatML (Qwen3): the system turn carries the system message, then the
    ///   tools inside `<tools></tools>` (one JSON line each) and the
    ///   `<tool_call>` instructions; results are `<tool_response>` blocks in a
    ///   user turn (consecutive results share it).
    public func apply(_ messages: [ChatMessage], tools: ToolSet?, addAssistant: Bool) throws(BitNetError) -> String {
        let tools = tools.flatMap { $0.isEmpty ? nil : $0 }
        guard tools != nil || messages.contains(where: { !$0.toolCalls.isEmpty || Self.isToolResult($0.role) }) else {
            return apply(messages, addAssistant: addAssistant)
        }
        switch self {
        case .chatml: return try renderChatML(messages, tools: tools, addAssistant: addAssistant)
        case .llama3, .bitnet: return try renderLlama(messages, tools: tools, addAssistant: addAssistant)
        }
    }

    static func isToolResult(_ role: String) -> Bool { role == "tool" || role == "ipython" }

    /// Arguments as the templates write them (`tojson` of the parsed object).
    static func renderedArguments(_ call: ToolCall) throws(BitNetError) -> String {
        guard ToolSet.isValidName(call.name) else {
            throw .invalidArgument("tool call \(call.id): name must be 1 to 64 of A-Z a-z 0-9 _ -")
        }
        return PythonStyleJSON.write(try JSONParser.parse(call.arguments, label: "tool call \(call.id) arguments"))
    }

    // MARK: - Llama 3.1

    private func renderLlama(_ messages: [ChatMessage], tools: ToolSet?, addAssistant: Bool) throws(BitNetError) -> String {
        func turn(_ role: String, _ content: String) -> String {
            self == .bitnet
                ? Self.capitalized(role) + ": " + content + "<|eot_id|>"
                : "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>"
        }
        var rest = messages[...]
        var system = ""
        if let first = rest.first, first.role == "system" {
            system = Self.trimmed(first.content)
            rest = rest.dropFirst()
        }
        var text = "<|begin_of_text|>"
        text += turn("system", (tools != nil ? "Environment: ipython\n" : "")
                     + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" + system)
        if let tools {
            guard let first = rest.first else {
                throw .invalidArgument("tools are described in the first user message, and there is none")
            }
            rest = rest.dropFirst()
            var intro = "Given the following functions, please respond with a JSON for a function call "
                + "with its proper arguments that best answers the given prompt.\n\n"
                + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}."
                + "Do not use variables.\n\n"
            for tool in tools.tools { intro += PythonStyleJSON.write(tool.entry, indent: 4) + "\n\n" }
            text += turn("user", intro + Self.trimmed(first.content))
        }
        for message in rest {
            if !message.toolCalls.isEmpty {
                guard message.toolCalls.count == 1 else {
                    throw .invalidArgument("the \(rawValue) tool format has one call per assistant turn, this one has \(message.toolCalls.count)")
                }
                let call = message.toolCalls[0]
                text += turn("assistant", "{\"name\": \"" + call.name + "\", \"parameters\": " + (try Self.renderedArguments(call)) + "}")
            } else if Self.isToolResult(message.role) {
                text += turn("ipython", message.content)
            } else {
                text += turn(message.role, Self.trimmed(message.content))
            }
        }
        if addAssistant {
            text += self == .bitnet ? "Assistant: " : "<|start_header_id|>assistant<|end_header_id|>\n\n"
        }
        return text
    }

    // MARK: - ChatML (Qwen)

    private func renderChatML(_ messages: [ChatMessage], tools: ToolSet?, addAssistant: Bool) throws(BitNetError) -> String {
        var text = ""
        var rest = messages[...]
        if let tools {
            text += "<|im_start|>system\n"
            if let first = rest.first, first.role == "system" {
                text += first.content + "\n\n"
                rest = rest.dropFirst()
            }
            text += "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
            for tool in tools.tools { text += "\n" + PythonStyleJSON.write(tool.entry) }
            text += "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                + "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
        }
        let list = Array(rest)
        for (index, message) in list.enumerated() {
            if Self.isToolResult(message.role) {
                if index == 0 || !Self.isToolResult(list[index - 1].role) { text += "<|im_start|>user" }
                text += "\n<tool_response>\n" + message.content + "\n</tool_response>"
                if index == list.count - 1 || !Self.isToolResult(list[index + 1].role) { text += "<|im_end|>\n" }
            } else if !message.toolCalls.isEmpty {
                text += "<|im_start|>" + message.role + "\n" + message.content
                for (number, call) in message.toolCalls.enumerated() {
                    if number > 0 || !message.content.isEmpty { text += "\n" }
                    text += "<tool_call>\n{\"name\": \"" + call.name + "\", \"arguments\": " + (try Self.renderedArguments(call))
                        + "}\n</tool_call>"
                }
                text += "<|im_end|>\n"
            } else {
                text += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n"
            }
        }
        if addAssistant { text += "<|im_start|>assistant\n" }
        return text
    }
}
