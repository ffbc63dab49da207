/// SentencePiece BPE (`tokenizer.ggml.model = "llama"`): merges by score.
///
/// The text (spaces already replaced by U+2581 '▁') starts as one symbol per
/// UTF-8 character. The adjacent pair whose concatenation is a vocabulary
/// token with the highest score is merged first (ties: leftmost), until no
/// pair forms a token. Symbols that are not tokens (characters outside the
/// vocabulary) fall back to their bytes as `<0xXX>` tokens.
struct SentencePieceEncoder: Sendable {
    let table: ByteStringTable
    let scores: [Float]
    /// Whether merging may produce token i (false for control and unknown tokens).
    let mergeable: [Bool]
    /// Token id of `<0xXX>` for each byte (-1: missing, use `unknown`).
    let byteTokens: [Int32]
    let unknown: Int32?

    struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }

    struct Candidate {
        var score: Float
        var left: Int32
        var length: Int32  // byte length of the merged text, to detect staleness
        var id: Int32

        /// Heap order: higher score first, then the leftmost pair.
        @inline(__always) func before(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// True when no mergeable token has '▁' after its first character
    /// (tokens made only of '▁' aside). Then no token can span "x▁" and
    /// every word start is a boundary merging never crosses: each word can be
    /// merged on its own, with the same result and a tiny heap.
    var splitsAtWordStarts: Bool

    init(table: ByteStringTable, tokens: [[UInt8]], scores: [Float], mergeable: [Bool], byteTokens: [Int32], unknown: Int32?) {
        self.table = table
        self.scores = scores
        self.mergeable = mergeable
        self.byteTokens = byteTokens
        self.unknown = unknown
        var splits = true
        for (id, text) in tokens.enumerated() where mergeable[id] {
            var allSpaces = true
            var innerSpace = false
            var k = 0
            while k < text.count {
                if Self.isSpaceMark(text, k) {
                    if k > 0 { innerSpace = true }
                    k += 3
                } else {
                    allSpaces = false
                    k += 1
                }
            }
            if innerSpace && !allSpaces { splits = false; break }
        }
        splitsAtWordStarts = splits
    }

    /// U+2581 '▁' = E2 96 81 at `k`.
    @inline(__always)
    static func isSpaceMark<C: RandomAccessCollection>(_ text: C, _ k: C.Index) -> Bool where C.Element == UInt8, C.Index == Int {
        k + 2 < text.endIndex && text[k] == 0xE2 && text[k + 1] == 0x96 && text[k + 2] == 0x81
    }

    /// Reused buffers.
    struct Workspace {
        var symbols: [Symbol] = []
        var heap: [Candidate] = []
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        var ws = Workspace()
        guard splitsAtWordStarts else {
            encodeSegment(text, into: &output, &ws)
            return
        }
        // Cut before every '▁' that follows something other than '▁'.
        var start = 0
        var k = 3
        while k < text.count {
            if text[k] == 0xE2 && Self.isSpaceMark(text, k) && !Self.isSpaceMark(text, k - 3) {
                encodeSegment(UnsafeBufferPointer(rebasing: text[start..<k]), into: &output, &ws)
                start = k
                k += 3
            } else {
                k += 1
            }
        }
        encodeSegment(UnsafeBufferPointer(rebasing: text[start...]), into: &output, &ws)
    }

    private func encodeSegment(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32], _ ws: inout Workspace) {
        guard text.count > 0 else { return }
        ws.symbols.removeAll(keepingCapacity: true)
        ws.heap.removeAll(keepingCapacity: true)
        var i = 0
        while i < text.count {
            let b = text[i]
            let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
            let clamped = min(length, text.count - i)
            ws.symbols.append(Symbol(start: Int32(i), length: Int32(clamped), prev: Int32(ws.symbols.count - 1), next: Int32(ws.symbols.count + 1)))
            i += clamped
        }
        ws.symbols[ws.symbols.count - 1].next = -1
        mergeSymbols(text, &ws.symbols, &ws.heap, into: &output)
    }

    private func mergeSymbols(_ text: UnsafeBufferPointer<UInt8>, _ symbols: inout [Symbol], _ heap: inout [Candidate],
                              into output: inout [Int32]) {
        func tryPair(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(symbols[left].start)
            let length = Int(symbols[left].length + symbols[right].length)
            guard let id = table.lookup(UnsafeBufferPointer(rebasing: text[start..<start + length])),
                  mergeable[Int(id)] else { return }
            let score = Int(id) < scores.count ? scores[Int(id)] : 0
            push(&heap, Candidate(score: score, left: Int32(left), length: Int32(length), id: id))
        }
        for k in 0..<(symbols.count - 1) { tryPair(k, k + 1) }

        while let top = pop(&heap) {
            let left = Int(top.left)
            let right = Int(symbols[left].next)
            guard symbols[left].length > 0, right >= 0,
                  symbols[left].length + symbols[right].length == top.length else { continue }
            symbols[left].length = top.length
            symbols[right].length = 0
            let after = symbols[right].next
            symbols[left].next = after
            if after >= 0 { symbols[Int(after)].prev = Int32(left) }
            tryPair(Int(symbols[left].prev), left)
            tryPair(left, Int(after))
        }

        var k = 0
        while k >= 0 {
            let s = symbols[k]
            let piece = UnsafeBufferPointer(rebasing: text[Int(s.start)..<Int(s.start + s.length)])
            if let id = table.lookup(piece), mergeable[Int(id)] {
                output.append(id)
            } else {
                for byte in piece {
                    let id = byteTokens[Int(byte)]
                    if id >= 0 { output.append(id) } else if let unknown { output.append(unknown) }
                }
            }
            k = Int(s.next)
        }
    }

    private func push(_ heap: inout [Candidate], _ candidate: Candidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].before(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop(_ heap: inout [Candidate]) -> Candidate? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        while true {
            let l = 2 * parent + 1
            if l >= heap.count { break }
            var best = l
            if l + 1 < heap.count && heap[l + 1].before(heap[l]) { best = l + 1 }
            guard heap[best].before(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
