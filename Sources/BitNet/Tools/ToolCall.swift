/// A call the model made: which tool, with what arguments.
public struct ToolCall: Sendable, Equatable {
    /// `call_` and 24 hex digits derived from the generated text and the
    /// call's position, so the same output always gets the same ids.
    public var id: String
    public var name: String
    /// The arguments object as compact JSON text (OpenAI's `function.arguments`).
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A generated reply split into its text and its tool calls.
public struct ToolCallOutput: Sendable, Equatable {
    /// The text that is not a call (the whole reply when there are no calls).
    public var content: String
    public var calls: [ToolCall]
}

extension ToolCall {
    /// A stable id for call `index` of `text`.
    static func id(for text: String, index: Int) -> String {
        var high = Hash64(), low = Hash64()
        high.combine(text)
        high.combine(index)
        low.combine(index)
        low.combine(text)
        low.combine(0x7463)
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
        }
        return "call_" + hex(high.value, 16) + hex(low.value >> 32, 8)
    }
}
