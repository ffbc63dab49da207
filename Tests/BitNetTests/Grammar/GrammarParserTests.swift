import Testing
@testable import BitNet

@Suite struct GrammarParserTests {
    /// Malformed grammars fail with BITNET_E_INVALID_ARGUMENT and the line:column where parsing stopped.
    @Test(arguments: [
        ("root ::= \"abc", "grammar 1:14: unterminated string literal"),
        ("root ::= [a-z", "grammar 1:14: unterminated character class"),
        ("root ::= (\"a\"", "grammar 1:14: missing )"),
        ("root ::= \"a\")", "grammar 1:13: unmatched )"),
        ("root ::= foo", "grammar 1:10: undefined rule 'foo'"),
        ("root ::= \"a\"\nfoo ::= bar", "grammar 2:9: undefined rule 'bar'"),
        ("root := \"a\"", "grammar 1:6: expected ::= after the rule name 'root'"),
        ("a ::= \"x\"", "grammar 1:1: there is no rule named 'root'"),
        ("root ::= \"\\q\"", "grammar 1:11: unknown escape '\\q'"),
        ("root ::= \"\\x4\"", "grammar 1:11: expected 2 hex digits in the escape"),
        ("root ::= \"\\uD800\"", "grammar 1:11: escape is not a Unicode scalar value"),
        ("root ::= \"\\U00110000\"", "grammar 1:11: escape is above U+10FFFF"),
        ("root ::= [z-a]", "grammar 1:13: range end is below its start"),
        ("root ::= \"a\"{3,2}", "grammar 1:13: repetition {3,2} has its maximum below its minimum"),
        ("root ::= \"a\"{}", "grammar 1:13: expected a number in {}"),
        ("root ::= \"a\"{2", "grammar 1:13: expected } to close the repetition"),
        ("root ::= \"a\"{99999999}", "grammar 1:14: repetition count above the limit of 65536"),
        ("root ::= \"a\" root2 ::= \"b\"", "grammar 1:14: missing newline before the rule 'root2'"),
        ("root ::= \"a\"\nroot ::= \"b\"", "grammar 2:1: rule 'root' is defined twice (first at 1:1)"),
        ("root ::= <[1000]>", "grammar 1:10: token references (<...>) are not supported"),
        ("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"", "grammar 2:1: rule 'expr' is left-recursive"),
        ("root ::= a\na ::= b? a \"x\" | \"y\"\nb ::= \"b\"", "grammar 2:1: rule 'a' is left-recursive"),
        ("root ::= \"é\" @", "grammar 1:14: unexpected '@'"),
        ("root ::= \"a\"\n  # comment\n  \"b\"", "grammar 3:3: expected a rule name, found '\"'"),
    ])
    func errorsCarryLineAndColumn(grammar: String, expected: String) {
        do {
            _ = try Grammar(gbnf: grammar)
            Issue.record("no error for \(grammar.debugDescription)")
        } catch {
            #expect(error.status == .invalidArgument)
            #expect(error.message.hasPrefix(expected), "got: \(error.message)")
        }
    }

    @Test func nestingDepthIsLimitedNotACrash() {
        let deep = "root ::= " + String(repeating: "(", count: 100_000) + "\"a\"" + String(repeating: ")", count: 100_000)
        #expect(throws: BitNetError.self) { try Grammar(gbnf: deep) }
        let quantifiers = "root ::= \"a\"" + String(repeating: "?", count: 100_000)
        #expect(throws: BitNetError.self) { try Grammar(gbnf: quantifiers) }
        let ok = "root ::= " + String(repeating: "(", count: 200) + "\"a\"" + String(repeating: ")", count: 200)
        #expect(throws: Never.self) { try Grammar(gbnf: ok) }
    }

    @Test func expansionSizeIsLimited() throws {
        // Groups become shared rules, so nesting adds rather than multiplies...
        let nested = try Grammar(gbnf: "root ::= ((\"a\"{65536}){65536}){65536}")
        #expect(nested.ruleCount < 4 * 65536)
        // ...but 70 separate maximal repetitions are over the element limit.
        let huge = "root ::= " + String(repeating: "\"a\"{65536} ", count: 70)
        #expect(throws: BitNetError.self) { try Grammar(gbnf: huge) }
        let big = try Grammar(gbnf: "root ::= [a-z]{0,65536}")
        #expect(big.ruleCount > 65536)
    }

    @Test func inputSizeIsLimited() {
        let text = "root ::= \"" + String(repeating: "a", count: GrammarLimits.maxGrammarBytes) + "\""
        #expect(throws: BitNetError.self) { try Grammar(gbnf: text) }
    }

    @Test func commentsNewlinesAndContinuations() throws {
        let grammar = try Grammar(gbnf: """
            # a leading comment
            root ::= item ( "," item )*   # trailing comment
            item ::= (
                "x"     # inside a group
              | "y"
            )
                   | "z"
            """)
        let m = GrammarMatcher(grammar)
        #expect(try m.matches("x,y,z"))
        #expect(try m.matches("z"))
        #expect(try !m.matches("x,"))
    }

    @Test func tailCyclesThroughNullableRulesAreAllowed() throws {
        // S ::= x? S | ε loops only through last-position calls: harmless.
        let grammar = try Grammar(gbnf: "root ::= (\"a\"?)* \"b\"\nloop ::= other\nother ::= loop | \"c\"")
        let m = GrammarMatcher(grammar)
        #expect(try m.matches("b"))
        #expect(try m.matches("aaab"))
        #expect(try !m.matches("aaa"))
    }
}
