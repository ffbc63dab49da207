import Testing
@testable import BitNet

/// The pushdown matcher against a plain reference twin: a memoised
/// recursive matcher over the parsed expressions (sets of end positions),
/// on random grammars and random strings — both complete matches and
/// "is this a valid prefix".
@Suite struct GrammarReferenceTests {
    /// Sets of end positions; `prefixMark` means "the input ran out inside".
    struct Reference {
        let rules: [String: GrammarExpression]
        let text: [UInt32]
        var prefixMark: Int { text.count + 1 }
        var memo: [String: [Int: Set<Int>]] = [:]

        mutating func ends(_ expression: GrammarExpression, _ start: Int) -> Set<Int> {
            switch expression {
            case .characters(let set):
                if start == text.count { return set.isEmpty ? [] : [prefixMark] }
                return set.contains(text[start]) ? [start + 1] : []
            case .reference(let name, _):
                if let known = memo[name]?[start] { return known }
                let result = ends(rules[name]!, start)
                memo[name, default: [:]][start] = result
                return result
            case .sequence(let items):
                var positions: Set<Int> = [start]
                var result: Set<Int> = []
                for item in items {
                    var next: Set<Int> = []
                    for p in positions { next.formUnion(ends(item, p)) }
                    if next.remove(prefixMark) != nil { result.insert(prefixMark) }
                    positions = next
                }
                return result.union(positions)
            case .choice(let branches):
                return branches.reduce(into: Set<Int>()) { $0.formUnion(ends($1, start)) }
            case .repetition(let inner, let min, let max):
                var frontier: Set<Int> = [start]
                var result: Set<Int> = []
                var count = 0
                while true {
                    if count >= min {
                        let before = result.count
                        result.formUnion(frontier)
                        if max == nil && result.count == before && count > min { break }
                    }
                    if let max, count == max { break }
                    var next: Set<Int> = []
                    for p in frontier where p != prefixMark { next.formUnion(ends(inner, p)) }
                    if next.remove(prefixMark) != nil { result.insert(prefixMark) }
                    if next.isEmpty { break }
                    frontier = next
                    count += 1
                }
                return result
            }
        }
    }

    /// A random grammar whose rules only call later rules (no recursion, so
    /// the reference terminates) and whose every rule matches something.
    struct Generator {
        var random: RandomGenerator
        let alphabet: [String] = ["a", "b", "c", "é", "中", "\\n"]

        mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        mutating func chance(_ percent: Int) -> Bool { Int(random.next() % 100) < percent }

        mutating func expression(depth: Int, rule: Int, rules: Int) -> String {
            var base: String
            let roll = Int(random.next() % 100)
            if depth > 2 || roll < 30 {
                base = "\"" + (0..<Int(1 + random.next() % 3)).map { _ in pick(alphabet) }.joined() + "\""
            } else if roll < 45 {
                base = pick(["[a-b]", "[^a]", "[a-c中]", "[é-ë]", ".", "[^a-c\\n]"])
            } else if roll < 60, rule + 1 < rules {
                base = "r\(rule + 1 + Int(random.next() % UInt64(rules - rule - 1)))"
            } else if roll < 80 {
                let count = 1 + Int(random.next() % 3)
                base = "(" + (0..<count).map { _ in expression(depth: depth + 1, rule: rule, rules: rules) }.joined(separator: " ") + ")"
            } else {
                let count = 2 + Int(random.next() % 2)
                base = "(" + (0..<count).map { _ in expression(depth: depth + 1, rule: rule, rules: rules) }.joined(separator: " | ") + ")"
            }
            if chance(35) {
                base += pick(["*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}", "{,1}"])
            }
            return base
        }

        mutating func grammar() -> String {
            let rules = 1 + Int(random.next() % 4)
            return (0..<rules).map { index in
                let name = index == 0 ? "root" : "r\(index)"
                let body = (0..<(1 + Int(random.next() % 2))).map { _ in
                    (0..<(1 + Int(random.next() % 3))).map { _ in expression(depth: 0, rule: index, rules: rules) }
                        .joined(separator: " ")
                }.joined(separator: " | ")
                return "\(name) ::= \(body)"
            }.joined(separator: "\n")
        }

        mutating func text() -> String {
            let letters = ["a", "b", "c", "é", "中", "\n", "x", "ë"]
            return (0..<Int(random.next() % 7)).map { _ in pick(letters) }.joined()
        }
    }

    @Test func matcherAgreesWithTheReferenceOnRandomGrammars() throws {
        var generator = Generator(random: RandomGenerator(seed: 20))
        var checked = 0, complete = 0, prefixes = 0
        for _ in 0..<400 {
            let text = generator.grammar()
            let grammar = try Grammar(gbnf: text)
            let rules = try GBNFParser.parse(text)
            let table = Dictionary(uniqueKeysWithValues: rules.map { ($0.name, $0.body) })
            let matcher = GrammarMatcher(grammar)
            for _ in 0..<60 {
                let sample = generator.text()
                let scalars = sample.unicodeScalars.map(\.value)
                var reference = Reference(rules: table, text: scalars)
                let ends = reference.ends(table["root"]!, 0)
                let isComplete = ends.contains(scalars.count)
                let isPrefix = isComplete || ends.contains(reference.prefixMark)
                matcher.reset()
                let accepted = try matcher.accept(sample.utf8)
                #expect(accepted == isPrefix, "prefix \(sample.debugDescription) of\n\(text)")
                #expect(try matcher.matches(sample) == isComplete, "match \(sample.debugDescription) of\n\(text)")
                checked += 1
                if isComplete { complete += 1 }
                if isPrefix { prefixes += 1 }
            }
        }
        // The random texts must exercise all three outcomes, not only rejections.
        #expect(complete > 500 && prefixes > 2000 && checked - prefixes > 2000, "\(complete) \(prefixes) \(checked)")
    }
}
