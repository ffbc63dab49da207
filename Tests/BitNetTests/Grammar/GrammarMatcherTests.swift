import Testing
@testable import BitNet

/// Accept/reject tables for each GBNF construct: `accepted` strings are in the
/// language, `prefixes` are valid prefixes that are not complete, `rejected`
/// are not even prefixes.
@Suite struct GrammarMatcherTests {
    struct Table: Sendable, CustomTestStringConvertible {
        var grammar: String
        var accepted: [String]
        var prefixes: [String] = []
        var rejected: [String]
        var testDescription: String { grammar }
    }

    static let tables: [Table] = [
        Table(grammar: #"root ::= "abc""#, accepted: ["abc"], prefixes: ["", "a", "ab"], rejected: ["abcd", "b", "abd"]),
        Table(grammar: #"root ::= "a" | "bc" | "" "#, accepted: ["a", "bc", ""], prefixes: ["b"], rejected: ["ab", "c", "bcc"]),
        Table(grammar: #"root ::= ("a" | "b") "c""#, accepted: ["ac", "bc"], prefixes: ["a"], rejected: ["c", "abc"]),
        Table(grammar: #"root ::= "a"*"#, accepted: ["", "a", "aaaa"], rejected: ["b", "ab"]),
        Table(grammar: #"root ::= "a"+"#, accepted: ["a", "aaa"], prefixes: [""], rejected: ["b"]),
        Table(grammar: #"root ::= "a"? "b""#, accepted: ["ab", "b"], prefixes: ["a", ""], rejected: ["aab", "ba"]),
        Table(grammar: #"root ::= "a"{3}"#, accepted: ["aaa"], prefixes: ["aa"], rejected: ["aaaa"]),
        Table(grammar: #"root ::= "a"{2,}"#, accepted: ["aa", "aaaaaaa"], prefixes: ["a"], rejected: ["b"]),
        Table(grammar: #"root ::= "a"{1,3} "b""#, accepted: ["ab", "aab", "aaab"], prefixes: ["aaa"], rejected: ["b", "aaaab"]),
        Table(grammar: #"root ::= "a"{,2} "b""#, accepted: ["b", "ab", "aab"], rejected: ["aaab"]),
        Table(grammar: #"root ::= "a"{0} "b""#, accepted: ["b"], rejected: ["ab"]),
        Table(grammar: #"root ::= ("ab" | "c"){2,3}"#, accepted: ["abab", "cab", "ccc", "abcab"], prefixes: ["ab", "a"], rejected: ["abcabc", "ac"]),
        Table(grammar: #"root ::= [a-c0-2]+"#, accepted: ["a0", "cab21"], rejected: ["d", "3", "A"]),
        Table(grammar: #"root ::= [^a-c]"#, accepted: ["d", "é", "\n", "😀"], rejected: ["a", "b", "dd"]),
        Table(grammar: #"root ::= [-a]+ [b-]"#, accepted: ["-b", "a-", "a--b"], rejected: ["c"]),
        Table(grammar: #"root ::= [\]\[\\\-\^]+"#, accepted: ["]", "[", "\\", "-", "^"], rejected: ["a"]),
        Table(grammar: #"root ::= "\n\t\r\\\"\x41\u00e9\U0001F600""#, accepted: ["\n\t\r\\\"Aé😀"], rejected: ["n"]),
        Table(grammar: #"root ::= . . "!""#, accepted: ["ab!", "é😀!", "\u{0}\u{10FFFF}!"], prefixes: ["a"], rejected: ["a!"]),
        Table(grammar: #"root ::= "é" [à-ÿ] "中文""#, accepted: ["éà中文", "éÿ中文"], rejected: ["eà中文", "éá中"]),
        Table(grammar: "root ::= list\nlist ::= \"[\" (item (\",\" item)*)? \"]\"\nitem ::= list | [0-9]",
              accepted: ["[]", "[1]", "[1,[2,[]],3]", "[[[[[]]]]]"], prefixes: ["[[1,", "["], rejected: ["]", "[1,]", "[1]]"]),
        Table(grammar: "root ::= a\na ::= \"x\" a \"y\" | \"\"", accepted: ["", "xy", "xxxyyy"], prefixes: ["xx", "xxy"],
              rejected: ["y", "xyx", "xyy"]),
        // JSON-ish with free whitespace: newlines inside groups.
        Table(grammar: """
            root ::= "{" ws (
                       pair ( "," ws pair )*
                     )? "}"
            pair ::= "\\"" [a-z]+ "\\"" ws ":" ws [0-9]+ ws
            ws ::= [ \\t\\n]*
            """, accepted: ["{}", "{ \"a\": 1}", "{\"ab\":12 ,\n \"c\" : 3}"], prefixes: ["{\"a\""], rejected: ["{\"A\":1}", "{,}"]),
    ]

    @Test(arguments: tables)
    func constructs(table: Table) throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: table.grammar))
        for text in table.accepted {
            #expect(try matcher.matches(text), "should match \(text.debugDescription)")
            matcher.reset()
            #expect(try matcher.accept(text.utf8) && matcher.isAccepting, "should accept \(text.debugDescription)")
            matcher.reset()
        }
        for text in table.prefixes {
            #expect(try matcher.accept(text.utf8), "should be a prefix: \(text.debugDescription)")
            #expect(!matcher.isAccepting, "should not be complete: \(text.debugDescription)")
            matcher.reset()
        }
        for text in table.rejected {
            #expect(try !matcher.matches(text), "should not match \(text.debugDescription)")
            let isPrefix = try matcher.accept(text.utf8)
            #expect(!isPrefix || !matcher.isAccepting, "should reject \(text.debugDescription)")
            matcher.reset()
        }
    }

    @Test func rejectedBytesLeaveTheMatcherUnchanged() throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: #"root ::= "ab" "c"*"#))
        #expect(try matcher.accept("a"))
        #expect(try !matcher.accept("x"))
        #expect(try !matcher.accept("bx"))  // "b" is fine but "x" is not: nothing is consumed
        #expect(try matcher.accept("b"))
        #expect(matcher.isAccepting && !matcher.isComplete)
        #expect(try matcher.accept("cc"))
    }

    @Test func completeMeansNothingCanFollow() throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: #"root ::= "a" "b"?"#))
        try matcher.accept("a")
        #expect(matcher.isAccepting && !matcher.isComplete)
        try matcher.accept("b")
        #expect(matcher.isComplete)
    }

    @Test func partialUTF8IsAcceptedOnlyWhenSomeCompletionMatches() throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: #"root ::= "中" | [α-γ]"#))  // 中 = E4 B8 AD, α-γ = CE B1..CE B3
        #expect(try matcher.accept([0xE4]))
        #expect(try !matcher.accept([0xB9]))  // E4 B9 .. is U+4E40.., not 中
        #expect(try matcher.accept([0xB8]))
        #expect(!matcher.isAccepting)
        #expect(try matcher.accept([0xAD]))
        #expect(matcher.isComplete)
        matcher.reset()
        #expect(try !matcher.accept([0xE5]))  // no completion of E5 is 中
        #expect(try matcher.accept([0xCE]))
        #expect(try !matcher.accept([0xB4]))  // δ
        #expect(try matcher.accept([0xB2]))
        #expect(matcher.isComplete)
    }

    @Test func invalidUTF8IsNeverAccepted() throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: "root ::= .*"))
        for bad: [UInt8] in [[0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80], [0xED, 0xA0], [0xF4, 0x90], [0xF5], [0xFF],
                             [0xC3, 0x41], [0xF0, 0x80]] {
            #expect(try !matcher.accept(bad), "\(bad)")
            matcher.reset()
        }
        #expect(try matcher.accept([0xF4, 0x8F, 0xBF, 0xBF, 0xED, 0x9F, 0xBF]))  // U+10FFFF, U+D7FF
        #expect(matcher.isAccepting)
    }

    @Test func nestingBeyondTheStackLimitIsADeadEndNotACrash() throws {
        let matcher = GrammarMatcher(try Grammar(gbnf: "root ::= \"[\" root \"]\" | \"x\""))
        let limit = GrammarLimits.maxStackDepth
        #expect(try matcher.accept(String(repeating: "[", count: limit - 10)))
        #expect(try !matcher.accept(String(repeating: "[", count: 20)))
        matcher.reset()
        let fine = String(repeating: "[", count: 100) + "x" + String(repeating: "]", count: 100)
        #expect(try matcher.matches(fine))
    }

    @Test func ambiguityBeyondTheStackLimitFailsLoudly() throws {
        // Every "a" can start a new nested group or close one: the stacks multiply.
        let grammar = try Grammar(gbnf: "root ::= x*\nx ::= \"a\" | \"a\" x \"b\" | \"a\" x x \"c\" | \"a\" x x x \"d\"")
        let matcher = GrammarMatcher(grammar)
        var failed = false
        for _ in 0..<64 {
            do { _ = try matcher.accept("a") } catch {
                #expect(error.status == .unsupported)
                failed = true
                break
            }
        }
        #expect(failed)
    }

    @Test func oneOperationCannotGrowTheTablesWithoutBound() throws {
        // 131,072 distinct positions fed in a single call: no flush point in between.
        let matcher = GrammarMatcher(try Grammar(gbnf: "root ::= \"a\"{65536} \"b\"{65536} \"c\"*"))
        let text = String(repeating: "a", count: 65536) + String(repeating: "b", count: 65536)
        do {
            _ = try matcher.accept(text)
            Issue.record("no error")
        } catch {
            #expect(error.status == .unsupported && error.message.contains("parse states"), "\(error.message)")
        }
        // Byte by byte, the tables are flushed between calls and the text is fine.
        let stepwise = GrammarMatcher(try Grammar(gbnf: "root ::= \"a\"{65536} \"b\"{65536} \"c\"*"))
        for byte in text.utf8 { #expect(try stepwise.accept([byte])) }
        #expect(stepwise.isAccepting)
    }

    @Test func longInputsReuseStates() throws {
        // Repetition sits in tail position: 10k characters in 10k+ states at most, and a bounded stack.
        let matcher = GrammarMatcher(try Grammar(gbnf: "root ::= ([a-z] | \" \")* \".\""))
        for _ in 0..<10_000 { #expect(try matcher.accept("ab ")) }
        #expect(try matcher.accept("."))
        #expect(matcher.isComplete)
    }
}
