import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBitNetKernels
@testable import BitNet

/// Tiled prefill attention against the per-query reference (`Attention.attend`),
/// and the AVX-512 tile kernel against its Swift twin.
@Suite struct TiledAttentionTests {
    struct Shape: CustomStringConvertible, Sendable {
        let nHead, nHeadKV, headDim: Int
        var description: String { "\(nHead)/\(nHeadKV)x\(headDim)" }
    }

    static let shapes = [
        Shape(nHead: 4, nHeadKV: 4, headDim: 16),   // MHA
        // GQA, odd head size (4 KV heads: q8 rows, 4·(4 + 37) bytes, stay 4-byte aligned)
        Shape(nHead: 8, nHeadKV: 4, headDim: 37),
        Shape(nHead: 12, nHeadKV: 2, headDim: 24),  // GQA, 6 heads per group
        Shape(nHead: 6, nHeadKV: 1, headDim: 20),   // MQA
        Shape(nHead: 20, nHeadKV: 5, headDim: 128), // 2B4T
    ]

    /// (start position, batch length): lengths that are not tile multiples,
    /// batches appended to a cache that already holds positions.
    static let batches = [(0, 2), (0, 67), (5, 30), (61, 70), (130, 9)]

    static func random(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
    }

    /// A one-layer cache holding random keys and values at 0..<start+count.
    /// q8 gets a short f16 window so old (8-bit) keys and window edges inside
    /// a query tile both occur.
    static func randomCache(_ shape: Shape, kv: KVType, start: Int, count: Int,
                            rng: inout SplitMix64) throws -> KVCache {
        let total = start + count
        let cache = try KVCache(layers: 1, capacity: total, heads: shape.nHeadKV, headDim: shape.headDim,
                                type: kv, batch: count, recentWindow: 24, kernels: .selected)
        let kvDim = shape.nHeadKV * shape.headDim
        for position in 0..<total {
            // Keys scaled up so the softmax is far from uniform.
            let k = random(kvDim, &rng, scale: 3), v = random(kvDim, &rng)
            cache.store(layer: 0, position: position, keys: k, values: v)
        }
        return cache
    }

    /// Per-query reference output, [count][nHead·headDim].
    static func reference(_ cache: KVCache, _ shape: Shape, queries: [Float], start: Int, count: Int) -> [Float] {
        let width = shape.nHead * shape.headDim
        var out = [Float](repeating: 0, count: count * width)
        var scores = [Float](repeating: 0, count: start + count)
        queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<count {
                    Attention.attend(cache: cache, layer: 0, position: start + i, query: q.baseAddress! + i * width,
                                     heads: 0..<shape.nHead, nHead: shape.nHead, nHeadKV: shape.nHeadKV,
                                     headDim: shape.headDim, scores: &scores, into: o.baseAddress! + i * width)
                }
            }
        }
        return out
    }

    static func tiled(_ attention: TiledAttention, _ cache: KVCache, queries: [Float], start: Int, count: Int,
                      pool: ThreadPool) -> [Float] {
        let width = attention.nHead * attention.headDim
        var out = [Float](repeating: .nan, count: count * width)
        queries.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                attention.attend(cache: cache, layer: 0, startPosition: start, count: count,
                                 queries: q.baseAddress!, queryStride: width,
                                 output: o.baseAddress!, outputStride: width, pool: pool)
            }
        }
        return out
    }

    /// Largest |a − b| / max(1, |b|).
    static func worstError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    @Test(arguments: KVType.allCases, AttentionTile.Kernel.supportedCases)
    func tiledMatchesPerQueryReference(kv: KVType, kernel: AttentionTile.Kernel) throws {
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: UInt64(kv.rawValue) * 7)
        for shape in Self.shapes {
            let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                               threads: 2, kernel: kernel)
            // The Swift twin runs unoptimized in debug tests: keep its 2B4T case short.
            let batches = kernel == .reference && shape.headDim == 128 ? [(3, 20)] : Self.batches
            for (start, count) in batches {
                let cache = try Self.randomCache(shape, kv: kv, start: start, count: count, rng: &rng)
                let queries = Self.random(count * shape.nHead * shape.headDim, &rng)
                let expected = Self.reference(cache, shape, queries: queries, start: start, count: count)
                let actual = Self.tiled(attention, cache, queries: queries, start: start, count: count, pool: pool)
                let error = Self.worstError(actual, expected)
                #expect(error <= 1e-5, "\(kv) \(shape) start \(start) count \(count): error \(error)")
            }
        }
    }

    /// The Swift twin's exp against libm over the range softmax uses.
    @Test func expMatchesLibm() {
        var worst: Float = 0
        var x: Float = -88
        while x <= 0 {
            let e = AttentionTile.expNonPositive(x), reference = expf(x)
            if reference > 1e-30 { worst = max(worst, abs(e - reference) / reference) }
            x += 0.0173
        }
        #expect(worst <= 4e-7, "worst relative error \(worst)")
        #expect(AttentionTile.expNonPositive(0) == 1)
        #expect(AttentionTile.expNonPositive(-.infinity) == 0)
    }

    /// A position's output is the same, bit for bit, whichever batch computes it
    /// (one at a time, as decode does, included).
    @Test(arguments: KVType.allCases)
    func splittingTheBatchChangesNothing(kv: KVType) throws {
        let kernel = AttentionTile.Kernel(.selected)
        let shape = Shape(nHead: 8, nHeadKV: 2, headDim: 32)
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: 11)
        let total = 150, split = 83
        let cache = try Self.randomCache(shape, kv: kv, start: 0, count: total, rng: &rng)
        let width = shape.nHead * shape.headDim
        let queries = Self.random(total * width, &rng)
        let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                           threads: 2, kernel: kernel)
        let whole = Self.tiled(attention, cache, queries: queries, start: 0, count: total, pool: pool)
        let head = Self.tiled(attention, cache, queries: Array(queries[..<(split * width)]), start: 0, count: split,
                              pool: pool)
        let tail = Self.tiled(attention, cache, queries: Array(queries[(split * width)...]), start: split,
                              count: total - split, pool: pool)
        #expect((head + tail).map(\.bitPattern) == whole.map(\.bitPattern))
        let last = Self.tiled(attention, cache, queries: Array(queries[((total - 1) * width)...]), start: total - 1,
                              count: 1, pool: pool)
        #expect(last.map(\.bitPattern) == whole[((total - 1) * width)...].map(\.bitPattern))
    }

    /// Decode-shaped items (one position: groupSize rows, passed to the kernel
    /// padded to 16 rather than to a full tile's rows, next tile prefetched)
    /// give the same bits as that position inside a prefill batch, for every
    /// kernel and cache type, at key counts that are not tile multiples.
    @Test(arguments: KVType.allCases, AttentionTile.Kernel.supportedCases)
    func decodeItemsMatchBatchedRowsBitForBit(kv: KVType, kernel: AttentionTile.Kernel) throws {
        let shape = Shape(nHead: 20, nHeadKV: 5, headDim: 128)  // 2B4T: 4 rows per KV head
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: 23 + UInt64(kv.rawValue))
        // The Swift twin runs unoptimized in debug tests: fewer positions.
        let total = kernel == .reference ? 70 : 135
        let cache = try Self.randomCache(shape, kv: kv, start: 0, count: total, rng: &rng)
        let width = shape.nHead * shape.headDim
        let queries = Self.random(total * width, &rng)
        let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                           threads: 2, kernel: kernel)
        let whole = Self.tiled(attention, cache, queries: queries, start: 0, count: total, pool: pool)
        for position in [0, 2, 63, 64, 66, total - 2, total - 1] {
            let single = Self.tiled(attention, cache, queries: Array(queries[(position * width)..<((position + 1) * width)]),
                                    start: position, count: 1, pool: pool)
            let expected = whole[(position * width)..<((position + 1) * width)]
            #expect(single.map(\.bitPattern) == expected.map(\.bitPattern), "\(kv) \(kernel) position \(position)")
        }
    }

    /// Several sequences in one `attend` (a batched step: single positions at
    /// depths on both sides of superblock boundaries, so items hold one KV
    /// head or all of them, next to a prompt chunk) give each sequence the
    /// bits of its own call, for every kernel and cache type; every other
    /// sequence has the next cache type (contexts of one batch may differ,
    /// and an item prefetches the next item's cache, maybe of another type).
    @Test(arguments: KVType.allCases, AttentionTile.Kernel.supportedCases)
    func sequencesAttendedTogetherMatchEachAloneBitForBit(kv: KVType, kernel: AttentionTile.Kernel) throws {
        let shape = Shape(nHead: 20, nHeadKV: 5, headDim: 128)  // 2B4T: the four-row decode kernels
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: 41 + UInt64(kv.rawValue))
        let width = shape.nHead * shape.headDim
        // (start, count); the Swift twin runs unoptimized in debug tests: shallower.
        let cases = kernel == .reference ? [(0, 1), (70, 1), (5, 9), (33, 1)]
            : [(0, 1), (63, 1), (255, 1), (256, 1), (300, 1), (7, 20), (520, 1), (64, 1)]
        let other = KVType.allCases[(KVType.allCases.firstIndex(of: kv)! + 1) % KVType.allCases.count]
        let caches = try cases.indices.map {
            try Self.randomCache(shape, kv: $0 % 2 == 0 ? kv : other, start: cases[$0].0, count: cases[$0].1, rng: &rng)
        }
        let queries = cases.map { Self.random($0.1 * width, &rng) }
        for threads in [1, 2] {
            let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                               threads: threads, kernel: kernel)
            let alone = cases.indices.map {
                Self.tiled(attention, caches[$0], queries: queries[$0], start: cases[$0].0, count: cases[$0].1,
                           pool: pool)
            }
            for sequences in [cases.count, 3] {  // all of them, and too few to split by whole heads
                let inputs = queries.prefix(sequences).map { q in
                    let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: q.count)
                    _ = copy.initialize(from: q)
                    return copy
                }
                let outputs = cases.prefix(sequences).map { c in
                    let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: c.1 * width)
                    out.initialize(repeating: .nan)
                    return out
                }
                defer { (inputs + outputs).forEach { $0.deallocate() } }
                let rows = (0..<sequences).map { i in
                    TiledAttention.Rows(cache: caches[i], startPosition: cases[i].0, count: cases[i].1,
                                        queries: UnsafePointer(inputs[i].baseAddress!), queryStride: width,
                                        output: outputs[i].baseAddress!, outputStride: width)
                }
                attention.attend(rows, layer: 0, pool: pool)
                for i in 0..<sequences {
                    #expect(outputs[i].map(\.bitPattern) == alone[i].map(\.bitPattern),
                            "\(kv) \(kernel) \(threads) threads, \(sequences) sequences: sequence \(i) at \(cases[i].0)")
                }
            }
        }
    }

    /// The C tile kernels (AVX-512 and AVX2, or NEON) against `AttentionTile.stepReference`
    /// over several consecutive tiles, with limits of 0, partial and full.
    @Test(arguments: AttentionTile.Kernel.supportedCases.filter { $0 != .reference },
          [(16, 16, 64), (80, 48, 17), (64, 128, 64), (32, 16, 3), (16, 128, 64), (48, 32, 61)])
    func kernelMatchesTwin(kernel: AttentionTile.Kernel, shape: (Int, Int, Int)) throws {
        let (rp, dim, keys) = shape
        var rng = SplitMix64(seed: UInt64(rp * 1000 + dim * 10 + keys))
        let qt = Self.random(dim * rp, &rng, scale: 0.5)
        var fast = (max: [Float](repeating: -.infinity, count: rp), sum: [Float](repeating: 0, count: rp),
                    out: [Float](repeating: 0, count: rp * dim))
        var slow = fast
        var scratch = [Float](repeating: 0, count: AttentionTile.scratchCount(keys: keys, rowsPadded: rp))
        for tile in 0..<3 {
            let k = Self.random(keys * dim, &rng, scale: 2), v = Self.random(keys * dim, &rng)
            // Row r sees a growing prefix of the tiles; some rows none of the first.
            let limit = (0..<rp).map { r in Int32(max(0, min(keys, (r * 7 + tile * keys) % (2 * keys + 1) - 3))) }
            AttentionTile.step(kernel, qt: qt, rowsPadded: rp, keys: k, values: v, count: keys, dim: dim,
                               limit: limit, rowMax: &fast.max, rowSum: &fast.sum, output: &fast.out, scratch: &scratch)
            AttentionTile.stepReference(qt: qt, rowsPadded: rp, keys: k, values: v, count: keys, dim: dim,
                                        limit: limit, rowMax: &slow.max, rowSum: &slow.sum, output: &slow.out,
                                        scratch: &scratch)
        }
        // Bit for bit: a context gives the same numbers with every kernel set.
        #expect(fast.max.map(\.bitPattern) == slow.max.map(\.bitPattern))
        #expect(fast.sum.map(\.bitPattern) == slow.sum.map(\.bitPattern))
        #expect(fast.out.map(\.bitPattern) == slow.out.map(\.bitPattern))
        #expect(slow.sum.contains { $0 > 0 })
    }
}

extension AttentionTile.Kernel {
    /// The kernels this CPU runs: a test over kernels takes these as its
    /// arguments, so a machine without AVX-512 skips those cases instead of
    /// failing them.
    static var supportedCases: [AttentionTile.Kernel] { allCases.filter(\.isSupportedByCPU) }
}
