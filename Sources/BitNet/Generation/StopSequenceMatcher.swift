/// Finds stop sequences in streamed text that may span token boundaries.
///
/// Fed the decoded text chunk by chunk (bytes of valid UTF-8), it returns
/// what may be shown now and holds back any tail that could still grow into a
/// stop sequence. When a stop sequence completes, the text before it is
/// released and the stop text itself never is. Chunking does not change the
/// result: the first stop to *complete* in the byte stream wins, and among
/// stops completing at the same byte the longest (earliest-starting) one.
///
/// Held-back text always starts where a stop string starts, i.e. on a UTF-8
/// lead byte, so every released piece of valid UTF-8 input is valid UTF-8.
package struct StopSequenceMatcher: Sendable {
    /// Non-empty stops as bytes, with their index in the caller's list.
    private let stops: [(index: Int, bytes: [UInt8])]
    /// Bytes not yet released: a suffix that is a proper prefix of some stop.
    private var pending: [UInt8] = []
    package private(set) var isFinished = false

    /// What one `feed` produced.
    package struct Output: Sendable, Hashable {
        /// Text safe to emit now. After a match: the text before the stop.
        package var text: [UInt8]
        /// Index (in the list given to `init`) of the stop that matched, if one did.
        package var matchedStop: Int?
    }

    /// Empty strings are ignored (they would match everywhere).
    package init(stops: [String]) {
        self.stops = stops.enumerated().compactMap { index, stop in
            stop.isEmpty ? nil : (index, Array(stop.utf8))
        }
    }

    /// The length of the longest stop sequence, an upper bound on held-back bytes + 1.
    package var longestStop: Int { stops.map(\.bytes.count).max() ?? 0 }

    /// Adds a chunk; returns what can be emitted and whether a stop matched.
    /// After a match the matcher is finished and further input is ignored.
    package mutating func feed(_ chunk: some Collection<UInt8>) -> Output {
        guard !isFinished else { return Output(text: [], matchedStop: nil) }
        guard !stops.isEmpty else { return Output(text: Array(chunk), matchedStop: nil) }
        let searchFrom = pending.count
        pending.append(contentsOf: chunk)
        if let match = firstMatch(endingAfter: searchFrom) {
            isFinished = true
            let before = Array(pending[..<match.start])
            pending.removeAll()
            return Output(text: before, matchedStop: match.stopIndex)
        }
        let keep = longestSuffixThatStartsAStop()
        let released = Array(pending[..<(pending.count - keep)])
        pending.removeFirst(pending.count - keep)
        return Output(text: released, matchedStop: nil)
    }

    package mutating func feed(_ text: String) -> Output {
        feed(Array(text.utf8))
    }

    /// End of generation: releases whatever was held back.
    package mutating func flush() -> [UInt8] {
        let rest = pending
        pending.removeAll()
        return rest
    }

    /// Ready for a new generation with the same stops.
    package mutating func reset() {
        pending.removeAll()
        isFinished = false
    }

    /// Bytes currently held back.
    package var heldBackCount: Int { pending.count }

    /// Earliest end position first: every match ending in old bytes was
    /// already ruled out by the previous feed, so only new ends are checked.
    private func firstMatch(endingAfter oldCount: Int) -> (start: Int, stopIndex: Int)? {
        var end = oldCount + 1
        while end <= pending.count {
            var best: (start: Int, stopIndex: Int)?
            for stop in stops where stop.bytes.count <= end {
                let start = end - stop.bytes.count
                if pending[start..<end].elementsEqual(stop.bytes), best.map({ start < $0.start }) ?? true {
                    best = (start, stop.index)
                }
            }
            if let best { return best }
            end += 1
        }
        return nil
    }

    /// How many trailing bytes of `pending` are a proper prefix of some stop.
    private func longestSuffixThatStartsAStop() -> Int {
        var longest = 0
        for stop in stops {
            let limit = min(stop.bytes.count - 1, pending.count)
            var length = limit
            while length > longest {
                if pending[(pending.count - length)...].elementsEqual(stop.bytes[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }
}
