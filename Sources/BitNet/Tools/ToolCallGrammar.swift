/// The grammar that keeps a reply to tools well formed: text, or calls in the
/// family's format whose arguments are instances of the tool's parameters
/// schema (compiled by the JSON Schema compiler), as `ToolChoice` allows.
///
/// Calls are spelled exactly as the templates render them in a conversation
/// (`{"name": "NAME", "parameters": ` / `"arguments": ` then the arguments),
/// which is what the model was trained to write. Text may not begin (Llama
/// JSON) or contain (ChatML) a call's opening, so that every output the
/// grammar allows parses one way: a call is always a valid call.
enum ToolCallGrammar {
    typealias Rules = (root: String, rules: [(name: String, body: String)])

    /// Each tool's argument rules (names start with "tN-").
    static func argumentRules(for tools: ToolSet) throws(BitNetError) -> [Rules] {
        var all: [Rules] = []
        for (index, tool) in tools.tools.enumerated() {
            all.append(try JSONSchemaGrammar.embeddedRules(tool.parameters, prefix: "t\(index)-",
                                                           label: "tools \(tool.pointer)/function/parameters"))
        }
        return all
    }

    static func gbnf(style: ToolCallStyle, tools: ToolSet, choice: ToolChoice) throws(BitNetError) -> String {
        try choice.validate(against: tools)
        var lines: [String] = []
        var defined: Set<String> = []
        func add(_ name: String, _ body: String) {
            if defined.insert(name).inserted { lines.append("\(name) ::= \(body)") }
        }
        let arguments = try argumentRules(for: tools)
        var callRules: [String] = []
        for (index, tool) in tools.tools.enumerated() {
            for rule in arguments[index].rules { add(rule.name, rule.body) }
            let name = "tool-call-\(index)"
            switch style {
            case .llamaJSON:
                add(name, GBNFWriter.literal("{\"name\": \"\(tool.name)\", \"parameters\": ") + " "
                    + arguments[index].root + " " + GBNFWriter.literal("}"))
            case .taggedJSON:
                add(name, GBNFWriter.literal("<tool_call>\n{\"name\": \"\(tool.name)\", \"arguments\": ") + " "
                    + arguments[index].root + " " + GBNFWriter.literal("}\n</tool_call>"))
            }
            callRules.append(name)
        }
        var allowed = callRules
        if case .function(let name) = choice, let index = tools.tools.firstIndex(where: { $0.name == name }) {
            allowed = [callRules[index]]
        }
        if !allowed.isEmpty { add("tool-call", allowed.joined(separator: " | ")) }
        // "auto" without tools leaves only text.
        let choice = allowed.isEmpty ? ToolChoice.none : choice
        switch style {
        case .llamaJSON:
            // Text starts with neither "{" nor white space (after which a "{" would read as a call).
            add("text", "([^{ \\t\\r\\n] .*)?")
            switch choice {
            case .auto: add("root", "tool-call | text")
            case .required, .function: add("root", "tool-call")
            case .none: add("root", "text")
            }
        case .taggedJSON:
            add("text", proseWithout("<tool_call>"))
            if !allowed.isEmpty { add("tool-calls", "tool-call (\"\\n\" tool-call)*") }
            switch choice {
            case .auto: add("root", "text tool-calls?")
            case .required, .function: add("root", "tool-calls")
            case .none: add("root", "text")
            }
        }
        // root first, for readers of the generated grammar.
        let root = lines.removeLast()
        return ([root] + lines).joined(separator: "\n") + "\n"
    }

    /// Any text in which `word` (starting with a character it does not repeat)
    /// never occurs, without recursion: runs of other characters, and after
    /// each occurrence of the first character, a proper prefix of the rest of
    /// `word` followed by the end, the next first character, or a character
    /// that leaves the word.
    static func proseWithout(_ word: String) -> String {
        let scalars = Array(word.unicodeScalars)
        let opener = scalars[0]
        let others = GBNFWriter.characterClass(CodePointSet.all.subtracting(CodePointSet(opener.value)))
        var tails: [String] = []
        for length in 0..<(scalars.count - 1) {
            let next = scalars[length + 1]
            let leave = GBNFWriter.characterClass(CodePointSet.all.subtracting(CodePointSet(opener.value))
                .subtracting(CodePointSet(next.value)))
            let matched = length == 0 ? "" : GBNFWriter.literal(String(String.UnicodeScalarView(scalars[1...length]))) + " "
            tails.append("\(matched)(\(leave) \(others)*)?")
        }
        return "\(others)* (\(GBNFWriter.literal(String(opener))) (\(tails.joined(separator: " | "))))*"
    }
}

extension ChatTemplate {
    /// The grammar of a reply to `tools` under `choice`, in this family's call format.
    public func toolGrammar(_ tools: ToolSet, choice: ToolChoice) throws(BitNetError) -> Grammar {
        try Grammar(gbnf: try ToolCallGrammar.gbnf(style: toolCallStyle, tools: tools, choice: choice))
    }
}
