extension ChatMessage {
    /// Most messages in one conversation given as JSON.
    public static let maxMessages = 1 << 16

    /// A conversation in OpenAI's `messages` shape: `[{"role", "content"?,
    /// "tool_calls"?: [{"id"?, "type"?: "function", "function": {"name",
    /// "arguments": JSON text or object}}]}, ...]`; `content` may be null or
    /// absent (an assistant turn that only calls). Errors are
    /// BITNET_E_INVALID_ARGUMENT with "messages POINTER: what is wrong".
    public static func list(fromJSON text: String) throws(BitNetError) -> [ChatMessage] {
        func error(_ pointer: String, _ message: String) -> BitNetError { .invalidArgument("messages \(pointer): \(message)") }
        let document = try JSONParser.parse(text, label: "messages")
        guard let items = document.arrayItems else { throw error("/", "must be an array of messages") }
        guard items.count <= maxMessages else { throw error("/", "\(items.count) messages is more than the limit of \(maxMessages)") }
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            let pointer = "/\(index)"
            guard item.objectMembers != nil else { throw error(pointer, "must be an object") }
            guard let role = item["role"]?.stringValue else { throw error(pointer + "/role", "must be a string") }
            var content = ""
            switch item["content"] {
            case nil, .null?: break
            case .string(let text)?: content = text
            default: throw error(pointer + "/content", "must be a string or null")
            }
            var calls: [ToolCall] = []
            if let list = item["tool_calls"], !(list.arrayItems?.isEmpty ?? false) {
                guard let entries = list.arrayItems else { throw error(pointer + "/tool_calls", "must be an array") }
                for (number, entry) in entries.enumerated() {
                    let at = pointer + "/tool_calls/\(number)"
                    guard let function = entry["function"], function.objectMembers != nil else {
                        throw error(at + "/function", "must be an object")
                    }
                    guard let name = function["name"]?.stringValue, ToolSet.isValidName(name) else {
                        throw error(at + "/function/name", "must be a tool name (1 to 64 of A-Z a-z 0-9 _ -)")
                    }
                    let arguments: String
                    switch function["arguments"] {
                    case .string(let json)?:
                        guard let parsed = try? JSONParser.parse(json, label: "arguments"), parsed.objectMembers != nil else {
                            throw error(at + "/function/arguments", "must be the JSON text of an object")
                        }
                        arguments = parsed.serialized
                    case let value? where value.objectMembers != nil:
                        arguments = value.serialized
                    case nil:
                        arguments = "{}"
                    default:
                        throw error(at + "/function/arguments", "must be an object or its JSON text")
                    }
                    var id = ToolCall.id(for: text, index: index << 16 | number)
                    if let given = entry["id"] {
                        guard let value = given.stringValue else { throw error(at + "/id", "must be a string") }
                        id = value
                    }
                    calls.append(ToolCall(id: id, name: name, arguments: arguments))
                }
            }
            messages.append(ChatMessage(role: role, content: content, toolCalls: calls))
        }
        return messages
    }
}
