/// JSON written the way Python's `json.dumps(value, ensure_ascii=False)`
/// writes it (`", "` and `": "` separators; with an indent, one member per
/// line), because the published chat templates render tools and arguments
/// through Jinja's `tojson`, which is that function: the model saw exactly
/// this spelling in training.
enum PythonStyleJSON {
    static func write(_ value: JSONValue, indent: Int? = nil) -> String {
        var out = ""
        write(value, indent: indent, level: 0, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: Int?, level: Int, into out: inout String) {
        switch value {
        case .null, .bool, .number: out += value.serialized
        case .string(let text): out += quoted(text)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                out += separator(first: index == 0, indent: indent, level: level + 1)
                write(item, indent: indent, level: level + 1, into: &out)
            }
            out += closing(indent: indent, level: level) + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (index, member) in members.enumerated() {
                out += separator(first: index == 0, indent: indent, level: level + 1)
                out += quoted(member.key) + ": "
                write(member.value, indent: indent, level: level + 1, into: &out)
            }
            out += closing(indent: indent, level: level) + "}"
        }
    }

    private static func separator(first: Bool, indent: Int?, level: Int) -> String {
        guard let indent else { return first ? "" : ", " }
        return (first ? "" : ",") + "\n" + String(repeating: " ", count: indent * level)
    }

    private static func closing(indent: Int?, level: Int) -> String {
        guard let indent else { return "" }
        return "\n" + String(repeating: " ", count: indent * level)
    }

    /// Python escapes \b and \f by name and other C0 controls as \u00XX; DEL and
    /// everything above stay as they are (ensure_ascii=False).
    static func quoted(_ text: String) -> String {
        doubleQuoted(text) { c in
            switch c {
            case 0x08: return "\\b"
            case 0x0C: return "\\f"
            case 0x7F: return nil
            default: return "\\u00" + (c < 0x10 ? "0" : "") + String(c, radix: 16)
            }
        }
    }
}
