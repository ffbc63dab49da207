/// Splits a generated reply into text and tool calls, the family's way.
///
/// Lenient where the grammar is strict (any JSON spacing, "arguments" or
/// "parameters"), so hand-written or unconstrained replies parse too; but
/// all or nothing: a reply whose call part does not parse as calls is
/// returned whole as text, never half-parsed.
enum ToolCallParser {
    /// Replies longer than this are text (the JSON parser's own limit applies to each call too).
    static let maxReplyBytes = 4 << 20

    static func parse(_ text: String, style: ToolCallStyle) -> ToolCallOutput {
        let plain = ToolCallOutput(content: text, calls: [])
        guard text.utf8.count <= maxReplyBytes else { return plain }
        switch style {
        case .llamaJSON:
            var body = Substring(trimmingWhitespace(text))
            // Llama 3.1 may open a call with <|python_tag|> (when it is rendered as text).
            if body.hasPrefix("<|python_tag|>") { body = Substring(trimmingWhitespace(String(body.dropFirst("<|python_tag|>".count)))) }
            guard body.first == "{", let call = call(String(body), of: text, index: 0) else { return plain }
            return ToolCallOutput(content: "", calls: [call])
        case .taggedJSON:
            let open = "<tool_call>", close = "</tool_call>"
            guard let first = text.firstRange(of: open) else { return plain }
            var calls: [ToolCall] = []
            var rest = text[first.lowerBound...]
            while !rest.isEmpty {
                guard rest.hasPrefix(open), let end = rest.firstRange(of: close) else { return plain }
                let inner = String(rest[rest.index(rest.startIndex, offsetBy: open.count)..<end.lowerBound])
                guard let call = call(trimmingWhitespace(inner), of: text, index: calls.count) else { return plain }
                calls.append(call)
                rest = Substring(trimmingWhitespace(String(rest[end.upperBound...])))
            }
            return ToolCallOutput(content: trimmingWhitespace(String(text[..<first.lowerBound])), calls: calls)
        }
    }

    /// `{"name": "...", "arguments"|"parameters": {...}}` as a call, or nil.
    private static func call(_ json: String, of text: String, index: Int) -> ToolCall? {
        guard let value = try? JSONParser.parse(json, label: "tool call"), value.objectMembers != nil,
              let name = value["name"]?.stringValue, ToolSet.isValidName(name) else { return nil }
        let arguments = value["arguments"] ?? value["parameters"] ?? .object([])
        guard arguments.objectMembers != nil else { return nil }
        return ToolCall(id: ToolCall.id(for: text, index: index), name: name, arguments: arguments.serialized)
    }

    private static func trimmingWhitespace(_ text: String) -> String { ChatTemplate.trimmed(text) }
}

extension ChatTemplate {
    /// The tool calls in a reply generated with this family's tool prompt
    /// (and the text around them); no calls when the reply is plain text.
    public func parseToolCalls(_ reply: String) -> ToolCallOutput {
        ToolCallParser.parse(reply, style: toolCallStyle)
    }
}
