/// A set of Unicode code points: what one grammar terminal (a character
/// class, one character of a literal, `.`) accepts.
///
/// Stored as sorted, disjoint, non-touching closed ranges, so equal sets are
/// equal values (terminals are interned by value) and negation is a plain
/// complement over 0...0x10FFFF. The matcher only ever asks about valid
/// scalars (it decodes strict UTF-8), so surrogates need no special case.
struct CodePointSet: Hashable, Sendable {
    /// Range i is `bounds[2i] ... bounds[2i + 1]`.
    private(set) var bounds: [UInt32]

    static let maxCodePoint: UInt32 = 0x10FFFF
    static let all = CodePointSet(ranges: [(0, maxCodePoint)])
    static let none = CodePointSet(ranges: [])

    /// Any order, overlaps and duplicates allowed; ranges with `lo > hi` are dropped.
    init(ranges: [(UInt32, UInt32)]) {
        let sorted = ranges.filter { $0.0 <= $0.1 }.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var bounds: [UInt32] = []
        bounds.reserveCapacity(sorted.count * 2)
        for (lo, hi) in sorted {
            let hi = min(hi, Self.maxCodePoint)
            guard lo <= hi else { continue }
            // Merge with the previous range when overlapping or adjacent.
            if let last = bounds.last, lo <= last &+ 1 {
                bounds[bounds.count - 1] = max(last, hi)
            } else {
                bounds.append(lo)
                bounds.append(hi)
            }
        }
        self.bounds = bounds
    }

    init(_ codePoint: UInt32) { self.init(ranges: [(codePoint, codePoint)]) }

    var isEmpty: Bool { bounds.isEmpty }
    var rangeCount: Int { bounds.count / 2 }

    var ranges: [(UInt32, UInt32)] {
        stride(from: 0, to: bounds.count, by: 2).map { (bounds[$0], bounds[$0 + 1]) }
    }

    /// Everything else in 0...0x10FFFF.
    var complement: CodePointSet {
        var result: [(UInt32, UInt32)] = []
        var next: UInt32 = 0
        for (lo, hi) in ranges {
            if lo > next { result.append((next, lo - 1)) }
            next = hi &+ 1
        }
        if next <= Self.maxCodePoint { result.append((next, Self.maxCodePoint)) }
        return CodePointSet(ranges: result)
    }

    func union(_ other: CodePointSet) -> CodePointSet { CodePointSet(ranges: ranges + other.ranges) }

    func subtracting(_ other: CodePointSet) -> CodePointSet { intersection(other.complement) }

    func intersection(_ other: CodePointSet) -> CodePointSet {
        var result: [(UInt32, UInt32)] = []
        let a = ranges, b = other.ranges
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let lo = max(a[i].0, b[j].0), hi = min(a[i].1, b[j].1)
            if lo <= hi { result.append((lo, hi)) }
            if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
        }
        return CodePointSet(ranges: result)
    }

    /// Binary search over the ranges (classes are usually one to a few ranges).
    @inline(__always)
    func contains(_ c: UInt32) -> Bool {
        var low = 0, high = bounds.count / 2
        while low < high {
            let mid = (low + high) / 2
            if c > bounds[2 * mid + 1] { low = mid + 1 } else { high = mid }
        }
        return low < bounds.count / 2 && c >= bounds[2 * low]
    }

    /// Whether some code point in `lo...hi` is in the set (a partial UTF-8
    /// character is alive when one of its completions can still match).
    func intersects(_ lo: UInt32, _ hi: UInt32) -> Bool {
        for index in stride(from: 0, to: bounds.count, by: 2) where bounds[index] <= hi && bounds[index + 1] >= lo {
            return true
        }
        return false
    }
}
