/// Matches a `GrammarProgram` incrementally, one byte at a time, as a
/// pushdown automaton whose configurations are interned so that each one is
/// a small integer and each (state, byte) step is computed once.
///
/// - A *stack* is a chain of nodes `(position, parent)`: the top's position
///   is the terminal to match next, each parent's the element to resume
///   after the call that pushed it. Nodes are hash-consed, so equal stacks
///   are the same node and a stack set is a sorted array of top nodes.
/// - A *closure* follows calls and returns from one position without
///   consuming input, collecting the stacks whose top is a terminal and
///   whether the root can be complete. It is memoised per (position, parent).
/// - A *state* is a stack set plus up to three bytes of an unfinished UTF-8
///   character. A partial character is kept only while some completion of it
///   can still match a terminal, so a byte prefix is accepted exactly when it
///   extends to a string of the language (bytes that can never be valid
///   UTF-8 are rejected).
/// - Transitions live in a dense table, 256 entries per state, filled on
///   first use: walking a token trie is then mostly one load per byte.
///
/// Not thread-safe; `GrammarTokenEngine` serialises access. Memory is bounded
/// by `reset()`, which the owner calls when `isOverBudget` (state ids from
/// before a reset are invalid; keep `content(of:)` to re-intern them).
final class GrammarAutomaton {
    let program: GrammarProgram
    static let dead: Int32 = -1
    /// A table entry not computed yet.
    static let unknownStep: Int32 = -2
    private static let unknown = unknownStep

    // Stack nodes.
    private var nodePosition: [Int32] = []
    private var nodeParent: [Int32] = []
    private var nodeDepth: [Int32] = []
    private var nodeIndex: [UInt64: Int32] = [:]
    // Closures: nodes of closure c are closureNodes[closureBounds[c] ..< closureBounds[c + 1]].
    private var closureIndex: [UInt64: Int32] = [:]
    private var closureBounds: [Int32] = [0]
    private var closureNodes: [Int32] = []
    private var closureAccepts: [Bool] = []
    // Stack sets, laid out like closures.
    private var setIndex: [[Int32]: Int32] = [:]
    private var setBounds: [Int32] = [0]
    private var setNodes: [Int32] = []
    private var setAccepts: [Bool] = []
    // States = (stack set, pending UTF-8 bytes).
    private var stateIndex: [UInt64: Int32] = [:]
    private var stateSet: [Int32] = []
    private var statePending: [UInt32] = []
    /// 256 entries per state: `unknown`, `dead` or the next state.
    private(set) var table: UnsafeMutablePointer<Int32>
    private var tableCapacity = 0
    /// Scratch for `advance`.
    private var gathered: [Int32] = []
    /// What `advance` produced for a stack set and the set of its stacks
    /// whose terminal matched (as bits): different code points that match the
    /// same stacks lead to the same state, so most bytes cost one lookup.
    private var advanceMemo: [UInt64: Int32] = [:]

    /// Set when a limit was exceeded (too many stacks, a runaway closure); the
    /// grammar cannot be matched reliably and the owner reports this.
    private(set) var failure: String?
    /// Incremented by `reset()`.
    private(set) var epoch = 0
    private(set) var initialState: Int32 = 0

    init(_ program: GrammarProgram) {
        self.program = program
        tableCapacity = 64
        table = .allocate(capacity: tableCapacity * 256)
        initialState = makeInitialState()
    }

    deinit { table.deallocate() }

    var stateCount: Int { stateSet.count }

    /// Whether the tables have outgrown `GrammarLimits` and should be reset.
    var isOverBudget: Bool {
        stateSet.count > GrammarLimits.maxCachedStates || nodePosition.count > 1 << 22
            || closureNodes.count + setNodes.count > 1 << 23
    }

    /// Drops every table; returns the new initial state.
    func reset() {
        nodePosition.removeAll(); nodeParent.removeAll(); nodeDepth.removeAll(); nodeIndex.removeAll()
        closureIndex.removeAll(); closureBounds = [0]; closureNodes.removeAll(); closureAccepts.removeAll()
        setIndex.removeAll(); setBounds = [0]; setNodes.removeAll(); setAccepts.removeAll()
        advanceMemo.removeAll()
        stateIndex.removeAll(); stateSet.removeAll(); statePending.removeAll()
        table.deallocate()
        tableCapacity = 64
        table = .allocate(capacity: tableCapacity * 256)
        epoch += 1
        failure = nil
        initialState = makeInitialState()
    }

    // MARK: - Queries

    /// The state after `byte`, or `dead`.
    @inline(__always)
    func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(state) &* 256 &+ Int(byte)
        let next = table[slot]
        return next != Self.unknown ? next : computeStep(state, byte, slot: slot)
    }

    /// The state after all of `bytes`, or `dead`.
    func step(_ state: Int32, _ bytes: some Sequence<UInt8>) -> Int32 {
        var current = state
        for byte in bytes {
            current = step(current, byte)
            if current < 0 { return Self.dead }
        }
        return current
    }

    /// The text so far is a complete string of the language.
    func isAccepting(_ state: Int32) -> Bool {
        statePending[Int(state)] == 0 && setAccepts[Int(stateSet[Int(state)])]
    }

    /// Accepting, and nothing can follow.
    func isComplete(_ state: Int32) -> Bool {
        let set = Int(stateSet[Int(state)])
        return isAccepting(state) && setBounds[set] == setBounds[set + 1]
    }

    // MARK: - State contents (to survive a reset)

    struct Content: Sendable, Hashable {
        /// Each stack's positions, bottom first.
        var stacks: [[Int32]]
        var accepts: Bool
        var pending: UInt32
    }

    func content(of state: Int32) -> Content {
        let set = Int(stateSet[Int(state)])
        var stacks: [[Int32]] = []
        for node in setNodes[Int(setBounds[set])..<Int(setBounds[set + 1])] {
            var positions: [Int32] = []
            var current = node
            while current >= 0 {
                positions.append(nodePosition[Int(current)])
                current = nodeParent[Int(current)]
            }
            stacks.append(positions.reversed())
        }
        return Content(stacks: stacks, accepts: setAccepts[set], pending: statePending[Int(state)])
    }

    func state(for content: Content) -> Int32 {
        var tops: [Int32] = []
        for stack in content.stacks {
            var parent: Int32 = -1
            for position in stack {
                guard let node = node(position, parent) else { return Self.dead }
                parent = node
            }
            tops.append(parent)
        }
        tops.sort()
        return state(set: internSet(tops, accepts: content.accepts), pending: content.pending)
    }

    // MARK: - Building blocks

    private func node(_ position: Int32, _ parent: Int32) -> Int32? {
        let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let existing = nodeIndex[key] { return existing }
        let depth = parent < 0 ? 1 : nodeDepth[Int(parent)] + 1
        guard depth <= GrammarLimits.maxStackDepth else { return nil }
        let id = Int32(nodePosition.count)
        nodePosition.append(position)
        nodeParent.append(parent)
        nodeDepth.append(depth)
        nodeIndex[key] = id
        return id
    }

    private func internSet(_ sortedTops: [Int32], accepts: Bool) -> Int32 {
        var key = sortedTops
        key.append(accepts ? -1 : -2)  // the flag is part of the identity
        if let existing = setIndex[key] { return existing }
        let id = Int32(setAccepts.count)
        setNodes.append(contentsOf: sortedTops)
        setBounds.append(Int32(setNodes.count))
        setAccepts.append(accepts)
        setIndex[key] = id
        return id
    }

    private func state(set: Int32, pending: UInt32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: set)) << 26 | UInt64(pending)
        if let existing = stateIndex[key] { return existing }
        guard stateSet.count < GrammarLimits.maxStatesPerOperation else {
            fail("more than \(GrammarLimits.maxStatesPerOperation) parse states at once (the grammar is too large to match against the vocabulary)")
            return Self.dead
        }
        let id = Int32(stateSet.count)
        stateSet.append(set)
        statePending.append(pending)
        stateIndex[key] = id
        if stateSet.count > tableCapacity {
            let grown = tableCapacity * 2
            let bigger = UnsafeMutablePointer<Int32>.allocate(capacity: grown * 256)
            bigger.update(from: table, count: tableCapacity * 256)
            table.deallocate()
            table = bigger
            tableCapacity = grown
        }
        (table + Int(id) * 256).initialize(repeating: Self.unknown, count: 256)
        return id
    }

    private func makeInitialState() -> Int32 {
        let seeds = program.alternatives(of: Int(program.root)).map { ($0, Int32(-1)) }
        let (tops, accepts) = explore(seeds)
        return state(set: internSet(tops, accepts: accepts), pending: 0)
    }

    /// The stacks reachable from (position, parent) without consuming input.
    private func closure(_ position: Int32, _ parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let existing = closureIndex[key] { return existing }
        let (tops, accepts) = explore([(position, parent)])
        let id = Int32(closureAccepts.count)
        closureNodes.append(contentsOf: tops)
        closureBounds.append(Int32(closureNodes.count))
        closureAccepts.append(accepts)
        closureIndex[key] = id
        return id
    }

    private func explore(_ seeds: [(Int32, Int32)]) -> (tops: [Int32], accepts: Bool) {
        var work = seeds
        var visited = Set<UInt64>()
        var tops: [Int32] = []
        var accepts = false
        var steps = 0
        let elements = program.elements
        while let (position, parent) = work.popLast() {
            let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
            guard visited.insert(key).inserted else { continue }
            steps += 1
            if steps > GrammarLimits.maxClosureSteps {
                fail("a closure took more than \(GrammarLimits.maxClosureSteps) steps")
                return ([], false)
            }
            let element = elements[Int(position)]
            switch GrammarProgram.kind(element) {
            case .end:
                if parent < 0 {
                    accepts = true
                } else {
                    work.append((nodePosition[Int(parent)], nodeParent[Int(parent)]))
                }
            case .terminal:
                if let top = node(position, parent) { tops.append(top) }
            case .call:
                let next = position + 1
                var returnTo = parent
                // A call in last position pushes nothing: repetition and tail
                // recursion keep the stack flat.
                if GrammarProgram.kind(elements[Int(next)]) != .end {
                    guard let pushed = node(next, parent) else { continue }
                    returnTo = pushed
                }
                for start in program.alternatives(of: GrammarProgram.payload(element)) {
                    work.append((start, returnTo))
                }
            }
        }
        if tops.count > GrammarLimits.maxStacksPerState {
            fail("more than \(GrammarLimits.maxStacksPerState) parse stacks at once (the grammar is too ambiguous)")
            return ([], false)
        }
        tops.sort()
        return (tops, accepts)
    }

    private func fail(_ message: String) {
        if failure == nil { failure = message }
    }

    // MARK: - Steps

    private func computeStep(_ state: Int32, _ byte: UInt8, slot: Int) -> Int32 {
        let result = failure == nil ? transition(state, byte) : Self.dead
        table[slot] = result  // `table` may have moved: index it afresh
        return result
    }

    private func transition(_ state: Int32, _ byte: UInt8) -> Int32 {
        let set = stateSet[Int(state)]
        let pending = statePending[Int(state)]
        let received = Int(pending >> 24)
        if received == 0 {
            if byte < 0x80 { return advance(set, UInt32(byte)) }
            guard UTF8Shape.length(lead: byte) > 1 else { return Self.dead }
            return partial(set, UInt32(byte) | 1 << 24)
        }
        let lead = UInt8(truncatingIfNeeded: pending)
        let allowed = received == 1 ? UTF8Shape.secondByteRange(lead: lead) : 0x80...0xBF
        guard allowed.contains(byte) else { return Self.dead }
        let bytes = pending & 0xFF_FFFF | UInt32(byte) << (8 * received)
        if received + 1 == UTF8Shape.length(lead: lead) {
            return advance(set, UTF8Shape.decode(bytes, count: received + 1))
        }
        return partial(set, bytes | UInt32(received + 1) << 24)
    }

    /// A state holding an unfinished character, or `dead` when no completion can match.
    private func partial(_ set: Int32, _ pending: UInt32) -> Int32 {
        let (low, high) = UTF8Shape.completions(pending & 0xFF_FFFF, received: Int(pending >> 24))
        for node in setNodes[Int(setBounds[Int(set)])..<Int(setBounds[Int(set) + 1])] {
            let element = program.elements[Int(nodePosition[Int(node)])]
            if program.sets[GrammarProgram.payload(element)].intersects(low, high) {
                return self.state(set: set, pending: pending)
            }
        }
        return Self.dead
    }

    /// Consumes one code point from every stack whose terminal accepts it.
    private func advance(_ set: Int32, _ codePoint: UInt32) -> Int32 {
        let first = Int(setBounds[Int(set)]), last = Int(setBounds[Int(set) + 1])
        var memoKey: UInt64?
        if last - first <= 38 {
            // 38 bits of "which stacks matched" + the set id (< 2^26 under the state budget).
            var matched: UInt64 = 0
            for index in first..<last {
                let element = program.elements[Int(nodePosition[Int(setNodes[index])])]
                if program.sets[GrammarProgram.payload(element)].contains(codePoint) { matched |= 1 << UInt64(index - first) }
            }
            if matched == 0 { return Self.dead }
            let key = UInt64(UInt32(bitPattern: set)) << 38 | matched
            if let known = advanceMemo[key] { return known }
            memoKey = key
        }
        let result = advanceUncached(set, codePoint)
        if let memoKey, failure == nil { advanceMemo[memoKey] = result }
        return result
    }

    private func advanceUncached(_ set: Int32, _ codePoint: UInt32) -> Int32 {
        gathered.removeAll(keepingCapacity: true)
        var accepts = false
        for index in Int(setBounds[Int(set)])..<Int(setBounds[Int(set) + 1]) {
            let node = setNodes[index]
            let position = nodePosition[Int(node)]
            let element = program.elements[Int(position)]
            guard program.sets[GrammarProgram.payload(element)].contains(codePoint) else { continue }
            let next = closure(position + 1, nodeParent[Int(node)])
            gathered.append(contentsOf: closureNodes[Int(closureBounds[Int(next)])..<Int(closureBounds[Int(next) + 1])])
            accepts = accepts || closureAccepts[Int(next)]
        }
        guard failure == nil, !gathered.isEmpty || accepts else { return Self.dead }
        gathered.sort()
        var unique: [Int32] = []
        unique.reserveCapacity(gathered.count)
        for node in gathered where unique.last != node { unique.append(node) }
        if unique.count > GrammarLimits.maxStacksPerState {
            fail("more than \(GrammarLimits.maxStacksPerState) parse stacks at once (the grammar is too ambiguous)")
            return Self.dead
        }
        return state(set: internSet(unique, accepts: accepts), pending: 0)
    }
}

/// The strict UTF-8 rules the matcher decodes with (no overlongs, no
/// surrogates, nothing above U+10FFFF), on bytes packed little-endian in a UInt32.
enum UTF8Shape {
    @inline(__always)
    static func length(lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// What the byte after `lead` may be.
    static func secondByteRange(lead: UInt8) -> ClosedRange<UInt8> {
        switch lead {
        case 0xE0: return 0xA0...0xBF
        case 0xED: return 0x80...0x9F
        case 0xF0: return 0x90...0xBF
        case 0xF4: return 0x80...0x8F
        default: return 0x80...0xBF
        }
    }

    static func decode(_ bytes: UInt32, count: Int) -> UInt32 {
        let lead = bytes & 0xFF
        var value: UInt32 = count == 2 ? lead & 0x1F : count == 3 ? lead & 0x0F : lead & 0x07
        for k in 1..<count { value = value << 6 | (bytes >> (8 * k)) & 0x3F }
        return value
    }

    /// The lowest and highest code point a character starting with these
    /// `received` bytes can still become.
    static func completions(_ bytes: UInt32, received: Int) -> (UInt32, UInt32) {
        let lead = UInt8(truncatingIfNeeded: bytes)
        let count = length(lead: lead)
        var low = bytes, high = bytes
        for k in received..<count {
            let range: ClosedRange<UInt8> = k == 1 ? secondByteRange(lead: lead) : 0x80...0xBF
            low |= UInt32(range.lowerBound) << (8 * k)
            high |= UInt32(range.upperBound) << (8 * k)
        }
        return (decode(low, count: count), decode(high, count: count))
    }
}
