/// JSON Schema → GBNF: a grammar whose every string is a JSON instance of
/// the schema (a subset of the instances: no exponents, properties in
/// schema order, no undeclared properties unless `additionalProperties`
/// asks for them, whitespace as llama.cpp writes it).
///
/// Supported keywords are listed in bitnet.h; any other keyword is an error
/// naming it and its JSON pointer, never silently ignored. Local `$ref`s
/// become rules of their own, so recursive schemas give recursive grammars.
struct JSONSchemaGrammar {
    private let document: JSONValue
    private var order: [String] = []
    private var bodies: [String: String] = [:]
    private var nameOfBody: [String: String] = [:]
    private var refNames: [String: String] = [:]
    private var counter = 0
    private var depth = 0
    /// Starts every rule name this compilation makes up (see `embeddedRules`).
    private var prefix = ""
    /// Names the input in error messages.
    private var label = "json_schema"

    static func gbnf(from text: String) throws(BitNetError) -> String {
        let document = try JSONParser.parse(text, label: "json_schema")
        var compiler = JSONSchemaGrammar(document: document)
        let root = try compiler.schema(document, at: "#")
        var lines = ["root ::= " + root]
        for name in compiler.order { lines.append("\(name) ::= \(compiler.bodies[name]!)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private init(document: JSONValue) { self.document = document }

    /// A schema's rules for a larger grammar (a tool's arguments inside a
    /// tool-call grammar): the rules this schema needs get names starting
    /// with `prefix`; the fixed helpers (`ws`, `string`, ...) keep theirs, as
    /// their bodies never vary and several schemas can share them. Errors
    /// say "LABEL #/pointer: ...".
    static func embeddedRules(_ document: JSONValue, prefix: String, label: String)
        throws(BitNetError) -> (root: String, rules: [(name: String, body: String)]) {
        var compiler = JSONSchemaGrammar(document: document)
        compiler.prefix = prefix
        compiler.label = label
        let root = try compiler.schema(document, at: "#")
        return (root, compiler.order.map { ($0, compiler.bodies[$0]!) })
    }

    // MARK: - Rules

    /// A rule with this body (shared when an identical body exists).
    private mutating func define(_ hint: String, _ body: String) -> String {
        if let existing = nameOfBody[body] { return existing }
        counter += 1
        let name = "\(prefix)\(hint)-\(counter)"
        order.append(name)
        bodies[name] = body
        nameOfBody[body] = name
        return name
    }

    /// A fixed helper rule, defined once under its own name.
    private mutating func helper(_ name: String) -> String {
        if bodies[name] != nil { return name }
        order.append(name)
        bodies[name] = ""  // reserve before dependencies are defined
        let body: String
        switch name {
        case "ws": body = #"| " " | "\n" [ \t]{0,20}"#
        case "char": body = #"[^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"#
        case "string": body = "\"\\\"\" \(helper("char"))* \"\\\"\""
        case "integer": body = #""-"? ("0" | [1-9] [0-9]{0,15})"#
        case "number": body = "\(helper("integer")) (\".\" [0-9]{1,16})?"
        case "boolean": body = #""true" | "false""#
        case "null": body = #""null""#
        case "value":
            body = [helper("object"), helper("array"), helper("string"), helper("number"), helper("boolean"), helper("null")]
                .joined(separator: " | ")
        case "object":
            let ws = helper("ws"), member = "\(helper("string")) \(ws) \":\" \(ws) \(helper("value")) \(ws)"
            body = "\"{\" \(ws) (\(member) (\",\" \(ws) \(member))*)? \"}\""
        case "array":
            let ws = helper("ws"), item = "\(helper("value")) \(ws)"
            body = "\"[\" \(ws) (\(item) (\",\" \(ws) \(item))*)? \"]\""
        case "year": body = #"[0-9]{3} [1-9] | [0-9]{2} [1-9] "0" | [0-9] [1-9] "00" | [1-9] "000""#
        case "leap-year":
            body = #"[0-9]{2} ("0" [48] | [2468] [048] | [13579] [26]) | ("0" [48] | [2468] [048] | [13579] [26]) "00""#
        case "date":
            let days28 = #""0" [1-9] | "1" [0-9] | "2" [0-8]"#
            body = "\(helper("year")) \"-\" ((\"01\" | \"03\" | \"05\" | \"07\" | \"08\" | \"10\" | \"12\") \"-\" (\(days28) | \"29\" | \"30\" | \"31\")"
                + " | (\"04\" | \"06\" | \"09\" | \"11\") \"-\" (\(days28) | \"29\" | \"30\") | \"02-\" (\(days28)))"
                + " | \(helper("leap-year")) \"-02-29\""
        case "time":
            body = #"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,9})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#
        case "date-time": body = "\(helper("date")) \"T\" \(helper("time"))"
        case "uuid": body = #"[0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}"#
        case "email":
            let atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}", label = "[A-Za-z0-9] ([A-Za-z0-9-]{0,30} [A-Za-z0-9])?"
            body = "\(atom) (\".\" \(atom)){0,3} \"@\" \(label) (\".\" \(label)){1,3}"
        default: fatalError("unknown helper rule \(name)")
        }
        bodies[name] = body
        return name
    }

    // MARK: - Errors and pointers

    private func error(_ pointer: String, _ message: String) -> BitNetError {
        .invalidArgument("\(label) \(pointer): \(message)")
    }

    private static func pointer(_ base: String, _ component: String) -> String {
        base + "/" + component.replacingTildes()
    }

    // MARK: - Keywords

    private static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$comment", "$schema", "$id", "deprecated", "readOnly", "writeOnly",
        "$defs", "definitions",
    ]
    private static let handled: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems",
        "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref",
    ]
    private static let objectKeywords: Set<String> = ["properties", "required", "additionalProperties"]
    private static let arrayKeywords: Set<String> = ["items", "prefixItems", "minItems", "maxItems", "uniqueItems"]
    private static let stringKeywords: Set<String> = ["minLength", "maxLength", "pattern", "format"]
    private static let numberKeywords: Set<String> = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]
    static let formats: Set<String> = ["date", "time", "date-time", "uuid", "email"]

    private func checkKeywords(_ members: [JSONMember], at pointer: String) throws(BitNetError) {
        for member in members where !Self.annotations.contains(member.key) && !Self.handled.contains(member.key) {
            throw error(Self.pointer(pointer, member.key), "unsupported keyword \"\(member.key)\"")
        }
        if let unique = members.first(where: { $0.key == "uniqueItems" }) {
            guard case .bool(let value) = unique.value else { throw error(Self.pointer(pointer, "uniqueItems"), "must be a boolean") }
            if value { throw error(Self.pointer(pointer, "uniqueItems"), "uniqueItems: true cannot be enforced while generating") }
        }
    }

    /// A keyword's value as a non-negative integer, if present.
    private func count(_ schema: JSONValue, _ key: String, at pointer: String) throws(BitNetError) -> Int? {
        guard let value = schema[key] else { return nil }
        guard let number = value.numberValue, number.value >= 0, number.value == number.value.rounded() else {
            throw error(Self.pointer(pointer, key), "must be a non-negative integer")
        }
        guard number.value <= Double(GrammarLimits.maxRepetition) else {
            throw error(Self.pointer(pointer, key), "\(number.text) is above the limit of \(GrammarLimits.maxRepetition)")
        }
        return Int(number.value)
    }

    // MARK: - Schemas

    /// GBNF for the instances of `schema` (a rule name or a short expression).
    private mutating func schema(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        depth += 1
        defer { depth -= 1 }
        guard depth <= GrammarLimits.maxNesting else { throw error(pointer, "schemas nested deeper than \(GrammarLimits.maxNesting)") }
        switch schema {
        case .bool(true): return helper("value")
        case .bool(false): throw error(pointer, "the schema false allows no value")
        case .object(let members):
            try checkKeywords(members, at: pointer)
            if let reference = schema["$ref"] {
                let rest = members.filter { $0.key != "$ref" && !Self.annotations.contains($0.key) }
                let (target, targetPointer) = try resolve(reference, at: Self.pointer(pointer, "$ref"))
                if rest.isEmpty { return try referenceRule(target, at: targetPointer) }
                let merged = try allOf([target, .object(rest)], pointers: [targetPointer, pointer], at: pointer)
                return try self.schema(merged, at: pointer)
            }
            if let branches = schema["allOf"] {
                guard let list = branches.arrayItems, !list.isEmpty else { throw error(Self.pointer(pointer, "allOf"), "must be a non-empty array") }
                let base = JSONValue.object(members.filter { $0.key != "allOf" })
                let pointers = [pointer] + list.indices.map { Self.pointer(Self.pointer(pointer, "allOf"), String($0)) }
                return try self.schema(try allOf([base] + list, pointers: pointers, at: pointer), at: pointer)
            }
            if schema["anyOf"] != nil || schema["oneOf"] != nil { return try alternatives(members, at: pointer) }
            if schema["enum"] != nil || schema["const"] != nil { return try enumeration(members, at: pointer) }
            var types: [String] = []
            switch schema["type"] {
            case nil:
                let keys = Set(members.map(\.key))
                if !keys.isDisjoint(with: Self.objectKeywords) { types.append("object") }
                if !keys.isDisjoint(with: Self.arrayKeywords.subtracting(["uniqueItems"])) { types.append("array") }
                if !keys.isDisjoint(with: Self.stringKeywords) { types.append("string") }
                if !keys.isDisjoint(with: Self.numberKeywords) { types.append("number") }
                if types.isEmpty { return helper("value") }
            case .string(let type)?:
                types = [type]
            case .array(let list)?:
                for (index, item) in list.enumerated() {
                    guard let type = item.stringValue else { throw error(Self.pointer(Self.pointer(pointer, "type"), String(index)), "must be a type name") }
                    types.append(type)
                }
                guard !types.isEmpty else { throw error(Self.pointer(pointer, "type"), "must not be empty") }
            default:
                throw error(Self.pointer(pointer, "type"), "must be a string or an array of strings")
            }
            var parts: [String] = []
            for type in types {
                let part = try typed(type, schema, at: pointer)
                if !parts.contains(part) { parts.append(part) }
            }
            return parts.count == 1 ? parts[0] : define("alt", parts.joined(separator: " | "))
        default:
            throw error(pointer, "a schema must be an object or a boolean")
        }
    }

    private mutating func typed(_ type: String, _ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        switch type {
        case "null": return helper("null")
        case "boolean": return helper("boolean")
        case "string": return try string(schema, at: pointer)
        case "integer": return try integer(schema, at: pointer)
        case "number": return try number(schema, at: pointer)
        case "array": return try array(schema, at: pointer)
        case "object": return try object(schema, at: pointer)
        default: throw error(Self.pointer(pointer, "type"), "unknown type \"\(type)\"")
        }
    }

    // MARK: - $ref

    private func resolve(_ reference: JSONValue, at pointer: String) throws(BitNetError) -> (JSONValue, String) {
        guard let text = reference.stringValue else { throw error(pointer, "must be a string") }
        guard text == "#" || text.hasPrefix("#/") else {
            throw error(pointer, "only local references (\"#\" or \"#/...\") are supported, not \"\(text)\"")
        }
        var current = document
        for raw in text.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) where text != "#" {
            let component = String(raw).removingPercentEscapes().replacingOccurrences("~1", "/").replacingOccurrences("~0", "~")
            if let next = current[component] {
                current = next
            } else if let items = current.arrayItems, let index = Int(component), index >= 0, index < items.count {
                current = items[index]
            } else {
                throw error(pointer, "\"\(text)\" does not resolve")
            }
        }
        return (current, text)
    }

    private mutating func referenceRule(_ target: JSONValue, at pointer: String) throws(BitNetError) -> String {
        if let name = refNames[pointer] { return name }
        counter += 1
        let name = "\(prefix)ref-\(counter)"
        refNames[pointer] = name
        order.append(name)
        bodies[name] = ""
        bodies[name] = try schema(target, at: pointer)
        return name
    }

    // MARK: - allOf

    /// The branches merged into one schema, when they do not conflict.
    private mutating func allOf(_ branches: [JSONValue], pointers: [String], at pointer: String) throws(BitNetError) -> JSONValue {
        var merged: [JSONMember] = []
        for (branch, branchPointer) in zip(branches, pointers) {
            for member in try flattened(branch, at: branchPointer, level: 0) {
                try merge(member, into: &merged, at: pointer)
            }
        }
        return .object(merged)
    }

    /// A branch's keywords with its own `$ref` and `allOf` folded in.
    private func flattened(_ schema: JSONValue, at pointer: String, level: Int) throws(BitNetError) -> [JSONMember] {
        guard level < 32 else { throw error(pointer, "allOf: $ref/allOf nesting too deep (a recursive reference inside allOf?)") }
        switch schema {
        case .bool(true): return []
        case .bool(false): throw error(pointer, "the schema false allows no value")
        case .object(let members):
            try checkKeywords(members, at: pointer)
            var out = members.filter { $0.key != "$ref" && $0.key != "allOf" && !Self.annotations.contains($0.key) }
            if let reference = schema["$ref"] {
                let (target, targetPointer) = try resolve(reference, at: Self.pointer(pointer, "$ref"))
                out = try flattened(target, at: targetPointer, level: level + 1) + out
            }
            if let list = schema["allOf"]?.arrayItems {
                for (index, branch) in list.enumerated() {
                    out += try flattened(branch, at: Self.pointer(Self.pointer(pointer, "allOf"), String(index)), level: level + 1)
                }
            }
            return out
        default:
            throw error(pointer, "a schema must be an object or a boolean")
        }
    }

    private func merge(_ member: JSONMember, into merged: inout [JSONMember], at pointer: String) throws(BitNetError) {
        guard let index = merged.firstIndex(where: { $0.key == member.key }) else {
            merged.append(member)
            return
        }
        let old = merged[index].value, new = member.value
        if old.isEqual(to: new) { return }
        let key = member.key
        let conflict = error(Self.pointer(pointer, "allOf"), "conflicting \"\(key)\" in allOf branches")
        switch key {
        case "properties":
            guard var properties = old.objectMembers, let more = new.objectMembers else { throw conflict }
            for property in more {
                if let at = properties.firstIndex(where: { $0.key == property.key }) {
                    if !properties[at].value.isEqual(to: property.value) {
                        properties[at].value = .object([JSONMember(key: "allOf", value: .array([properties[at].value, property.value]))])
                    }
                } else {
                    properties.append(property)
                }
            }
            merged[index].value = .object(properties)
        case "required":
            guard var names = old.arrayItems, let more = new.arrayItems else { throw conflict }
            for name in more where !names.contains(where: { $0.isEqual(to: name) }) { names.append(name) }
            merged[index].value = .array(names)
        case "type":
            func set(_ value: JSONValue) -> [String] { value.stringValue.map { [$0] } ?? value.arrayItems?.compactMap(\.stringValue) ?? [] }
            let a = set(old), b = set(new)
            var both = a.filter { b.contains($0) || ($0 == "integer" && b.contains("number")) }
            if a.contains("number") && b.contains("integer") && !both.contains("integer") { both.append("integer") }
            guard !both.isEmpty else { throw error(Self.pointer(pointer, "allOf"), "the allOf branches allow no common type") }
            merged[index].value = both.count == 1 ? .string(both[0]) : .array(both.map { .string($0) })
        case "minimum", "exclusiveMinimum", "minLength", "minItems", "maximum", "exclusiveMaximum", "maxLength", "maxItems":
            guard let a = old.numberValue, let b = new.numberValue else { throw conflict }
            let keepsLarger = key.hasPrefix("min") || key == "exclusiveMinimum"
            merged[index].value = (a.value >= b.value) == keepsLarger ? old : new
        case "enum":
            guard let a = old.arrayItems, let b = new.arrayItems else { throw conflict }
            merged[index].value = .array(a.filter { value in b.contains { $0.isEqual(to: value) } })
        case "items", "additionalProperties":
            if case .bool(false) = old { return }
            if case .bool(false) = new { merged[index].value = new; return }
            merged[index].value = .object([JSONMember(key: "allOf", value: .array([old, new]))])
        default:
            throw conflict
        }
        if key == "properties" || key == "additionalProperties",
           let extra = merged.first(where: { $0.key == "additionalProperties" })?.value, case .bool(false) = extra,
           merged.contains(where: { $0.key == "properties" }) {
            // additionalProperties: false from one branch would reject another branch's properties.
            throw error(Self.pointer(pointer, "allOf"), "additionalProperties: false in one allOf branch with properties in another is not supported")
        }
    }

    // MARK: - anyOf / oneOf

    private mutating func alternatives(_ members: [JSONMember], at pointer: String) throws(BitNetError) -> String {
        if members.contains(where: { $0.key == "anyOf" }) && members.contains(where: { $0.key == "oneOf" }) {
            throw error(Self.pointer(pointer, "oneOf"), "anyOf together with oneOf is not supported")
        }
        let key = members.contains(where: { $0.key == "anyOf" }) ? "anyOf" : "oneOf"
        let listPointer = Self.pointer(pointer, key)
        guard let list = members.first(where: { $0.key == key })?.value.arrayItems, !list.isEmpty else {
            throw error(listPointer, "must be a non-empty array")
        }
        let base = members.filter { $0.key != key && !Self.annotations.contains($0.key) }
        var effective: [JSONValue] = []
        for (index, branch) in list.enumerated() {
            let branchPointer = Self.pointer(listPointer, String(index))
            effective.append(base.isEmpty ? branch : try allOf([.object(base), branch], pointers: [pointer, branchPointer], at: branchPointer))
        }
        if key == "oneOf" {
            for i in effective.indices {
                for j in effective.indices where j > i {
                    guard try disjoint(try flattened(effective[i], at: listPointer, level: 0), try flattened(effective[j], at: listPointer, level: 0)) else {
                        throw error(listPointer, "oneOf branches \(i) and \(j) may both match the same value; only provably disjoint branches are supported (use anyOf?)")
                    }
                }
            }
        }
        var parts: [String] = []
        for (index, branch) in effective.enumerated() {
            let part = try schema(branch, at: Self.pointer(listPointer, String(index)))
            if !parts.contains(part) { parts.append(part) }
        }
        return parts.count == 1 ? parts[0] : define("alt", parts.joined(separator: " | "))
    }

    /// The JSON kinds a value has ("integer" for integral numbers).
    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let n): return n.value == n.value.rounded() ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Kinds of instances a schema may have, when it says (nil: any).
    private static func kinds(_ members: [JSONMember]) -> Set<String>? {
        let schema = JSONValue.object(members)
        if let values = schema["enum"]?.arrayItems ?? schema["const"].map({ [$0] }) { return Set(values.map(kind(of:))) }
        let types: [String]
        switch schema["type"] {
        case .string(let type)?: types = [type]
        case .array(let list)?: types = list.compactMap(\.stringValue)
        default: return nil
        }
        var out = Set(types)
        if out.contains("number") { out.insert("integer") }
        return out
    }

    /// True when no value can match both schemas (a conservative check).
    private func disjoint(_ a: [JSONMember], _ b: [JSONMember]) throws(BitNetError) -> Bool {
        let schemaA = JSONValue.object(a), schemaB = JSONValue.object(b)
        if let kindsA = Self.kinds(a), let kindsB = Self.kinds(b), kindsA.isDisjoint(with: kindsB) { return true }
        let valuesA = schemaA["enum"]?.arrayItems ?? schemaA["const"].map { [$0] }
        let valuesB = schemaB["enum"]?.arrayItems ?? schemaB["const"].map { [$0] }
        if let valuesA, let valuesB, !valuesA.contains(where: { x in valuesB.contains { $0.isEqual(to: x) } }) { return true }
        if Self.kinds(a) == ["object"], Self.kinds(b) == ["object"] {
            let requiredA = Set(schemaA["required"]?.arrayItems?.compactMap(\.stringValue) ?? [])
            let requiredB = Set(schemaB["required"]?.arrayItems?.compactMap(\.stringValue) ?? [])
            for name in requiredA.intersection(requiredB) {
                if let x = schemaA["properties"]?[name], let y = schemaB["properties"]?[name],
                   try disjoint(try flattened(x, at: "#", level: 0), try flattened(y, at: "#", level: 0)) { return true }
            }
            for (required, other) in [(requiredA, schemaB), (requiredB, schemaA)] {
                if case .bool(false)? = other["additionalProperties"],
                   required.contains(where: { other["properties"]?[$0] == nil }) { return true }
            }
        }
        return false
    }

    // MARK: - enum / const

    private mutating func enumeration(_ members: [JSONMember], at pointer: String) throws(BitNetError) -> String {
        let schema = JSONValue.object(members)
        var values: [JSONValue]
        if let list = schema["enum"] {
            guard let items = list.arrayItems, !items.isEmpty else { throw error(Self.pointer(pointer, "enum"), "must be a non-empty array") }
            values = items
            if let constant = schema["const"] { values = values.filter { $0.isEqual(to: constant) } }
        } else {
            values = [schema["const"]!]
        }
        let constraining = Self.objectKeywords.union(Self.arrayKeywords).union(Self.stringKeywords).union(Self.numberKeywords)
        if let other = members.first(where: { constraining.contains($0.key) }) {
            throw error(Self.pointer(pointer, other.key), "\"\(other.key)\" together with enum/const is not supported")
        }
        if let kinds = Self.kinds(members.filter { $0.key == "type" }) {
            values = values.filter { kinds.contains(Self.kind(of: $0)) }
        }
        guard !values.isEmpty else { throw error(pointer, "no value of enum/const satisfies the schema's type") }
        return define("enum", values.map { GBNFWriter.literal($0.serialized) }.joined(separator: " | "))
    }

    // MARK: - Strings

    private mutating func string(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        let minLength = try count(schema, "minLength", at: pointer)
        let maxLength = try count(schema, "maxLength", at: pointer)
        if let minLength, let maxLength, maxLength < minLength {
            throw error(Self.pointer(pointer, "maxLength"), "maxLength \(maxLength) is below minLength \(minLength)")
        }
        let quote = "\"\\\"\""
        if let pattern = schema["pattern"] {
            let at = Self.pointer(pointer, "pattern")
            guard let text = pattern.stringValue else { throw error(at, "must be a string") }
            if minLength != nil || maxLength != nil || schema["format"] != nil {
                throw error(at, "pattern together with minLength, maxLength or format is not supported")
            }
            return define("pattern", quote + " " + (try SchemaPattern.grammar(text, anyCharacter: helper("char"), pointer: at)) + " " + quote)
        }
        if let format = schema["format"] {
            let at = Self.pointer(pointer, "format")
            guard let name = format.stringValue else { throw error(at, "must be a string") }
            guard Self.formats.contains(name) else {
                throw error(at, "format \"\(name)\" is not supported (supported: date, time, date-time, uuid, email)")
            }
            if minLength != nil || maxLength != nil { throw error(at, "format together with minLength or maxLength is not supported") }
            return define("format", quote + " " + helper(name) + " " + quote)
        }
        let low = minLength ?? 0
        let repeatCount: String
        switch (low, maxLength) {
        case (0, nil): return helper("string")
        case (_, nil): repeatCount = "{\(low),}"
        case (_, let high?): repeatCount = low == high ? "{\(low)}" : "{\(low),\(high)}"
        }
        return define("string", quote + " " + helper("char") + repeatCount + " " + quote)
    }

    // MARK: - Numbers

    private func bound(_ schema: JSONValue, _ key: String, at pointer: String) throws(BitNetError) -> Double? {
        guard let value = schema[key] else { return nil }
        if case .bool = value, key.hasPrefix("exclusive") { return nil }  // draft 4: modifies minimum/maximum
        guard let number = value.numberValue else { throw error(Self.pointer(pointer, key), "must be a number") }
        return number.value
    }

    /// (lower, lowerExclusive, upper, upperExclusive) with draft-4 boolean exclusives folded in.
    private func bounds(_ schema: JSONValue, at pointer: String)
        throws(BitNetError) -> (Double?, Bool, Double?, Bool) {
        var lower = try bound(schema, "minimum", at: pointer), upper = try bound(schema, "maximum", at: pointer)
        var lowerExclusive = false, upperExclusive = false
        if case .bool(true)? = schema["exclusiveMinimum"] { lowerExclusive = true }
        if case .bool(true)? = schema["exclusiveMaximum"] { upperExclusive = true }
        if let x = try bound(schema, "exclusiveMinimum", at: pointer), lower.map({ x >= $0 }) ?? true {
            lower = x
            lowerExclusive = true
        }
        if let x = try bound(schema, "exclusiveMaximum", at: pointer), upper.map({ x <= $0 }) ?? true {
            upper = x
            upperExclusive = true
        }
        return (lower, lowerExclusive, upper, upperExclusive)
    }

    private mutating func integer(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        let (lower, lowerExclusive, upper, upperExclusive) = try bounds(schema, at: pointer)
        if lower == nil && upper == nil { return helper("integer") }
        let limit = Double(NumberRangeGrammar.largestInteger)
        var low = -Int64(NumberRangeGrammar.largestInteger), high = Int64(NumberRangeGrammar.largestInteger)
        if let lower {
            guard lower <= limit else { throw error(pointer, "the minimum is beyond 16 digits") }
            if lower > -limit { low = Int64(lowerExclusive ? lower.rounded(.down) + 1 : lower.rounded(.up)) }
        }
        if let upper {
            guard upper >= -limit else { throw error(pointer, "the maximum is beyond 16 digits") }
            if upper < limit { high = Int64(upperExclusive ? upper.rounded(.up) - 1 : upper.rounded(.down)) }
        }
        guard low <= high else { throw error(pointer, "no integer lies between the minimum and the maximum") }
        return define("integer", NumberRangeGrammar.integers(low, high))
    }

    private mutating func number(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        let (lower, lowerExclusive, upper, upperExclusive) = try bounds(schema, at: pointer)
        if lower == nil && upper == nil { return helper("number") }
        let limit = 1e16
        typealias D = NumberRangeGrammar.Decimal
        var low = D(-limit), high = D(limit)
        if let lower {
            guard lower < limit else { throw error(pointer, "the minimum is beyond 16 digits") }
            if lower > -limit { low = D(lowerExclusive ? lower.nextUp : lower) }
        }
        if let upper {
            guard upper > -limit else { throw error(pointer, "the maximum is beyond 16 digits") }
            if upper < limit { high = D(upperExclusive ? upper.nextDown : upper) }
        }
        guard D.lessOrEqual(low, high) else { throw error(pointer, "no number lies between the minimum and the maximum") }
        return define("number", NumberRangeGrammar.decimals(low, high))
    }

    // MARK: - Arrays

    private mutating func array(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        var prefix: [String] = []
        var rest: String? = helper("value")
        let prefixPointer = Self.pointer(pointer, "prefixItems")
        var tuple = schema["prefixItems"]?.arrayItems
        if schema["prefixItems"] != nil && tuple == nil { throw error(prefixPointer, "must be an array") }
        switch schema["items"] {
        case nil: break
        case .bool(false)?: rest = nil
        case .array(let list)? where tuple == nil: tuple = list  // draft 4-7 tuple form
        case let items?: rest = try self.schema(items, at: Self.pointer(pointer, "items"))
        }
        for (index, item) in (tuple ?? []).enumerated() {
            prefix.append(try self.schema(item, at: Self.pointer(prefixPointer, String(index))))
        }
        let minItems = try count(schema, "minItems", at: pointer) ?? 0
        var maxItems = try count(schema, "maxItems", at: pointer)
        if rest == nil { maxItems = Swift.min(maxItems ?? prefix.count, prefix.count) }
        if let maxItems, maxItems < minItems {
            throw error(pointer, "at most \(maxItems) items are possible but minItems is \(minItems)")
        }
        let ws = helper("ws")
        // Items from position `index` on, `index` of them already written (so each needs a comma first).
        func tail(_ index: Int) -> String {
            if let maxItems, index >= maxItems { return "" }
            let needed = index < minItems
            if index < prefix.count {
                let item = "\",\" \(ws) \(prefix[index]) \(ws)" + (tail(index + 1).isEmpty ? "" : " " + tail(index + 1))
                return needed ? item : "(\(item))?"
            }
            guard let rest else { return "" }
            let low = Swift.max(0, minItems - index)
            let bound = maxItems.map { "\($0 - index)" } ?? ""
            let count = maxItems.map { $0 - index } == low ? "{\(low)}" : "{\(low),\(bound)}"
            return "(\",\" \(ws) \(rest) \(ws))\(count)"
        }
        var body = ""
        if maxItems != 0, let first = prefix.first ?? rest {
            let item = "\(first) \(ws)" + (tail(1).isEmpty ? "" : " " + tail(1))
            body = minItems >= 1 ? item : "(\(item))?"
        }
        return define("array", "\"[\" \(ws) \(body.isEmpty ? "" : body + " ")\"]\"")
    }

    // MARK: - Objects

    private mutating func object(_ schema: JSONValue, at pointer: String) throws(BitNetError) -> String {
        let propertiesPointer = Self.pointer(pointer, "properties")
        var properties: [(name: String, value: String, required: Bool)] = []
        let declared = schema["properties"]
        if declared != nil && declared?.objectMembers == nil { throw error(propertiesPointer, "must be an object") }
        var required: [String] = []
        if let list = schema["required"] {
            guard let items = list.arrayItems else { throw error(Self.pointer(pointer, "required"), "must be an array of strings") }
            for (index, item) in items.enumerated() {
                guard let name = item.stringValue else {
                    throw error(Self.pointer(Self.pointer(pointer, "required"), String(index)), "must be a string")
                }
                if !required.contains(name) { required.append(name) }
            }
        }
        var additional: String?
        switch schema["additionalProperties"] {
        case nil, .bool(false)?: additional = nil
        case .bool(true)?: additional = helper("value")
        case let extra?: additional = try self.schema(extra, at: Self.pointer(pointer, "additionalProperties"))
        }
        for member in declared?.objectMembers ?? [] {
            let isRequired = required.contains(member.key)
            if case .bool(false) = member.value {
                if isRequired { throw error(Self.pointer(propertiesPointer, member.key), "a required property cannot have the schema false") }
                continue
            }
            properties.append((member.key, try self.schema(member.value, at: Self.pointer(propertiesPointer, member.key)), isRequired))
        }
        for name in required where !properties.contains(where: { $0.name == name }) {
            guard let additional else {
                throw error(Self.pointer(pointer, "required"), "required property \"\(name)\" is not in properties and additionalProperties does not allow it")
            }
            properties.append((name, additional, true))
        }
        let ws = helper("ws")
        let known = properties.map(\.name)
        var extra: String?
        if let additional { extra = "\(otherKey(excluding: known)) \(ws) \":\" \(ws) \(additional) \(ws)" }
        // after(i): properties i... once something was written; first(i): nothing written yet.
        var after = extra.map { "(\",\" \(ws) \($0))*" } ?? ""
        var first = extra.map { "(\($0) (\",\" \(ws) \($0))*)?" } ?? ""
        for property in properties.reversed() {
            let member = "\(GBNFWriter.literal(JSONValue.quoted(property.name))) \(ws) \":\" \(ws) \(property.value) \(ws)"
            let afterRule = after.isEmpty ? "" : " " + define("props", after)
            let written = member + afterRule
            let nextAfter = "\",\" \(ws) \(written)"
            if property.required {
                first = written
                after = nextAfter
            } else {
                first = "\(written)" + (first.isEmpty ? " | \"\"" : " | " + define("props", first))
                after = "(\(nextAfter))" + (after.isEmpty ? "?" : " | " + define("props", after))
            }
        }
        let body = first.isEmpty ? "" : define("props", first) + " "
        return define("object", "\"{\" \(ws) \(body)\"}\"")
    }

    /// A JSON string that is none of `names` (written without escapes, so
    /// it cannot spell one of them differently).
    private mutating func otherKey(excluding names: [String]) -> String {
        let plain = CodePointSet.all.subtracting(CodePointSet(ranges: [(0, 0x1F), (0x22, 0x22), (0x5C, 0x5C), (0xD800, 0xDFFF)]))
        let free = define("key-chars", GBNFWriter.characterClass(plain) + "*")
        // A trie of the names: at each node the key may stop (unless a name
        // ends there), continue along a child, or leave the trie for good.
        struct Node { var children: [UInt32: Int] = [:]; var isName = false }
        var nodes = [Node()]
        for name in names where name.unicodeScalars.allSatisfy({ plain.contains($0.value) }) {
            var current = 0
            for scalar in name.unicodeScalars {
                if let next = nodes[current].children[scalar.value] {
                    current = next
                } else {
                    nodes.append(Node())
                    nodes[current].children[scalar.value] = nodes.count - 1
                    current = nodes.count - 1
                }
            }
            nodes[current].isName = true
        }
        func rule(_ index: Int) -> String {
            let node = nodes[index]
            var parts: [String] = node.isName ? [] : ["\"\\\"\""]
            let keys = node.children.keys.sorted()
            for key in keys {
                parts.append(GBNFWriter.literal(String(Unicode.Scalar(key)!)) + " " + rule(node.children[key]!))
            }
            let others = plain.subtracting(CodePointSet(ranges: keys.map { ($0, $0) }))
            if !others.isEmpty { parts.append(GBNFWriter.characterClass(others) + " " + free + " \"\\\"\"") }
            return define("key", parts.joined(separator: " | "))
        }
        return "\"\\\"\" " + rule(0)
    }
}

private extension String {
    func replacingTildes() -> String { replacingOccurrences("~", "~0").replacingOccurrences("/", "~1") }

    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }

    func removingPercentEscapes() -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let high = GBNFParser.hexValue(Unicode.Scalar(utf8[utf8.startIndex])),
               let low = GBNFParser.hexValue(Unicode.Scalar(utf8[utf8.startIndex + 1])) {
                bytes.append(UInt8(high * 16 + low))
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Grammar {
    /// Compiles a JSON Schema (JSON text) into a grammar of its instances.
    public init(jsonSchema: String) throws(BitNetError) {
        try self.init(gbnf: try JSONSchemaGrammar.gbnf(from: jsonSchema))
    }

    /// The GBNF a JSON Schema turns into (what `init(jsonSchema:)` compiles).
    package static func gbnf(fromJSONSchema schema: String) throws(BitNetError) -> String {
        try JSONSchemaGrammar.gbnf(from: schema)
    }
}
