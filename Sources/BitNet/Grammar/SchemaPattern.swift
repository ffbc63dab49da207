/// A JSON Schema `pattern` (a regular expression in the dialect of Python's
/// `re` and ECMA-262, without lookaround, backreferences or flags) as GBNF
/// for the *inside* of a JSON string: each character the expression allows
/// is written as JSON would escape it (`"` as `\"`, control characters as
/// `\u00XX`), so the decoded string is what the expression matches.
///
/// Validators search for the pattern anywhere in the string: a branch not
/// anchored with `^` may be preceded, one without `$` followed, by any text.
/// Where Python's classes are wider than ASCII (`\d` matches every Unicode
/// digit, `\w` every letter), the grammar uses the ASCII part, and negated
/// forms (`\D`, `[^\w]`) only ASCII, so that a generated character can never
/// fall on the wrong side of a Unicode class.
struct SchemaPattern {
    indirect enum Node {
        case characters(CodePointSet)
        case sequence([Node])
        case choice([Node])
        case repetition(Node, min: Int, max: Int?)
        case start, end
    }

    private let text: [Unicode.Scalar]
    private var index = 0
    private var depth = 0
    private let pointer: String

    static let ascii = CodePointSet(ranges: [(0, 0x7F)])
    static let digits = CodePointSet(ranges: [(0x30, 0x39)])
    static let word = CodePointSet(ranges: [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)])
    static let space = CodePointSet(ranges: [(0x09, 0x0D), (0x20, 0x20)])

    /// GBNF for the string contents matching `pattern`; `anyCharacter` is the
    /// rule name of one JSON string character (for unanchored ends).
    static func grammar(_ pattern: String, anyCharacter: String, pointer: String) throws(BitNetError) -> String {
        var parser = SchemaPattern(text: Array(pattern.unicodeScalars), pointer: pointer)
        let tree = try parser.parseChoice()
        guard parser.index == parser.text.count else { throw parser.error("unmatched )") }
        let branches: [Node]
        if case .choice(let list) = tree { branches = list } else { branches = [tree] }
        var out: [String] = []
        for branch in branches {
            var items: [Node]
            if case .sequence(let list) = branch { items = list } else { items = [branch] }
            let anchoredStart = items.first.map { if case .start = $0 { return true } else { return false } } ?? false
            if anchoredStart { items.removeFirst() }
            let anchoredEnd = items.last.map { if case .end = $0 { return true } else { return false } } ?? false
            if anchoredEnd { items.removeLast() }
            var pieces: [String] = []
            if !anchoredStart { pieces.append(anyCharacter + "*") }
            for item in items { pieces.append(try parser.emit(item)) }
            if !anchoredEnd { pieces.append(anyCharacter + "*") }
            out.append("(" + pieces.filter { !$0.isEmpty }.joined(separator: " ") + ")")
        }
        return out.count == 1 ? out[0] : "(" + out.joined(separator: " | ") + ")"
    }

    private init(text: [Unicode.Scalar], pointer: String) {
        self.text = text
        self.pointer = pointer
    }

    private func error(_ message: String) -> BitNetError {
        .invalidArgument("json_schema \(pointer): pattern: \(message) (at character \(index + 1))")
    }

    private var current: Unicode.Scalar? { index < text.count ? text[index] : nil }

    // MARK: - Parsing

    private mutating func parseChoice() throws(BitNetError) -> Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= GrammarLimits.maxNesting else { throw error("groups nested deeper than \(GrammarLimits.maxNesting)") }
        var branches = [try parseSequence()]
        while current == "|" {
            index += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .choice(branches)
    }

    private mutating func parseSequence() throws(BitNetError) -> Node {
        var items: [Node] = []
        while let c = current, c != "|", c != ")" {
            var atom = try parseAtom()
            var wraps = 0
            while let (min, max) = try parseQuantifier() {
                if case .start = atom { throw error("quantifier after an anchor") }
                if case .end = atom { throw error("quantifier after an anchor") }
                wraps += 1
                guard depth + wraps <= GrammarLimits.maxNesting else { throw error("too many quantifiers") }
                atom = .repetition(atom, min: min, max: max)
            }
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseQuantifier() throws(BitNetError) -> (Int, Int?)? {
        guard let c = current else { return nil }
        var result: (Int, Int?)
        switch c {
        case "*": index += 1; result = (0, nil)
        case "+": index += 1; result = (1, nil)
        case "?": index += 1; result = (0, 1)
        case "{":
            // {m}, {m,}, {,n}, {m,n}; anything else is a literal brace.
            let start = index
            index += 1
            let low = readNumber()
            var high = low
            var comma = false
            if current == "," {
                index += 1
                comma = true
                high = readNumber()
            }
            guard current == "}", low != nil || (comma && high != nil) else { index = start; return nil }
            index += 1
            let min = low ?? 0
            let max = high
            guard min <= GrammarLimits.maxRepetition, (max ?? 0) <= GrammarLimits.maxRepetition else {
                throw error("repetition count above the limit of \(GrammarLimits.maxRepetition)")
            }
            if let max, max < min { throw error("repetition {\(min),\(max)} has its maximum below its minimum") }
            result = (min, max)
        default:
            return nil
        }
        if current == "?" { index += 1 }  // lazy: same language
        else if current == "+" { throw error("possessive quantifiers are not supported") }
        return result
    }

    private mutating func readNumber() -> Int? {
        let start = index
        var value = 0
        while let c = current, c >= "0" && c <= "9" {
            value = min(value * 10 + Int(c.value - 48), Int(Int32.max))
            index += 1
        }
        return index > start ? value : nil
    }

    private mutating func parseAtom() throws(BitNetError) -> Node {
        let c = current!
        index += 1
        switch c {
        case "^": return .start
        case "$": return .end
        case ".": return .characters(CodePointSet.all.subtracting(CodePointSet(0x0A)))
        case "[": return .characters(try parseClass())
        case "(":
            if current == "?" {
                index += 1
                switch current {
                case ":": index += 1
                case "P":
                    index += 1
                    guard current == "<" else { throw error("(?P=name) backreferences are not supported") }
                    try skipGroupName()
                case "<":
                    if let next = index + 1 < text.count ? text[index + 1] : nil, next == "=" || next == "!" {
                        throw error("lookbehind is not supported")
                    }
                    try skipGroupName()
                case "=", "!": throw error("lookahead is not supported")
                case "#":
                    while let d = current, d != ")" { _ = d; index += 1 }
                    guard current == ")" else { throw error("unterminated comment") }
                    index += 1
                    return .sequence([])
                default: throw error("inline flags and other (? groups are not supported")
                }
            }
            let inner = try parseChoice()
            guard current == ")" else { throw error("missing )") }
            index += 1
            return inner
        case ")": throw error("unmatched )")
        case "*", "+", "?": throw error("nothing to repeat")
        case "\\": return try parseEscape(inClass: false)
        default: return .characters(CodePointSet(c.value))
        }
    }

    private mutating func skipGroupName() throws(BitNetError) {
        index += 1  // <
        while let c = current, c != ">" { _ = c; index += 1 }
        guard current == ">" else { throw error("unterminated group name") }
        index += 1
    }

    private mutating func parseEscape(inClass: Bool) throws(BitNetError) -> Node {
        guard let e = current else { throw error("pattern ends with a backslash") }
        index += 1
        switch e {
        case "d": return .characters(Self.digits)
        case "w": return .characters(Self.word)
        case "s": return .characters(Self.space)
        case "D": return .characters(Self.ascii.subtracting(Self.digits))
        case "W": return .characters(Self.ascii.subtracting(Self.word))
        case "S": return .characters(Self.ascii.subtracting(Self.space))
        case "n": return .characters(CodePointSet(0x0A))
        case "t": return .characters(CodePointSet(0x09))
        case "r": return .characters(CodePointSet(0x0D))
        case "f": return .characters(CodePointSet(0x0C))
        case "v": return .characters(CodePointSet(0x0B))
        case "a": return .characters(CodePointSet(0x07))
        case "0": return .characters(CodePointSet(0))
        case "x": return .characters(CodePointSet(try hex(2)))
        case "u": return .characters(CodePointSet(try hex(4)))
        case "U": return .characters(CodePointSet(try hex(8)))
        case "A" where !inClass: return .start
        case "Z" where !inClass, "z" where !inClass: return .end
        case "b" where inClass: return .characters(CodePointSet(0x08))
        case "1"..."9", "k": throw error("backreferences are not supported")
        case "b", "B": throw error("word boundaries are not supported")
        default:
            // Escaped punctuation stands for itself; an unknown letter is an error, as in Python.
            if e.properties.isAlphabetic { throw error("unknown escape \\\(e)") }
            return .characters(CodePointSet(e.value))
        }
    }

    private mutating func hex(_ count: Int) throws(BitNetError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let c = current, let digit = GBNFParser.hexValue(c) else { throw error("expected \(count) hex digits") }
            value = value &* 16 &+ digit
            index += 1
        }
        guard value <= CodePointSet.maxCodePoint, !(0xD800...0xDFFF).contains(value) else {
            throw error("escape is not a Unicode scalar value")
        }
        return value
    }

    private mutating func parseClass() throws(BitNetError) -> CodePointSet {
        var negated = false
        if current == "^" { negated = true; index += 1 }
        var set = CodePointSet.none
        var unicodeSensitive = false
        var first = true
        while true {
            guard let c = current else { throw error("unterminated character class") }
            if c == "]" && !first { index += 1; break }
            first = false
            var low: UInt32
            index += 1
            if c == "\\" {
                let escaped = current
                guard case .characters(let part) = try parseEscape(inClass: true) else { throw error("bad escape in a class") }
                if let escaped, "dwsDWS".unicodeScalars.contains(escaped) {
                    unicodeSensitive = true
                    set = set.union(part)
                    continue
                }
                low = part.ranges[0].0
            } else {
                low = c.value
            }
            var high = low
            if current == "-", index + 1 < text.count, text[index + 1] != "]" {
                index += 1
                let d = current!
                index += 1
                if d == "\\" {
                    guard case .characters(let part) = try parseEscape(inClass: true), part.rangeCount == 1,
                          part.ranges[0].0 == part.ranges[0].1 else { throw error("bad range in a class") }
                    high = part.ranges[0].0
                } else {
                    high = d.value
                }
                guard high >= low else { throw error("bad character range") }
            }
            set = set.union(CodePointSet(ranges: [(low, high)]))
        }
        guard negated else { return set }
        return unicodeSensitive ? Self.ascii.subtracting(set) : set.complement
    }

    // MARK: - GBNF

    private func emit(_ node: Node) throws(BitNetError) -> String {
        switch node {
        case .characters(let set): return try Self.jsonCharacters(set, pointer: pointer)
        case .sequence(let items):
            let parts = try items.map { (item) throws(BitNetError) -> String in try emit(item) }.filter { !$0.isEmpty }
            return parts.isEmpty ? "" : "(" + parts.joined(separator: " ") + ")"
        case .choice(let branches):
            let parts = try branches.map { (item) throws(BitNetError) -> String in try emit(item) }
            return "(" + parts.map { $0.isEmpty ? "\"\"" : $0 }.joined(separator: " | ") + ")"
        case .repetition(let inner, let min, let max):
            let body = try emit(inner)
            if body.isEmpty { return "" }
            if let max { return min == max ? "\(body){\(min)}" : "\(body){\(min),\(max)}" }
            return "\(body){\(min),}"
        case .start, .end:
            throw error("anchors (^, $) are supported only at the start and end of the pattern or of a top-level branch")
        }
    }

    /// One code point of `set`, as it appears inside a JSON string.
    static func jsonCharacters(_ set: CodePointSet, pointer: String) throws(BitNetError) -> String {
        let controls = CodePointSet(ranges: [(0, 0x1F)])
        let plain = set.subtracting(controls).subtracting(CodePointSet(ranges: [(0x22, 0x22), (0x5C, 0x5C)]))
        var parts: [String] = []
        if !plain.isEmpty { parts.append(GBNFWriter.characterClass(plain)) }
        if set.contains(0x22) { parts.append("\"\\\\\\\"\"") }  // \"
        if set.contains(0x5C) { parts.append("\"\\\\\\\\\"") }  // \\
        let inControls = set.intersection(controls)
        if inControls == controls {
            parts.append("\"\\\\u00\" [01] [0-9a-fA-F]")
        } else {
            for (low, high) in inControls.ranges {
                for c in low...high {
                    let hex = String(c, radix: 16)
                    parts.append("\"\\\\u00" + (hex.count == 1 ? "0" : "") + hex + "\"")
                }
            }
        }
        guard !parts.isEmpty else { throw BitNetError.invalidArgument("json_schema \(pointer): pattern: an empty character class matches nothing") }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " | ") + ")"
    }
}

/// Helpers for writing GBNF text.
enum GBNFWriter {
    /// A GBNF string literal for `text` (other control characters as \xHH).
    static func literal(_ text: String) -> String { doubleQuoted(text) { escape($0) } }

    static func escape(_ c: UInt32) -> String {
        let hex = String(c, radix: 16)
        if c <= 0xFF { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if c <= 0xFFFF { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// `[...]` for a set (as a negated class when that is shorter).
    static func characterClass(_ set: CodePointSet) -> String {
        // Surrogates never occur in text: leave them out so no class bound is one.
        let surrogates = CodePointSet(ranges: [(0xD800, 0xDFFF)])
        let set = set.subtracting(surrogates)
        let complement = set.complement.subtracting(surrogates)
        if complement.rangeCount < set.rangeCount {
            return "[^" + members(complement) + "]"
        }
        return "[" + members(set) + "]"
    }

    private static func members(_ set: CodePointSet) -> String {
        var out = ""
        for (low, high) in set.ranges {
            out += member(low)
            if high > low { out += (high > low + 1 ? "-" : "") + member(high) }
        }
        return out
    }

    private static func member(_ c: UInt32) -> String {
        switch c {
        case 0x5C: return "\\\\"
        case 0x5D: return "\\]"
        case 0x5B: return "\\["
        case 0x5E: return "\\^"
        case 0x2D: return "\\-"
        default:
            if c < 0x20 || c == 0x7F || (0x80...0x9F).contains(c) { return escape(c) }
            return String(Unicode.Scalar(c)!)
        }
    }
}
