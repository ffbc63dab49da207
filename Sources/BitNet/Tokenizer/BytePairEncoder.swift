/// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): merges the bytes of one
/// pre-tokenized word by merge rank.
///
/// The word starts as one symbol per byte (the token spelling that byte).
/// Repeatedly the adjacent pair with the lowest merge rank is merged (ties:
/// leftmost), exactly like the reference implementations. Symbols live in a
/// doubly linked list over a reusable array and candidate pairs in a binary
/// min-heap, so a word of n bytes costs O(n log n) and nothing is allocated
/// per merge.
struct BytePairEncoder: Sendable {
    let merges: MergeTable
    /// Token id spelling each byte (-1: the vocabulary lacks it).
    let byteTokens: [Int32]
    /// Llama 3 looks a whole word up in the vocabulary before merging.
    let ignoreMerges: Bool
    let wordTable: ByteStringTable

    /// Scratch buffers reused across words of one encode call.
    struct Workspace {
        var ids: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        var heap: [Candidate] = []
        var cache = WordCache()
    }

    struct Candidate {
        var rank: Int32
        var left: Int32
        var leftID: Int32
        var rightID: Int32
        var merged: Int32

        /// Heap order: lower rank first, then the leftmost pair.
        @inline(__always) func before(_ other: Candidate) -> Bool {
            rank < other.rank || (rank == other.rank && left < other.left)
        }
    }

    func encode(word: UnsafeBufferPointer<UInt8>, into output: inout [Int32], workspace ws: inout Workspace) {
        let n = word.count
        if n == 0 { return }
        if ignoreMerges, let id = wordTable.lookup(word) {
            output.append(id)
            return
        }
        if n == 1 {
            let id = byteTokens[Int(word[0])]
            if id >= 0 { output.append(id) }
            return
        }
        let hash = ByteStringTable.hash(word)
        if ws.cache.appendCached(word, hash: hash, to: &output) { return }
        let firstOutput = output.count
        merge(word, into: &output, &ws)
        ws.cache.store(word, hash: hash, tokens: output[firstOutput...])
    }

    /// The merge loop proper (no shortcuts, no cache).
    func merge(_ word: UnsafeBufferPointer<UInt8>, into output: inout [Int32], _ ws: inout Workspace) {
        let n = word.count
        if n == 0 { return }
        ws.ids.removeAll(keepingCapacity: true)
        ws.prev.removeAll(keepingCapacity: true)
        ws.next.removeAll(keepingCapacity: true)
        ws.heap.removeAll(keepingCapacity: true)
        for k in 0..<n {
            ws.ids.append(byteTokens[Int(word[k])])
            ws.prev.append(Int32(k - 1))
            ws.next.append(k + 1 < n ? Int32(k + 1) : -1)
        }
        for k in 0..<(n - 1) { pushPair(left: k, right: k + 1, &ws) }

        while let top = popMin(&ws.heap) {
            let left = Int(top.left)
            // Skip stale candidates: either side merged since the pair was queued.
            guard ws.ids[left] == top.leftID else { continue }
            let right = Int(ws.next[left])
            guard right >= 0, ws.ids[right] == top.rightID else { continue }
            ws.ids[left] = top.merged
            ws.ids[right] = -2  // removed
            let after = ws.next[right]
            ws.next[left] = after
            if after >= 0 { ws.prev[Int(after)] = Int32(left) }
            let before = Int(ws.prev[left])
            if before >= 0 { pushPair(left: before, right: left, &ws) }
            if after >= 0 { pushPair(left: left, right: Int(after), &ws) }
        }

        var k = 0
        while k >= 0 {
            let id = ws.ids[k]
            if id >= 0 { output.append(id) }
            k = Int(ws.next[k])
        }
    }

    @inline(__always)
    private func pushPair(left: Int, right: Int, _ ws: inout Workspace) {
        let a = ws.ids[left], b = ws.ids[right]
        guard a >= 0, b >= 0, let merge = merges.lookup(a, b) else { return }
        let candidate = Candidate(rank: merge.rank, left: Int32(left), leftID: a, rightID: b, merged: merge.merged)
        ws.heap.append(candidate)
        // Sift up.
        var child = ws.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard ws.heap[child].before(ws.heap[parent]) else { break }
            ws.heap.swapAt(child, parent)
            child = parent
        }
    }

    @inline(__always)
    private func popMin(_ heap: inout [Candidate]) -> Candidate? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let l = 2 * parent + 1
            if l >= count { break }
            var best = l
            let r = l + 1
            if r < count && heap[r].before(heap[l]) { best = r }
            guard heap[best].before(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
