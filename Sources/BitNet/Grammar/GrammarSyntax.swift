/// The parsed form of a GBNF grammar, before it is compiled for matching.
indirect enum GrammarExpression: Sendable {
    /// One code point from the set (a class, `.`, or one character of a literal).
    case characters(CodePointSet)
    /// Another rule, by name; `offset` is where the name stands (for errors).
    case reference(String, offset: Int)
    /// Each part in turn; empty = the empty string.
    case sequence([GrammarExpression])
    /// Any one of the branches.
    case choice([GrammarExpression])
    /// `min` to `max` (nil = unbounded) repetitions.
    case repetition(GrammarExpression, min: Int, max: Int?)
}

struct GrammarRuleSyntax: Sendable {
    var name: String
    var body: GrammarExpression
    /// Offset of the rule's name in the text.
    var offset: Int
}

/// A line:column position (1-based; columns count code points).
struct GrammarTextPosition: Sendable, Hashable, CustomStringConvertible {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of `offset` in `scalars`.
    init(offset: Int, in scalars: [Unicode.Scalar]) {
        var line = 1, column = 1
        for scalar in scalars[..<min(offset, scalars.count)] {
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        self.init(line: line, column: column)
    }

    var description: String { "\(line):\(column)" }
}
