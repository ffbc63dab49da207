/// Parses GBNF, llama.cpp's grammar notation:
///
///     root   ::= object                      # a comment
///     object ::= "{" ws ( pair ( "," ws pair )* )? "}"
///     pair   ::= [a-z]+ ":" ws [0-9]{1,3}
///     ws     ::= [ \t\n]*
///
/// Rules are `name ::= alternatives`, one per line (newlines are free inside
/// parentheses, after `::=` and after `|`; a line starting with `|` also
/// continues the rule above). Elements: "literals", [classes] with ranges and
/// `^` negation, `.` (any character), rule names, ( groups ), each optionally
/// followed by `*`, `+`, `?`, `{m}`, `{m,}`, `{,n}` or `{m,n}`. Escapes in
/// literals and classes: \n \t \r \\ \" \[ \] \- \^ \/ \xHH \uHHHH \UHHHHHHHH.
/// Errors carry the line and column (in code points) where parsing stopped.
struct GBNFParser {
    private let text: [Unicode.Scalar]
    private var index = 0
    private var depth = 0

    init(_ text: String) {
        self.text = Array(text.unicodeScalars)
    }

    static func parse(_ text: String) throws(BitNetError) -> [GrammarRuleSyntax] {
        guard text.utf8.count <= GrammarLimits.maxGrammarBytes else {
            throw .invalidArgument("grammar: \(text.utf8.count) bytes is more than the limit of \(GrammarLimits.maxGrammarBytes)")
        }
        var parser = GBNFParser(text)
        return try parser.parseRules()
    }

    // MARK: - Errors

    func error(_ message: String, at offset: Int? = nil) -> BitNetError {
        .invalidArgument("grammar \(GrammarTextPosition(offset: offset ?? index, in: text)): \(message)")
    }

    // MARK: - Characters

    private var atEnd: Bool { index >= text.count }
    private var current: Unicode.Scalar? { index < text.count ? text[index] : nil }
    private func peek(_ ahead: Int) -> Unicode.Scalar? { index + ahead < text.count ? text[index + ahead] : nil }

    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_": return true
        default: return false
        }
    }

    /// Skips blanks and comments; newlines only when `newlines` (inside
    /// groups, after `::=` and `|`, between rules).
    private mutating func skipSpace(newlines: Bool) {
        while let c = current {
            if c == " " || c == "\t" || (newlines && (c == "\n" || c == "\r")) {
                index += 1
            } else if c == "#" {
                while let d = current, d != "\n" && d != "\r" { _ = d; index += 1 }
            } else {
                return
            }
        }
    }

    // MARK: - Rules

    private mutating func parseRules() throws(BitNetError) -> [GrammarRuleSyntax] {
        var rules: [GrammarRuleSyntax] = []
        var seen: [String: Int] = [:]
        skipSpace(newlines: true)
        while !atEnd {
            let start = index
            let name = try parseName()
            skipSpace(newlines: false)
            guard current == ":", peek(1) == ":", peek(2) == "=" else { throw error("expected ::= after the rule name '\(name)'") }
            index += 3
            skipSpace(newlines: true)
            let body = try parseAlternatives(topLevel: true)
            if let c = current, c != "\n" && c != "\r" {
                throw error(c == ")" ? "unmatched )" : "expected the end of the line, found '\(c)'")
            }
            if let first = seen[name] {
                throw error("rule '\(name)' is defined twice (first at \(GrammarTextPosition(offset: first, in: text)))", at: start)
            }
            seen[name] = start
            rules.append(GrammarRuleSyntax(name: name, body: body, offset: start))
            guard rules.count <= GrammarLimits.maxRules else { throw error("more than \(GrammarLimits.maxRules) rules") }
            skipSpace(newlines: true)
        }
        return rules
    }

    private mutating func parseName() throws(BitNetError) -> String {
        let start = index
        while let c = current, Self.isNameCharacter(c) { index += 1 }
        guard index > start else {
            if let c = current { throw error("expected a rule name, found '\(c)'") }
            throw error("expected a rule name")
        }
        var name = ""
        name.unicodeScalars.append(contentsOf: text[start..<index])
        return name
    }

    // MARK: - Expressions

    private mutating func parseAlternatives(topLevel: Bool) throws(BitNetError) -> GrammarExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= GrammarLimits.maxNesting else { throw error("groups nested deeper than \(GrammarLimits.maxNesting)") }
        var branches = [try parseSequence(topLevel: topLevel)]
        while true {
            if current == "|" {
                index += 1
                skipSpace(newlines: true)
                branches.append(try parseSequence(topLevel: topLevel))
                continue
            }
            // A rule may go on with "|" at the start of a following line.
            if topLevel, let c = current, c == "\n" || c == "\r" {
                let saved = index
                skipSpace(newlines: true)
                if current == "|" { continue }
                index = saved
            }
            break
        }
        return branches.count == 1 ? branches[0] : .choice(branches)
    }

    private mutating func parseSequence(topLevel: Bool) throws(BitNetError) -> GrammarExpression {
        var items: [GrammarExpression] = []
        while let c = current {
            if c == "|" || c == ")" || c == "\n" || c == "\r" { break }
            let start = index
            var item = try parsePrimary()
            skipSpace(newlines: !topLevel)
            var wraps = 0
            while let q = current, q == "*" || q == "+" || q == "?" || q == "{" {
                wraps += 1
                guard depth + wraps <= GrammarLimits.maxNesting else {
                    throw error("repetitions nested deeper than \(GrammarLimits.maxNesting)")
                }
                let (min, max) = try parseQuantifier()
                item = .repetition(item, min: min, max: max)
                skipSpace(newlines: !topLevel)
            }
            if case .reference(let name, _) = item, wraps == 0, current == ":", peek(1) == ":" {
                throw error("missing newline before the rule '\(name)'", at: start)
            }
            items.append(item)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parsePrimary() throws(BitNetError) -> GrammarExpression {
        guard let c = current else { throw error("unexpected end of grammar") }
        switch c {
        case "\"":
            index += 1
            var items: [GrammarExpression] = []
            while true {
                guard let d = current else { throw error("unterminated string literal") }
                if d == "\"" { index += 1; break }
                items.append(.characters(CodePointSet(try parseCharacter())))
            }
            return items.count == 1 ? items[0] : .sequence(items)
        case "[":
            return .characters(try parseClass())
        case ".":
            index += 1
            return .characters(.all)
        case "(":
            index += 1
            skipSpace(newlines: true)
            let inner = try parseAlternatives(topLevel: false)
            guard current == ")" else { throw error(atEnd ? "missing )" : "expected ), found '\(current!)'") }
            index += 1
            return inner
        case "<", "!":
            throw error("token references (<...>) are not supported")
        default:
            guard Self.isNameCharacter(c) else { throw error("unexpected '\(c)'") }
            let start = index
            return .reference(try parseName(), offset: start)
        }
    }

    private mutating func parseClass() throws(BitNetError) -> CodePointSet {
        index += 1  // [
        var negated = false
        if current == "^" {
            negated = true
            index += 1
        }
        var ranges: [(UInt32, UInt32)] = []
        while true {
            guard let c = current else { throw error("unterminated character class") }
            if c == "]" { index += 1; break }
            let lo = try parseCharacter()
            var hi = lo
            if current == "-", let next = peek(1), next != "]" {
                index += 1
                let rangeStart = index
                hi = try parseCharacter()
                guard hi >= lo else { throw error("range end is below its start", at: rangeStart) }
            }
            ranges.append((lo, hi))
        }
        let set = CodePointSet(ranges: ranges)
        return negated ? set.complement : set
    }

    /// One character of a literal or class: a code point or an escape.
    private mutating func parseCharacter() throws(BitNetError) -> UInt32 {
        guard let c = current else { throw error("unexpected end of grammar") }
        index += 1
        guard c == "\\" else { return c.value }
        guard let e = current else { throw error("unterminated escape") }
        index += 1
        switch e {
        case "n": return 0x0A
        case "t": return 0x09
        case "r": return 0x0D
        case "\\", "\"", "[", "]", "-", "^", "/", "'": return e.value
        case "x": return try parseHex(digits: 2)
        case "u": return try parseHex(digits: 4)
        case "U": return try parseHex(digits: 8)
        default: throw error("unknown escape '\\\(e)'", at: index - 2)
        }
    }

    private mutating func parseHex(digits: Int) throws(BitNetError) -> UInt32 {
        let start = index - 2
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = current, let digit = Self.hexValue(c) else {
                throw error("expected \(digits) hex digits in the escape", at: start)
            }
            value = value &* 16 &+ digit
            if value > CodePointSet.maxCodePoint && digits == 8 {
                throw error("escape is above U+10FFFF", at: start)
            }
            index += 1
        }
        guard value <= CodePointSet.maxCodePoint, !(0xD800...0xDFFF).contains(value) else {
            throw error("escape is not a Unicode scalar value", at: start)
        }
        return value
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 87
        case "A"..."F": return c.value - 55
        default: return nil
        }
    }

    private mutating func parseQuantifier() throws(BitNetError) -> (Int, Int?) {
        let c = current!
        index += 1
        switch c {
        case "*": return (0, nil)
        case "+": return (1, nil)
        case "?": return (0, 1)
        default: break
        }
        let start = index - 1
        skipSpace(newlines: false)
        let low = try parseCount()
        skipSpace(newlines: false)
        var high: Int?
        if current == "," {
            index += 1
            skipSpace(newlines: false)
            high = try parseCount()
            skipSpace(newlines: false)
        } else {
            guard low != nil else { throw error("expected a number in {}", at: start) }
            high = low
        }
        guard current == "}" else { throw error("expected } to close the repetition", at: start) }
        index += 1
        let min = low ?? 0
        if let high, high < min { throw error("repetition {\(min),\(high)} has its maximum below its minimum", at: start) }
        return (min, high)
    }

    private mutating func parseCount() throws(BitNetError) -> Int? {
        let start = index
        var value = 0
        while let c = current, c >= "0" && c <= "9" {
            value = value * 10 + Int(c.value - 48)
            guard value <= GrammarLimits.maxRepetition else {
                throw error("repetition count above the limit of \(GrammarLimits.maxRepetition)", at: start)
            }
            index += 1
        }
        return index > start ? value : nil
    }
}
