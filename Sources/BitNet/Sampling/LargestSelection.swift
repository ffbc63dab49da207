/// Partial selection of the `k` largest values with a bounded min-heap.
///
/// Why not sort: with V = 128k and k = 50, a full sort costs ~V log V; the
/// heap scan costs one comparison per token plus O(log k) for the rare token
/// that beats the current k-th best. The heap's root is the *worst* kept
/// candidate, so the common case is `value > floor` and move on.
enum LargestSelection {
    /// Writes the `k` largest of `values` into `out`, best first; ties go to
    /// the lower index. `values` must not contain NaN (the chain replaces it).
    static func select(_ k: Int, of values: UnsafeBufferPointer<Float>, into out: inout [TokenCandidate]) {
        out.removeAll(keepingCapacity: true)
        let k = min(k, values.count)
        guard k > 0 else { return }
        for index in 0..<k {
            out.append(TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: values[index]))
        }
        out.withUnsafeMutableBufferPointer { heap in
            for index in stride(from: k / 2 - 1, through: 0, by: -1) {
                siftDown(heap, from: index)
            }
            scan(values, from: k, into: heap)
        }
        out.sort(by: TokenCandidate.ranksBefore)
    }

    /// Offers values[start...] to the heap. Later indices lose ties, so
    /// "strictly greater than the worst kept" is the whole test.
    private static func scan(
        _ values: UnsafeBufferPointer<Float>, from start: Int, into heap: UnsafeMutableBufferPointer<TokenCandidate>
    ) {
        guard let base = values.baseAddress else { return }
        let n = values.count
        var floor = heap[0].logit
        var floorLanes = SIMD16<Float>(repeating: floor)
        var index = start
        // 16 lanes at a time: once the heap is warm almost no chunk holds a
        // value above the floor, and such a chunk costs one vector compare.
        let raw = UnsafeRawPointer(base)
        while index + 16 <= n {
            let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            if any(chunk .> floorLanes) {
                for lane in index..<(index + 16) where base[lane] > floor {
                    heap[0] = TokenCandidate(id: Int32(truncatingIfNeeded: lane), logit: base[lane])
                    siftDown(heap, from: 0)
                    floor = heap[0].logit
                }
                floorLanes = SIMD16(repeating: floor)
            }
            index += 16
        }
        while index < n {
            if base[index] > floor {
                heap[0] = TokenCandidate(id: Int32(truncatingIfNeeded: index), logit: base[index])
                siftDown(heap, from: 0)
                floor = heap[0].logit
            }
            index += 1
        }
    }

    /// `a` would be dropped before `b`.
    @inline(__always)
    private static func isWorse(_ a: TokenCandidate, _ b: TokenCandidate) -> Bool {
        a.logit < b.logit || (a.logit == b.logit && a.id > b.id)
    }

    @inline(__always)
    private static func siftDown(_ heap: UnsafeMutableBufferPointer<TokenCandidate>, from start: Int) {
        var parent = start
        let n = heap.count
        while true {
            let left = 2 * parent + 1
            if left >= n { return }
            var worst = left
            let right = left + 1
            if right < n && isWorse(heap[right], heap[left]) { worst = right }
            if isWorse(heap[worst], heap[parent]) {
                heap.swapAt(worst, parent)
                parent = worst
            } else {
                return
            }
        }
    }
}
