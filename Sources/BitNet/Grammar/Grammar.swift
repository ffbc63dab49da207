/// A compiled grammar that constrains generation: GBNF text, or a JSON
/// Schema turned into GBNF (`Grammar(jsonSchema:)`).
///
/// Compiling checks everything up front — syntax, undefined rules, left
/// recursion, `GrammarLimits` — so an invalid grammar fails here with
/// BITNET_E_INVALID_ARGUMENT and a `line:column` (GBNF) or JSON pointer
/// (schema) in the message, never in the middle of a generation.
public struct Grammar: Sendable {
    let program: GrammarProgram
    /// The GBNF text the grammar was compiled from (for a schema: the generated grammar).
    public let gbnf: String

    /// Parses a grammar in llama.cpp's GBNF (start rule `root`).
    /// - Throws: ``BitNetError`` with ``Status/invalidArgument`` and the position of a syntax error.
    public init(gbnf: String) throws(BitNetError) {
        let rules = try GBNFParser.parse(gbnf)
        program = try GrammarCompiler.compile(rules, text: gbnf)
        self.gbnf = gbnf
    }

    /// Rules after compilation (groups and repetitions add their own).
    package var ruleCount: Int { program.ruleCount }
}

/// Feeds bytes to a grammar and tells whether they are still a prefix of
/// some string of its language, and whether they are a whole one.
///
/// A reference type: the matcher caches what it learns about the grammar
/// (each distinct parse state and byte transition), so it is meant to be
/// fed many times. Not thread-safe.
package final class GrammarMatcher {
    private let automaton: GrammarAutomaton
    private var state: Int32

    package init(_ grammar: Grammar) {
        automaton = GrammarAutomaton(grammar.program)
        state = automaton.initialState
    }

    /// Consumes `bytes` if the text stays a valid prefix and returns true;
    /// otherwise returns false and leaves the matcher as it was. Throws when
    /// the grammar exceeds a matcher limit (`GrammarLimits`).
    @discardableResult
    package func accept(_ bytes: some Sequence<UInt8>) throws(BitNetError) -> Bool {
        if automaton.isOverBudget {
            let content = automaton.content(of: state)
            automaton.reset()
            state = automaton.state(for: content)
        }
        let next = automaton.step(state, bytes)
        if let failure = automaton.failure { throw .unsupported("grammar: \(failure)") }
        guard next >= 0 else { return false }
        state = next
        return true
    }

    @discardableResult
    package func accept(_ text: String) throws(BitNetError) -> Bool { try accept(text.utf8) }

    /// The text so far is a complete string of the language.
    package var isAccepting: Bool { automaton.isAccepting(state) }

    /// Complete, and no longer text would be.
    package var isComplete: Bool { automaton.isComplete(state) }

    /// Back to the empty text.
    package func reset() { state = automaton.initialState }

    /// Whether `text` as a whole is in the language (the matcher's own text is untouched).
    package func matches(_ text: String) throws(BitNetError) -> Bool {
        let end = automaton.step(automaton.initialState, text.utf8)
        if let failure = automaton.failure { throw .unsupported("grammar: \(failure)") }
        return end >= 0 && automaton.isAccepting(end)
    }
}
