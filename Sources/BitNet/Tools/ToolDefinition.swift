/// One function the model may call, from OpenAI's `tools` shape:
/// `{"type": "function", "function": {"name", "description"?, "parameters"?}}`.
public struct ToolDefinition: Sendable {
    /// `^[A-Za-z0-9_-]{1,64}$`, as OpenAI requires: such a name needs no
    /// escaping in JSON or GBNF, so the prompt and the grammar spell it alike.
    public let name: String
    public let description: String?
    /// The JSON Schema of the arguments object (`{"type": "object"}` when absent).
    let parameters: JSONValue
    /// The whole entry as the caller wrote it: templates render it verbatim.
    let entry: JSONValue
    /// Where the entry sits in the caller's JSON ("/0"), for error messages.
    let pointer: String

    /// The parameters schema as compact JSON text.
    public var parametersJSON: String { parameters.serialized }
}

/// The tools of one request, parsed and checked: every entry well formed,
/// names unique, each parameters schema compilable into a grammar.
public struct ToolSet: Sendable {
    public let tools: [ToolDefinition]

    /// Most tools in one request (each becomes a grammar alternative and prompt text).
    public static let maxTools = 512

    /// Parses `tools` JSON text (an array). Errors are BITNET_E_INVALID_ARGUMENT
    /// with "tools POINTER: what is wrong".
    public init(json: String) throws(BitNetError) {
        try self.init(document: try JSONParser.parse(json, label: "tools"))
    }

    init(document: JSONValue) throws(BitNetError) {
        guard let items = document.arrayItems else { throw Self.error("", "must be an array of tools") }
        guard items.count <= Self.maxTools else { throw Self.error("", "\(items.count) tools is more than the limit of \(Self.maxTools)") }
        var tools: [ToolDefinition] = []
        for (index, item) in items.enumerated() {
            let pointer = "/\(index)"
            guard item.objectMembers != nil else { throw Self.error(pointer, "must be an object") }
            guard item["type"]?.stringValue == "function" else { throw Self.error(pointer + "/type", "must be \"function\"") }
            guard let function = item["function"], function.objectMembers != nil else {
                throw Self.error(pointer + "/function", "must be an object")
            }
            guard let name = function["name"]?.stringValue else { throw Self.error(pointer + "/function/name", "must be a string") }
            guard Self.isValidName(name) else {
                throw Self.error(pointer + "/function/name", "must be 1 to 64 of A-Z a-z 0-9 _ -")
            }
            guard !tools.contains(where: { $0.name == name }) else {
                throw Self.error(pointer + "/function/name", "\"\(name)\" is defined twice")
            }
            var description: String?
            if let value = function["description"] {
                guard let text = value.stringValue else { throw Self.error(pointer + "/function/description", "must be a string") }
                description = text
            }
            let parameters = function["parameters"] ?? .object([JSONMember(key: "type", value: .string("object"))])
            guard parameters.objectMembers != nil else {
                throw Self.error(pointer + "/function/parameters", "must be a JSON Schema object")
            }
            tools.append(ToolDefinition(name: name, description: description, parameters: parameters, entry: item,
                                        pointer: pointer))
        }
        self.tools = tools
        // Compiled once here so a bad schema fails before a prompt is rendered.
        _ = try ToolCallGrammar.argumentRules(for: self)
    }

    public var isEmpty: Bool { tools.isEmpty }

    public func tool(named name: String) -> ToolDefinition? { tools.first { $0.name == name } }

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return (1...64).contains(bytes.count) && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): return true
            default: return false
            }
        }
    }

    static func error(_ pointer: String, _ message: String) -> BitNetError {
        .invalidArgument("tools \(pointer.isEmpty ? "/" : pointer): \(message)")
    }
}

/// OpenAI's `tool_choice`: may the model answer in text, must it call, and what.
public enum ToolChoice: Sendable, Equatable {
    /// Text or a call of any tool (the default).
    case auto
    /// A call of some tool.
    case required
    /// Text only.
    case none
    /// A call of this tool.
    case function(String)

    /// `"auto"`, `"required"`, `"none"`, a tool name, or the JSON text
    /// `{"type": "function", "function": {"name": NAME}}` (also `"\"auto\""`).
    public init(_ text: String) throws(BitNetError) {
        switch text {
        case "auto": self = .auto
        case "required": self = .required
        case "none": self = .none
        default:
            if ToolSet.isValidName(text) {
                self = .function(text)
                return
            }
            let value = try JSONParser.parse(text, label: "tool_choice")
            if let word = value.stringValue, ["auto", "required", "none"].contains(word) {
                try self.init(word)
                return
            }
            guard value.objectMembers != nil, value["type"]?.stringValue == "function" else {
                throw .invalidArgument("tool_choice /type: must be \"function\" (or give \"auto\", \"required\" or \"none\")")
            }
            guard let name = value["function"]?["name"]?.stringValue, ToolSet.isValidName(name) else {
                throw .invalidArgument("tool_choice /function/name: must be the name of a tool")
            }
            self = .function(name)
        }
    }

    /// Checks that a named tool exists, and that a call is possible at all.
    public func validate(against tools: ToolSet) throws(BitNetError) {
        if self != .none && self != .auto && tools.isEmpty {
            throw .invalidArgument("tool_choice: a call is asked for but there are no tools")
        }
        if case .function(let name) = self, tools.tool(named: name) == nil {
            throw .invalidArgument("tool_choice /function/name: no tool is named \"\(name)\"")
        }
    }
}
