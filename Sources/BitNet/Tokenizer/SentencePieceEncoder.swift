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

    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard text.count > 0 else { return }
        var symbols: [Symbol] = []
        var i = 0
        while i < text.count {
            let b = text[i]
            let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
            let clamped = min(length, text.count - i)
            symbols.append(Symbol(start: Int32(i), length: Int32(clamped), prev: Int32(symbols.count - 1), next: Int32(symbols.count + 1)))
            i += clamped
        }
        symbols[symbols.count - 1].next = -1

        var heap: [Candidate] = []
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
