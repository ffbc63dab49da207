/// A grammar compiled for matching: every rule is a list of alternatives,
/// every alternative a run of elements in one flat array ended by `end`.
///
/// An element is a terminal (one code point from a `CodePointSet`) or a call
/// of a rule. Groups become rules of their own; `x{m,n}` becomes m copies of
/// x followed by a chain of optional rules (`O1 ::= x | ε`,
/// `Ok ::= x Ok-1 | ε`) and `x*` a right-recursive rule (`S ::= x S | ε`),
/// so a matcher position is just an index here and repetition needs no
/// counters. Those calls sit at the end of their alternatives, where the
/// matcher pushes no return address, so repetition never deepens the stack.
struct GrammarProgram: Sendable {
    /// Top two bits: `Kind`; the rest: a terminal's set index or a rule id.
    var elements: [UInt32] = []
    /// Alternatives of rule r: `alternativeStarts[ruleAlternatives[r] ..< ruleAlternatives[r + 1]]`.
    var ruleAlternatives: [Int32] = [0]
    /// Element index where each alternative begins.
    var alternativeStarts: [Int32] = []
    var sets: [CodePointSet] = []
    /// Names for messages; generated rules are named after the rule they came from.
    var ruleNames: [String] = []
    var root: Int32 = 0

    enum Kind: UInt32 {
        case end = 0, terminal = 1, call = 2
    }

    @inline(__always) static func kind(_ element: UInt32) -> Kind { Kind(rawValue: element >> 30)! }
    @inline(__always) static func payload(_ element: UInt32) -> Int { Int(element & 0x3FFF_FFFF) }
    static func element(_ kind: Kind, _ payload: Int) -> UInt32 { kind.rawValue << 30 | UInt32(payload) }

    var ruleCount: Int { ruleAlternatives.count - 1 }

    func alternatives(of rule: Int) -> ArraySlice<Int32> {
        alternativeStarts[Int(ruleAlternatives[rule])..<Int(ruleAlternatives[rule + 1])]
    }
}

/// Builds a `GrammarProgram` from parsed rules, checking references and left recursion.
struct GrammarCompiler {
    private let text: [Unicode.Scalar]
    private var program = GrammarProgram()
    /// Each rule's alternatives while building (flattened at the end).
    private var bodies: [[[UInt32]]] = []
    private var setIndex: [CodePointSet: Int] = [:]
    private var ruleIDs: [String: Int] = [:]
    private var starRules: [UInt32: Int] = [:]
    private var optionalChains: [UInt32: [Int]] = [:]
    private var elementCount = 0
    /// Rule whose body is being compiled, for naming generated rules.
    private var currentRule = 0

    static func compile(_ rules: [GrammarRuleSyntax], text: String) throws(BitNetError) -> GrammarProgram {
        var compiler = GrammarCompiler(text: Array(text.unicodeScalars))
        return try compiler.run(rules)
    }

    private init(text: [Unicode.Scalar]) { self.text = text }

    private func error(_ message: String, at offset: Int) -> BitNetError {
        .invalidArgument("grammar \(GrammarTextPosition(offset: offset, in: text)): \(message)")
    }

    private mutating func run(_ rules: [GrammarRuleSyntax]) throws(BitNetError) -> GrammarProgram {
        for rule in rules {
            ruleIDs[rule.name] = bodies.count
            bodies.append([])
            program.ruleNames.append(rule.name)
        }
        guard let root = ruleIDs["root"] else {
            throw .invalidArgument("grammar 1:1: there is no rule named 'root'")
        }
        program.root = Int32(root)
        for (id, rule) in rules.enumerated() {
            currentRule = id
            let branches: [GrammarExpression]
            if case .choice(let list) = rule.body { branches = list } else { branches = [rule.body] }
            var alternatives: [[UInt32]] = []
            for branch in branches {
                var run: [UInt32] = []
                try emit(branch, into: &run)
                alternatives.append(run)
            }
            bodies[id] = alternatives
        }
        flatten()
        try LeftRecursionCheck.run(program, offsets: rules.map(\.offset), text: text)
        return program
    }

    // MARK: - Emitting

    private mutating func count(_ added: Int) throws(BitNetError) {
        elementCount += added
        guard elementCount <= GrammarLimits.maxElements else {
            throw .invalidArgument("grammar: more than \(GrammarLimits.maxElements) elements once repetitions are expanded")
        }
    }

    private mutating func newRule(_ alternatives: [[UInt32]]) throws(BitNetError) -> Int {
        guard bodies.count < GrammarLimits.maxRules else {
            throw .invalidArgument("grammar: more than \(GrammarLimits.maxRules) rules once groups and repetitions are expanded")
        }
        bodies.append(alternatives)
        program.ruleNames.append("\(program.ruleNames[currentRule])-\(bodies.count)")
        try count(alternatives.reduce(0) { $0 + $1.count + 1 })
        return bodies.count - 1
    }

    private mutating func terminal(_ set: CodePointSet) -> UInt32 {
        if let index = setIndex[set] { return GrammarProgram.element(.terminal, index) }
        program.sets.append(set)
        setIndex[set] = program.sets.count - 1
        return GrammarProgram.element(.terminal, program.sets.count - 1)
    }

    private mutating func emit(_ expression: GrammarExpression, into run: inout [UInt32]) throws(BitNetError) {
        switch expression {
        case .characters(let set):
            try count(1)
            run.append(terminal(set))
        case .reference(let name, let offset):
            guard let id = ruleIDs[name] else { throw error("undefined rule '\(name)'", at: offset) }
            try count(1)
            run.append(GrammarProgram.element(.call, id))
        case .sequence(let items):
            for item in items { try emit(item, into: &run) }
        case .choice(let branches):
            var alternatives: [[UInt32]] = []
            for branch in branches {
                var inner: [UInt32] = []
                try emit(branch, into: &inner)
                alternatives.append(inner)
            }
            try count(1)
            run.append(GrammarProgram.element(.call, try newRule(alternatives)))
        case .repetition(let inner, let min, let max):
            guard let unit = try singleElement(inner) else { return }  // repeating nothing is nothing
            try count(min)
            run.append(contentsOf: repeatElement(unit, count: min))
            if let max {
                if max > min {
                    try count(1)
                    run.append(GrammarProgram.element(.call, try optionalChain(unit, length: max - min)))
                }
            } else {
                try count(1)
                run.append(GrammarProgram.element(.call, try starRule(unit)))
            }
        }
    }

    /// `expression` as one element: itself when it is a terminal or a call,
    /// else a new rule; nil when it matches only the empty string.
    private mutating func singleElement(_ expression: GrammarExpression) throws(BitNetError) -> UInt32? {
        var run: [UInt32] = []
        try emit(expression, into: &run)
        if run.isEmpty { return nil }
        if run.count == 1 { return run[0] }
        return GrammarProgram.element(.call, try newRule([run]))
    }

    /// `S ::= unit S | ε`, shared by every `unit*`.
    private mutating func starRule(_ unit: UInt32) throws(BitNetError) -> Int {
        if let rule = starRules[unit] { return rule }
        let rule = try newRule([[], []])
        bodies[rule][0] = [unit, GrammarProgram.element(.call, rule)]
        starRules[unit] = rule
        return rule
    }

    /// The rule matching 0 to `length` units, built on the shorter ones.
    private mutating func optionalChain(_ unit: UInt32, length: Int) throws(BitNetError) -> Int {
        var chain = optionalChains[unit] ?? []
        while chain.count < length {
            var first = [unit]
            if let shorter = chain.last { first.append(GrammarProgram.element(.call, shorter)) }
            chain.append(try newRule([first, []]))
        }
        optionalChains[unit] = chain
        return chain[length - 1]
    }

    private mutating func flatten() {
        for alternatives in bodies {
            for run in alternatives {
                program.alternativeStarts.append(Int32(program.elements.count))
                program.elements.append(contentsOf: run)
                program.elements.append(GrammarProgram.element(.end, 0))
            }
            program.ruleAlternatives.append(Int32(program.alternativeStarts.count))
        }
    }
}

/// Rejects grammars on which the matcher could loop forever: a rule that can
/// reach itself without consuming input through a call that is *not* the last
/// element of its alternative (`expr ::= expr "+" term`). Cycles made only of
/// calls in last position (`S ::= x? S | ε`) are harmless — they push nothing
/// and the matcher's closure sees each (position, stack) once — so they pass.
enum LeftRecursionCheck {
    static func run(_ program: GrammarProgram, offsets: [Int], text: [Unicode.Scalar]) throws(BitNetError) {
        let n = program.ruleCount
        let nullable = nullableRules(program)
        // Calls reachable without consuming input: (callee, isLastElement).
        var edges = [[(Int, Bool)]](repeating: [], count: n)
        for rule in 0..<n {
            for start in program.alternatives(of: rule) {
                var position = Int(start)
                while true {
                    let element = program.elements[position]
                    guard GrammarProgram.kind(element) == .call else { break }
                    let callee = GrammarProgram.payload(element)
                    let isLast = GrammarProgram.kind(program.elements[position + 1]) == .end
                    edges[rule].append((callee, isLast))
                    guard nullable[callee] else { break }
                    position += 1
                }
            }
        }
        let component = StronglyConnected.components(count: n, edges: edges.map { $0.map(\.0) })
        for rule in 0..<n {
            for (callee, isLast) in edges[rule] where !isLast && component[callee] == component[rule] {
                // Report against the named rule the cycle goes through.
                let named = (0..<offsets.count).first { component[$0] == component[rule] } ?? rule
                let offset = named < offsets.count ? offsets[named] : 0
                throw .invalidArgument("grammar \(GrammarTextPosition(offset: offset, in: text)): rule '\(program.ruleNames[named])' is left-recursive (it can reach itself without consuming input)")
            }
        }
    }

    /// Rules that can match the empty string (fixed point).
    static func nullableRules(_ program: GrammarProgram) -> [Bool] {
        var nullable = [Bool](repeating: false, count: program.ruleCount)
        var changed = true
        while changed {
            changed = false
            for rule in 0..<program.ruleCount where !nullable[rule] {
                for start in program.alternatives(of: rule) {
                    var position = Int(start)
                    var empty = true
                    while true {
                        let element = program.elements[position]
                        switch GrammarProgram.kind(element) {
                        case .end: break
                        case .terminal: empty = false
                        case .call: empty = nullable[GrammarProgram.payload(element)]
                        }
                        if GrammarProgram.kind(element) == .end || !empty { break }
                        position += 1
                    }
                    if empty {
                        nullable[rule] = true
                        changed = true
                        break
                    }
                }
            }
        }
        return nullable
    }
}

/// Tarjan's strongly connected components, iterative (rule graphs can be deep).
enum StronglyConnected {
    /// The component number of each vertex.
    static func components(count n: Int, edges: [[Int]]) -> [Int] {
        var index = [Int](repeating: -1, count: n)
        var low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var component = [Int](repeating: -1, count: n)
        var stack: [Int] = []
        var nextIndex = 0, nextComponent = 0
        var work: [(vertex: Int, edge: Int)] = []
        for root in 0..<n where index[root] < 0 {
            work.append((root, 0))
            index[root] = nextIndex; low[root] = nextIndex; nextIndex += 1
            stack.append(root); onStack[root] = true
            while let (vertex, edge) = work.last {
                if edge < edges[vertex].count {
                    work[work.count - 1].edge += 1
                    let next = edges[vertex][edge]
                    if index[next] < 0 {
                        index[next] = nextIndex; low[next] = nextIndex; nextIndex += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        low[vertex] = min(low[vertex], index[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.vertex { low[parent] = min(low[parent], low[vertex]) }
                if low[vertex] == index[vertex] {
                    while let top = stack.popLast() {
                        onStack[top] = false
                        component[top] = nextComponent
                        if top == vertex { break }
                    }
                    nextComponent += 1
                }
            }
        }
        return component
    }
}
