import Testing
@testable import BitNet

@Suite struct JSONSchemaGrammarTests {
    static func matcher(_ schema: String) throws -> GrammarMatcher {
        GrammarMatcher(try Grammar(jsonSchema: schema))
    }

    @Test(arguments: [
        (#"{"type": "object", "properties": {"a": {"not": {}}}}"#, #"json_schema #/properties/a/not: unsupported keyword "not""#),
        (#"{"type": "integer", "multipleOf": 3}"#, #"json_schema #/multipleOf: unsupported keyword "multipleOf""#),
        (#"{"type": "array", "uniqueItems": true}"#, "json_schema #/uniqueItems: uniqueItems: true cannot be enforced"),
        (#"{"type": "string", "format": "hostname"}"#, #"json_schema #/format: format "hostname" is not supported"#),
        (#"{"$ref": "http://example.com/s.json"}"#, "json_schema #/$ref: only local references"),
        (##"{"$ref": "#/$defs/missing"}"##, ##"json_schema #/$ref: "#/$defs/missing" does not resolve"##),
        (#"{"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]}"#, "json_schema #/oneOf: oneOf branches 0 and 1 may both match"),
        (#"{"type": "string", "minLength": 5, "maxLength": 2}"#, "json_schema #/maxLength: maxLength 2 is below minLength 5"),
        (#"{"type": "string", "minLength": -1}"#, "json_schema #/minLength: must be a non-negative integer"),
        (#"{"type": "string", "pattern": "a(?=b)"}"#, "json_schema #/pattern: pattern: lookahead is not supported"),
        (#"{"type": "string", "pattern": "(a)\\1"}"#, "json_schema #/pattern: pattern: backreferences are not supported"),
        (#"{"type": "integer", "minimum": 5, "maximum": 4}"#, "json_schema #: no integer lies between the minimum and the maximum"),
        (#"{"type": "object", "required": ["x"], "additionalProperties": false}"#, #"json_schema #/required: required property "x" is not in properties"#),
        (#"{"properties": {"a/b~c": {"type": "wat"}}}"#, #"json_schema #/properties/a~1b~0c/type: unknown type "wat""#),
        (#"{"allOf": [{"type": "string"}, {"type": "integer"}]}"#, "json_schema #/allOf: the allOf branches allow no common type"),
        ("{\"type\": \"object\",\n  \"properties\": {\"a\": 1,}}", "json_schema 2:25: expected a string key"),
        (#"{"type": "object""#, "json_schema 1:18: expected ',' or '}' in an object"),
        ("[1, 2", "json_schema 1:6: expected ',' or ']' in an array"),
        (#""\ud800""#, "json_schema 1:2: lone surrogate"),
        ("5", "json_schema #: a schema must be an object or a boolean"),
        ("false", "json_schema #: the schema false allows no value"),
    ])
    func errorsNameTheKeywordAndItsPointer(schema: String, expected: String) {
        do {
            _ = try Grammar(jsonSchema: schema)
            Issue.record("no error for \(schema)")
        } catch {
            #expect(error.status == .invalidArgument)
            #expect(error.message.hasPrefix(expected), "got: \(error.message)")
        }
    }

    @Test func nestingIsLimitedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: BitNetError.self) { try Grammar(jsonSchema: deep) }
        let schema = String(repeating: #"{"type": "array", "items": "#, count: 300) + "{}" + String(repeating: "}", count: 300)
        #expect(throws: BitNetError.self) { try Grammar(jsonSchema: schema) }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var schema: String
        var valid: [String]
        var invalid: [String]
        var testDescription: String { schema }
    }

    static let cases: [Case] = [
        Case(schema: #"{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name"]}"#,
             valid: [#"{"name": "Ann"}"#, #"{"name": "A\"b\\c\u00e9", "age": 3}"#, "{\n  \"name\": \"x\",\n  \"age\": -12\n}", #"{ "name":"" }"#],
             invalid: [#"{}"#, #"{"age": 3}"#, #"{"age": 3, "name": "x"}"#, #"{"name": "x", "other": 1}"#, #"{"name": 5}"#, #"{"name": "\ud800"}"#]),
        Case(schema: #"{"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": {"type": "integer"}}"#,
             valid: [#"{}"#, #"{"a": true}"#, #"{"a": false, "b": 1, "ab": 2}"#, #"{"x": 3}"#, #"{"": 1}"#],
             invalid: [#"{"b": 1, "a": true}"#, #"{"a": 1}"#, #"{"b": "s"}"#, #"{"a": true, "a": true}"#]),
        Case(schema: #"{"type": "array", "items": {"type": "integer", "minimum": -5, "maximum": 120}, "minItems": 1, "maxItems": 3}"#,
             valid: ["[0]", "[-5, 120, 7]", "[ 1 ,2]"],
             invalid: ["[]", "[1, 2, 3, 4]", "[121]", "[-6]", "[1.5]", "[01]"]),
        Case(schema: #"{"type": "array", "prefixItems": [{"type": "string"}, {"type": "null"}], "items": false}"#,
             valid: ["[]", #"["a"]"#, #"["a", null]"#], invalid: [#"["a", null, 1]"#, "[null]"]),
        Case(schema: #"{"enum": ["red", "green", 3, null, {"k": [1]}]}"#,
             valid: [#""red""#, #""green""#, "3", "null", #"{"k":[1]}"#], invalid: [#""blue""#, "4", #"{"k": [1]}"#]),
        Case(schema: #"{"type": "string", "enum": ["a", 1]}"#, valid: [#""a""#], invalid: ["1"]),
        Case(schema: #"{"const": "x\"y"}"#, valid: [#""x\"y""#], invalid: [#""xy""#]),
        Case(schema: #"{"type": ["string", "null"], "maxLength": 2}"#, valid: ["null", #""ab""#, #""""#], invalid: [#""abc""#, "1"]),
        Case(schema: #"{"anyOf": [{"type": "integer"}, {"type": "string", "format": "date"}]}"#,
             valid: ["12", #""2024-02-29""#, #""2023-12-31""#, #""0004-02-29""#, #""2000-02-29""#],
             invalid: [#""2023-02-29""#, #""1900-02-29""#, #""2023-04-31""#, #""0000-01-01""#, #""2023-13-01""#, "1.5"]),
        Case(schema: #"{"type": "string", "format": "date-time"}"#,
             valid: [#""2024-01-31T23:59:59Z""#, #""2024-06-30T00:00:00.123+05:30""#], invalid: [#""2024-06-31T00:00:00Z""#, #""2024-01-01T24:00:00Z""#, #""2024-01-01 10:00:00Z""#]),
        Case(schema: #"{"type": "string", "format": "time"}"#, valid: [#""10:20:30Z""#, #""23:59:59.5-01:00""#], invalid: [#""10:20Z""#, #""10:60:00Z""#]),
        Case(schema: #"{"type": "string", "format": "uuid"}"#, valid: [#""123e4567-e89b-12d3-a456-426614174000""#], invalid: [#""123e4567e89b12d3a456426614174000""#]),
        Case(schema: #"{"type": "string", "format": "email"}"#, valid: [#""a.b+c@example.co.uk""#], invalid: [#""ab""#, #""a@b""#]),
        Case(schema: #"{"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}"#, valid: [#""AB-123""#], invalid: [#""AB-12""#, #""ab-123""#, #""xAB-123""#]),
        Case(schema: #"{"type": "string", "pattern": "cat|dog"}"#, valid: [#""a cat""#, #""dog""#, #""hotdogs""#], invalid: [#""ca""#, #""cow""#]),
        Case(schema: #"{"type": "string", "pattern": "^a\"b\\\\c[^x]$"}"#, valid: [#""a\"b\\cy""#, #""a\"b\\c\"""#], invalid: [#""a\"b\\cx""#]),
        Case(schema: ##"{"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}}, "required": ["v"]}}, "$ref": "#/$defs/node"}"##,
             valid: [#"{"v": 1}"#, #"{"v": 1, "next": {"v": 2, "next": {"v": 3}}}"#], invalid: [#"{"next": {"v": 2}}"#, #"{"v": 1, "next": {}}"#]),
        Case(schema: #"{"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}]}"#,
             valid: [#"{"a": 1, "b": "x"}"#], invalid: [#"{"a": 1}"#, #"{"b": "x"}"#]),
        Case(schema: #"{"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind", "x"], "additionalProperties": false}, {"type": "object", "properties": {"kind": {"const": "b"}}, "required": ["kind"], "additionalProperties": false}]}"#,
             valid: [#"{"kind": "a", "x": 1}"#, #"{"kind": "b"}"#], invalid: [#"{"kind": "b", "x": 1}"#, #"{"kind": "c"}"#]),
        Case(schema: #"{"type": "number", "exclusiveMinimum": 0, "maximum": 1.5}"#,
             valid: ["0.1", "1.5", "1", "0.0000000000000001", "1.50"], invalid: ["0", "0.0", "1.51", "-0.5", "2", "1e0"]),
        Case(schema: "true", valid: ["{\"a\": [1, {\"b\": null}], \"c\": \"d\"}", "-0.5", "true"], invalid: ["{a}", "[1,]"]),
    ]

    @Test(arguments: cases)
    func instancesAreAcceptedAndNonInstancesRejected(_ test: Case) throws {
        let matcher = try Self.matcher(test.schema)
        for text in test.valid { #expect(try matcher.matches(text), "should accept \(text)") }
        for text in test.invalid { #expect(try !matcher.matches(text), "should reject \(text)") }
    }

    /// Integer ranges against plain comparison, around the bounds and at random.
    @Test func integerRangesAreExact() throws {
        var random = RandomGenerator(seed: 8)
        let edges: [Int64] = [-1000, -101, -100, -99, -10, -9, -1, 0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345]
        for round in 0..<60 {
            let a = round < 30 ? edges[Int(random.next() % UInt64(edges.count))] : Int64(random.next() % 4000) - 2000
            let b = round < 30 ? edges[Int(random.next() % UInt64(edges.count))] : Int64(random.next() % 4000) - 2000
            let (low, high) = (min(a, b), max(a, b))
            let matcher = GrammarMatcher(try Grammar(gbnf: "root ::= " + NumberRangeGrammar.integers(low, high)))
            var probes = Set((low - 30)...(low + 30)).union((high - 30)...(high + 30))
            for _ in 0..<60 { probes.insert(Int64(random.next() % 5000) - 2500) }
            for x in probes {
                #expect(try matcher.matches(String(x)) == (low...high).contains(x), "\(x) in [\(low), \(high)]")
            }
            #expect(try !matcher.matches("-0") && !matcher.matches("007") || low > 0 || high < 0)
        }
        let full = GrammarMatcher(try Grammar(gbnf: "root ::= " + NumberRangeGrammar.integers(-9_999_999_999_999_999, 9_999_999_999_999_999)))
        #expect(try full.matches("9999999999999999") && full.matches("-9999999999999999") && !full.matches("10000000000000000"))
    }

    /// Decimal ranges against Double comparison of the same text.
    @Test func decimalRangesAreExact() throws {
        var random = RandomGenerator(seed: 9)
        let bounds: [Double] = [-12.5, -1, -0.25, -0.001, 0, 0.001, 0.1, 0.5, 1, 1.25, 3.14159, 10, 99.99, 100]
        for _ in 0..<50 {
            let a = bounds[Int(random.next() % UInt64(bounds.count))], b = bounds[Int(random.next() % UInt64(bounds.count))]
            let (low, high) = (min(a, b), max(a, b))
            let grammar = try Grammar(gbnf: "root ::= " + NumberRangeGrammar.decimals(.init(low), .init(high)))
            let matcher = GrammarMatcher(grammar)
            for _ in 0..<150 {
                let integer = Int(random.next() % 120) - 60
                let digits = Int(random.next() % 5)
                var text = (integer < 0 ? "-" : "") + String(abs(integer) / (random.next() % 2 == 0 ? 1 : 10))
                if digits > 0 { text += "." + (0..<digits).map { _ in String(random.next() % 10) }.joined() }
                let value = Double(text)!
                #expect(try matcher.matches(text) == (value >= low && value <= high) || text.hasPrefix("-0") && value == 0,
                        "\(text) in [\(low), \(high)]")
            }
            for edge in [low, high] { #expect(try matcher.matches("\(edge)"), "\(edge) in [\(low), \(high)]") }
        }
    }

    @Test func grammarIsReadableAndStable() throws {
        let text = try Grammar.gbnf(fromJSONSchema: #"{"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}"#)
        #expect(text.hasPrefix("root ::= object-"))
        #expect(text.contains(#""\"ok\"" ws ":" ws boolean ws"#), "\(text)")
    }
}
