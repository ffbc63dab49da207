/// A parsed JSON document (the core links no Foundation, so it has its own
/// small parser). Objects keep their members in document order; a repeated
/// key keeps its first position and its last value, as Python's `json` does.
/// Numbers keep their source text next to their value.
indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var objectMembers: [JSONMember]? {
        if case .object(let members) = self { return members }
        return nil
    }

    var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var numberValue: JSONNumber? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// Equality as JSON Schema means it: numbers by value (1 == 1.0), objects
    /// regardless of member order.
    func isEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a.value == b.value
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEqual(to: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { member in
                b.first { $0.key == member.key }.map { $0.value.isEqual(to: member.value) } ?? false
            }
        default: return false
        }
    }

    /// Compact JSON text: strings escaped minimally, numbers as written.
    var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let number): return number.text
        case .string(let text): return JSONValue.quoted(text)
        case .array(let items): return "[" + items.map(\.serialized).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { JSONValue.quoted($0.key) + ":" + $0.value.serialized }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (other control characters as \u00XX).
    static func quoted(_ text: String) -> String {
        doubleQuoted(text) { c in c < 0x20 ? "\\u00" + (c < 0x10 ? "0" : "") + String(c, radix: 16) : nil }
    }
}

struct JSONMember: Sendable {
    var key: String
    var value: JSONValue
}

struct JSONNumber: Sendable {
    /// As written in the document.
    var text: String
    var value: Double
    /// No fraction or exponent in the text.
    var isIntegerLiteral: Bool
}

/// Strict JSON (RFC 8259) with errors at line:column and a nesting limit.
struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    /// Prefix of error messages ("json_schema").
    private let label: String

    static func parse(_ text: String, label: String = "json") throws(BitNetError) -> JSONValue {
        guard text.utf8.count <= GrammarLimits.maxSchemaBytes else {
            throw .invalidArgument("\(label): \(text.utf8.count) bytes is more than the limit of \(GrammarLimits.maxSchemaBytes)")
        }
        var parser = JSONParser(bytes: Array(text.utf8), label: label)
        parser.skipSpace()
        let value = try parser.parseValue()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], label: String) {
        self.bytes = bytes
        self.label = label
    }

    private func error(_ message: String, at offset: Int? = nil) -> BitNetError {
        let end = min(offset ?? index, bytes.count)
        var line = 1, column = 1
        for byte in bytes[..<end] where byte & 0xC0 != 0x80 {  // count code points, not bytes
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return .invalidArgument("\(label) \(line):\(column): \(message)")
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
    }

    private mutating func expect(_ literal: String, _ value: JSONValue) throws(BitNetError) -> JSONValue {
        let word = Array(literal.utf8)
        guard index + word.count <= bytes.count, Array(bytes[index..<index + word.count]) == word else {
            throw error("invalid literal (expected \(literal))")
        }
        index += word.count
        return value
    }

    private mutating func parseValue() throws(BitNetError) -> JSONValue {
        guard let c = current else { throw error("unexpected end of JSON") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    private mutating func enter() throws(BitNetError) {
        depth += 1
        guard depth <= GrammarLimits.maxNesting else { throw error("nested deeper than \(GrammarLimits.maxNesting)") }
    }

    private mutating func parseObject() throws(BitNetError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [JSONMember] = []
        var positions: [String: Int] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after the key") }
            index += 1
            skipSpace()
            let value = try parseValue()
            if let existing = positions[key] {
                members[existing].value = value
            } else {
                positions[key] = members.count
                members.append(JSONMember(key: key, value: value))
            }
            skipSpace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            if current == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray() throws(BitNetError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            if current == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func parseHex4() throws(BitNetError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let digit = GBNFParser.hexValue(Unicode.Scalar(c)) else {
                throw error("expected 4 hex digits after \\u")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private mutating func parseString() throws(BitNetError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ end: Int) {
            if end > runStart { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard let c = current else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") {
                flush(index)
                index += 1
                return String(scalars)
            }
            if c < 0x20 { throw error("control character in a string (escape it)") }
            if c == UInt8(ascii: "\\") {
                flush(index)
                let escapeStart = index
                index += 1
                guard let e = current else { throw error("unterminated escape") }
                index += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var value = try parseHex4()
                    if (0xD800...0xDBFF).contains(value) {
                        guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("lone surrogate in \\u escape", at: escapeStart)
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate in \\u escape", at: escapeStart) }
                        value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(value) {
                        throw error("lone surrogate in \\u escape", at: escapeStart)
                    }
                    scalars.append(Unicode.Scalar(value)!)
                default:
                    throw error("invalid escape", at: escapeStart)
                }
                runStart = index
                continue
            }
            index += 1
        }
    }

    private mutating func parseNumber() throws(BitNetError) -> JSONNumber {
        let start = index
        func digits() -> Int {
            let from = index
            while let c = current, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { index += 1 }
            return index - from
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw error("invalid number") }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            index += 1
            isInteger = false
            guard digits() > 0 else { throw error("expected digits after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            isInteger = false
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("number out of range", at: start) }
        return JSONNumber(text: text, value: value, isIntegerLiteral: isInteger)
    }
}

/// `text` in double quotes with `"`, `\`, newline, carriage return and tab
/// escaped as JSON and GBNF both write them; `control` writes any other
/// character below U+0020 or U+007F (nil: as it is).
func doubleQuoted(_ text: String, control: (UInt32) -> String?) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F, let escaped = control(scalar.value) {
                out += escaped
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
