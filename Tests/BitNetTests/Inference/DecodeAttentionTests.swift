import Testing
#if canImport(Glibc)
import Glibc
#endif
import CBitNetKernels
@testable import BitNet

/// Decode attention (one position: (superblock, KV heads) work items whose
/// online-softmax states are merged in superblock order) against the prompt
/// path, the per-query reference and itself under other thread counts.
@Suite struct DecodeAttentionTests {
    typealias Shape = TiledAttentionTests.Shape

    /// MHA, GQA with odd KV-head counts, MQA, an odd head size, and 2B4T.
    static let shapes = [
        Shape(nHead: 3, nHeadKV: 3, headDim: 16),   // MHA, 3 KV heads
        Shape(nHead: 15, nHeadKV: 5, headDim: 37),  // GQA, odd head size
        Shape(nHead: 14, nHeadKV: 7, headDim: 32),  // GQA, 7 KV heads
        Shape(nHead: 6, nHeadKV: 1, headDim: 20),   // MQA
        Shape(nHead: 20, nHeadKV: 5, headDim: 128), // 2B4T
    ]

    static func decode(_ attention: TiledAttention, _ cache: KVCache, queries: [Float], position: Int,
                       pool: ThreadPool) -> [Float] {
        let width = attention.nHead * attention.headDim
        let row = Array(queries[(position * width)..<((position + 1) * width)])
        return TiledAttentionTests.tiled(attention, cache, queries: row, start: position, count: 1, pool: pool)
    }

    /// Positions around the superblock (256) and tile (64) edges, and the last.
    static func positions(total: Int) -> [Int] {
        [0, 1, 63, 64, 255, 256, 257, 511, 512, 513, total - 2, total - 1].filter { $0 < total }
    }

    /// Decode equals the same position inside one prompt batch bit for bit, and
    /// the per-query reference within 1e-5, at depths past several superblocks
    /// (not a multiple of 256), for every cache type and kernel.
    @Test(arguments: KVType.allCases, AttentionTile.Kernel.supportedCases)
    func decodeMatchesPromptPathAndReference(kv: KVType, kernel: AttentionTile.Kernel) throws {
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: 101 + UInt64(kv.rawValue))
        // The Swift twin runs unoptimized in debug tests: small heads for it.
        let shapes = kernel == .reference ? Self.shapes.filter { $0.headDim <= 20 } : Self.shapes
        for shape in shapes {
            let total = shape.headDim == 128 ? 530 : 700
            let cache = try TiledAttentionTests.randomCache(shape, kv: kv, start: 0, count: total, rng: &rng)
            let width = shape.nHead * shape.headDim
            let queries = TiledAttentionTests.random(total * width, &rng)
            let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                               threads: 2, kernel: kernel)
            let whole = TiledAttentionTests.tiled(attention, cache, queries: queries, start: 0, count: total, pool: pool)
            let reference = TiledAttentionTests.reference(cache, shape, queries: queries, start: 0, count: total)
            #expect(TiledAttentionTests.worstError(whole, reference) <= 1e-5, "\(kv) \(kernel) \(shape) prompt")
            for position in Self.positions(total: total) {
                let single = Self.decode(attention, cache, queries: queries, position: position, pool: pool)
                let expected = whole[(position * width)..<((position + 1) * width)]
                #expect(single.map(\.bitPattern) == expected.map(\.bitPattern),
                        "\(kv) \(kernel) \(shape) position \(position)")
            }
        }
    }

    /// The same bits with 1, 2 or 3 threads, on the decode and on the prompt path
    /// (the split is by superblock, never by thread count).
    @Test(arguments: KVType.allCases)
    func threadCountChangesNothing(kv: KVType) throws {
        let kernel = AttentionTile.Kernel(.selected)
        var rng = SplitMix64(seed: 7 + UInt64(kv.rawValue))
        for shape in [Shape(nHead: 15, nHeadKV: 5, headDim: 37), Shape(nHead: 20, nHeadKV: 5, headDim: 128)] {
            let total = 1300
            let cache = try TiledAttentionTests.randomCache(shape, kv: kv, start: 0, count: total, rng: &rng)
            let width = shape.nHead * shape.headDim
            let queries = TiledAttentionTests.random(total * width, &rng)
            var decoded: [[Float]] = [], prompts: [[Float]] = []
            let positions = [0, 255, 256, 600, 1024, total - 1]
            for threads in 1...3 {
                let pool = try ThreadPool(threadCount: threads)
                let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV,
                                                   headDim: shape.headDim, threads: threads, kernel: kernel)
                decoded.append(positions.flatMap {
                    Self.decode(attention, cache, queries: queries, position: $0, pool: pool)
                })
                prompts.append(TiledAttentionTests.tiled(attention, cache, queries: Array(queries[(1000 * width)...]),
                                                         start: 1000, count: total - 1000, pool: pool))
                // Here decode items take whole superblocks (every KV head, rows staged in
                // cache order): still the prompt path's bits.
                for (index, position) in positions.enumerated() where position >= 1000 {
                    let single = decoded[threads - 1][(index * width)..<((index + 1) * width)]
                    let batched = prompts[threads - 1][((position - 1000) * width)..<((position - 999) * width)]
                    #expect(single.map(\.bitPattern) == batched.map(\.bitPattern),
                            "\(kv) \(shape) \(threads) threads, position \(position)")
                }
            }
            for threads in 2...3 {
                #expect(decoded[threads - 1].map(\.bitPattern) == decoded[0].map(\.bitPattern), "\(kv) \(shape) decode")
                #expect(prompts[threads - 1].map(\.bitPattern) == prompts[0].map(\.bitPattern), "\(kv) \(shape) prompt")
            }
        }
    }

    /// A cache restored from a snapshot (state files, prefix cache) and a cache
    /// filled by `copy` decode to the same bits as the original; the snapshot
    /// taken after overwriting positions (as a context shift does) too.
    @Test(arguments: KVType.allCases)
    func restoredAndCopiedCachesDecodeTheSame(kv: KVType) throws {
        let kernel = AttentionTile.Kernel(.selected)
        let shape = Shape(nHead: 14, nHeadKV: 7, headDim: 32)
        let pool = try ThreadPool(threadCount: 2)
        var rng = SplitMix64(seed: 55 + UInt64(kv.rawValue))
        let total = 620
        let cache = try TiledAttentionTests.randomCache(shape, kv: kv, start: 0, count: total, rng: &rng)
        // Shift-like rewrite: positions 0..<300 get the keys and values of 320..<620.
        let kvDim = shape.nHeadKV * shape.headDim
        var k = [Float](repeating: 0, count: kvDim), v = k
        for position in 0..<300 {
            cache.load(layer: 0, position: position + 320, keys: &k, values: &v)
            cache.store(layer: 0, position: position, keys: k, values: v)
        }
        let width = shape.nHead * shape.headDim
        let queries = TiledAttentionTests.random(total * width, &rng)
        let attention = try TiledAttention(nHead: shape.nHead, nHeadKV: shape.nHeadKV, headDim: shape.headDim,
                                           threads: 2, kernel: kernel)
        var snapshot = [UInt8](repeating: 0, count: cache.snapshotBytes(count: total))
        snapshot.withUnsafeMutableBytes { cache.writeSnapshot(count: total, to: $0.baseAddress!) }
        let restored = try KVCache(layers: 1, capacity: total, heads: shape.nHeadKV, headDim: shape.headDim,
                                   type: kv, batch: total, recentWindow: 24, kernels: .selected)
        snapshot.withUnsafeBytes { restored.restore(snapshot: $0.baseAddress!, storedCount: total, positions: 0..<total) }
        let copied = try KVCache(layers: 1, capacity: total, heads: shape.nHeadKV, headDim: shape.headDim,
                                 type: kv, batch: total, recentWindow: 24, kernels: .selected)
        copied.copy(from: cache, positions: 0..<total)
        for position in [299, 300, total - 1] {
            let original = Self.decode(attention, cache, queries: queries, position: position, pool: pool)
            let fromSnapshot = Self.decode(attention, restored, queries: queries, position: position, pool: pool)
            let fromCopy = Self.decode(attention, copied, queries: queries, position: position, pool: pool)
            // A snapshot keeps q8's f16 rows of its last window only (older ones read 8-bit after a restore).
            if kv != .q8 || position == total - 1 {
                #expect(fromSnapshot.map(\.bitPattern) == original.map(\.bitPattern), "\(kv) restored, position \(position)")
            }
            #expect(fromCopy.map(\.bitPattern) == original.map(\.bitPattern), "\(kv) copied, position \(position)")
            let expected = TiledAttentionTests.reference(cache, shape, queries: Array(queries[(position * width)...]),
                                                         start: position, count: 1)
            #expect(TiledAttentionTests.worstError(original, expected) <= 1e-5, "\(kv) position \(position)")
        }
    }

    /// The C state merges against the Swift twin, bit for bit, odd lengths included.
    @Test(arguments: AttentionTile.Kernel.supportedCases.filter { $0 != .reference }, [1, 7, 16, 37, 128])
    func mergeMatchesTwin(kernel: AttentionTile.Kernel, dim: Int) throws {
        var rng = SplitMix64(seed: UInt64(dim))
        for _ in 0..<20 {
            let a = TiledAttentionTests.random(dim, &rng, scale: 50), b = TiledAttentionTests.random(dim, &rng, scale: 50)
            let ma = Float(rng.nextUnit() * 20 - 10), mb = Float(rng.nextUnit() * 20 - 10)
            let sa = Float(rng.nextUnit() * 30), sb = Float(rng.nextUnit() * 30)
            var fast = (max: ma, sum: sa, out: a), slow = fast
            AttentionState.merge(kernel, max: &fast.max, sum: &fast.sum, output: &fast.out, max: mb, sum: sb, output: b,
                                 dim: dim)
            AttentionState.merge(.reference, max: &slow.max, sum: &slow.sum, output: &slow.out, max: mb, sum: sb,
                                 output: b, dim: dim)
            #expect(fast.max == max(ma, mb) && fast.max.bitPattern == slow.max.bitPattern)
            #expect(fast.sum.bitPattern == slow.sum.bitPattern)
            #expect(fast.out.map(\.bitPattern) == slow.out.map(\.bitPattern))
        }
        // An empty state is the identity on either side.
        var empty = (max: -Float.infinity, sum: Float(0), out: [Float](repeating: 0, count: dim))
        let b = TiledAttentionTests.random(dim, &rng)
        AttentionState.merge(kernel, max: &empty.max, sum: &empty.sum, output: &empty.out, max: 1.5, sum: 2, output: b,
                             dim: dim)
        #expect(empty.max == 1.5 && empty.sum == 2 && empty.out == b)
        var full = empty
        AttentionState.merge(kernel, max: &full.max, sum: &full.sum, output: &full.out, max: -.infinity, sum: 0,
                             output: [Float](repeating: .nan, count: dim), dim: dim)
        #expect(full.max == empty.max && full.sum == empty.sum && full.out == empty.out)
    }

    #if !arch(arm64)
    /// One call of a four-row decode kernel: queries (each row 4 times), limit,
    /// then rowMax, rowSum, output and scratch.
    typealias Decode4Call = (UnsafePointer<Float>, Int32, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                             UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void

    /// Runs a four-row decode kernel and the tile kernel's Swift twin over
    /// four consecutive tiles (full and partial tiles, limits below the key
    /// count) and expects the same state bit for bit. `makeTile(tile, rng)`
    /// gives a tile's keys and values as f32 (what the kernel reads) and the
    /// kernel call on that tile.
    static func expectDecode4MatchesTwin(
        dim: Int, keys: Int, seed: UInt64,
        makeTile: (Int, inout SplitMix64) -> (keys: [Float], values: [Float], kernel: Decode4Call)
    ) {
        let rp = 16
        var rng = SplitMix64(seed: seed)
        var qt = [Float](repeating: 0, count: dim * rp)
        for d in 0..<dim { for r in 0..<4 { qt[d * rp + r] = Float(rng.nextUnit() - 0.5) } }
        // The four-row kernels' layout (bitnet_attention.h): row r at 16d + 4r + j, j = 0..3.
        let qrep = (0..<dim * 16).map { qt[($0 / 16) * rp + ($0 % 16) / 4] }
        var fast = (max: [Float](repeating: -.infinity, count: rp), sum: [Float](repeating: 0, count: rp),
                    out: [Float](repeating: 0, count: rp * dim))
        var slow = fast
        var scratch = [Float](repeating: .nan, count: bnk_attention_decode4_scratch(keys, dim))
        var twinScratch = [Float](repeating: 0, count: AttentionTile.scratchCount(keys: keys, rowsPadded: rp))
        for (tile, limit) in [keys, max(1, keys - 2), keys, max(1, keys / 2)].enumerated() {
            let (k, v, kernel) = makeTile(tile, &rng)
            let limits = (0..<rp).map { Int32($0 < 4 ? limit : 0) }
            kernel(qrep, Int32(limit), &fast.max, &fast.sum, &fast.out, &scratch)
            AttentionTile.stepReference(qt: qt, rowsPadded: rp, keys: k, values: v, count: keys, dim: dim,
                                        limit: limits, rowMax: &slow.max, rowSum: &slow.sum, output: &slow.out,
                                        scratch: &twinScratch)
        }
        #expect(fast.max.map(\.bitPattern) == slow.max.map(\.bitPattern))
        #expect(fast.sum.map(\.bitPattern) == slow.sum.map(\.bitPattern))
        #expect(fast.out.map(\.bitPattern) == slow.out.map(\.bitPattern))
        #expect(slow.sum[0] > 0)
    }

    /// The four-row decode kernel against the tile kernel's Swift twin.
    @Test(arguments: AttentionTile.Kernel.supportedCases.filter { $0 != .reference },
          [(16, 64), (48, 61), (128, 64), (128, 3), (32, 1), (80, 35)])
    func decode4MatchesTwin(kernel: AttentionTile.Kernel, shape: (dim: Int, keys: Int)) {
        let (dim, keys) = shape
        let decode4 = kernel == .avx512 ? bnk_attention_decode4_avx512 : bnk_attention_decode4_avx2
        Self.expectDecode4MatchesTwin(dim: dim, keys: keys, seed: UInt64(dim * 100 + keys)) { tile, rng in
            let k = TiledAttentionTests.random(keys * dim, &rng, scale: 2 + Float(tile))
            let v = TiledAttentionTests.random(keys * dim, &rng)
            return (k, v, { qrep, limit, rowMax, rowSum, output, scratch in
                decode4(qrep, k, v, keys, dim, limit, rowMax, rowSum, output, scratch)
            })
        }
    }

    /// The in-place f16 variants against the twin on the same (f16-rounded)
    /// keys and values, read from rows of several heads with a row stride
    /// (as in the cache), with and without prefetching the next call's rows.
    @Test(arguments: AttentionTile.Kernel.supportedCases.filter { $0 == .avx2 || $0 == .avx512 },
          [(16, 64, false), (16, 64, true), (48, 61, true), (128, 64, false), (128, 64, true), (128, 3, true),
           (32, 1, false), (64, 17, true), (80, 35, false), (80, 35, true)])
    func decode4ReadsF16RowsInPlace(kernel: AttentionTile.Kernel, shape: (dim: Int, keys: Int, prefetching: Bool)) {
        let (dim, keys, prefetching) = shape
        let decode4F16 = kernel == .avx512 ? bnk_attention_decode4_f16_avx512 : bnk_attention_decode4_f16_avx2
        let heads = 3, head = 1, stride = heads * dim + 8  // a row of every head, plus padding
        Self.expectDecode4MatchesTwin(dim: dim, keys: keys, seed: UInt64(dim * 1000 + keys)) { tile, rng in
            let k16 = TiledAttentionTests.random(keys * stride, &rng, scale: 2 + Float(tile)).map { Float16($0).bitPattern }
            let v16 = TiledAttentionTests.random(keys * stride, &rng).map { Float16($0).bitPattern }
            // The head's rows as f32, exactly what the kernel converts them to.
            let k = (0..<keys * dim).map { HalfPrecision.float(fromHalf: k16[($0 / dim) * stride + head * dim + $0 % dim]) }
            let v = (0..<keys * dim).map { HalfPrecision.float(fromHalf: v16[($0 / dim) * stride + head * dim + $0 % dim]) }
            return (k, v, { qrep, limit, rowMax, rowSum, output, scratch in
                k16.withUnsafeBufferPointer { kp in
                    v16.withUnsafeBufferPointer { vp in
                        // The next call's rows: head 2's rows of this tile.
                        var next = bnk_attention_prefetch(
                            keys: UnsafeRawPointer(kp.baseAddress! + 2 * dim).assumingMemoryBound(to: UInt8.self),
                            values: UnsafeRawPointer(vp.baseAddress! + 2 * dim).assumingMemoryBound(to: UInt8.self),
                            stride: stride * 2, rows: keys, row_bytes: dim * 2)
                        withUnsafePointer(to: &next) { nextPointer in
                            decode4F16(qrep, kp.baseAddress! + head * dim, vp.baseAddress! + head * dim, stride,
                                       keys, dim, limit, rowMax, rowSum, output, scratch,
                                       prefetching ? nextPointer : nil)
                        }
                    }
                }
            })
        }
    }
    #endif

    /// The vector int8 → float head expansion against its Swift twin.
    @Test func q8ExpandMatchesTwin() {
        var rng = SplitMix64(seed: 3)
        for n in [1, 7, 8, 37, 128] {
            let q = (0..<n).map { _ in Int8(truncatingIfNeeded: Int(rng.nextUnit() * 255) - 127) }
            let scale = Float(rng.nextUnit() * 0.1)
            var fast = [Float](repeating: .nan, count: n), slow = fast
            KVQuantization.expand(scale, q, &fast, n, kernels: .selected)
            KVQuantization.expandReference(scale, q, &slow, n)
            #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern), "n \(n)")
        }
    }
}
