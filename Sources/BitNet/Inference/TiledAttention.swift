import Synchronization
import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Causal grouped-query attention for a batch of consecutive query positions
/// (prompt prefill), computed tile by tile so no score row is longer than a tile.
///
/// Work item = (KV head g, query tile). A query tile holds `positionsPerTile`
/// consecutive batch positions × the `groupSize` query heads that share g, so
/// every key and value read from the cache serves ~64 query rows instead of
/// one. Keys and values stream in tiles of `keyTile` positions (aligned to
/// absolute position 0), converted to f32 once per (item, tile), and an online
/// softmax (running max and sum per row, `AttentionTile`) folds them into f32
/// accumulators. Query position p sees keys 0...p.
///
/// Keys are also grouped in superblocks of `superblock` keys (4 tiles, at
/// fixed absolute positions): each row folds the tiles of one superblock into
/// a fresh online-softmax state and merges the superblocks' states in order
/// (`AttentionState`). Decode (one position) computes the superblocks'
/// states as separate work items, (superblock, KV heads), so both threads
/// stay busy whatever the number of KV heads, then merges them in the same
/// order; the prompt path merges at the same boundaries. Because tiles and
/// superblocks sit at fixed absolute positions and rows are independent, the
/// result of a position depends neither on how the prompt was split into
/// batches (the prefix-cache tests demand bit-identical logits) nor on the
/// thread count.
///
/// `Attention.attend` (per query, full score row) is the reference twin.
final class TiledAttention {
    static let keyTile = 64
    /// Keys per superblock, a multiple of keyTile: the unit decode splits the
    /// key range into. Fixed by the data, never by the thread count.
    static let superblock = 256
    /// Query rows (positions × group heads) per work item.
    static let targetRows = 64

    let nHead: Int
    let nHeadKV: Int
    let headDim: Int
    let groupSize: Int
    let positionsPerTile: Int
    /// headDim rounded up to 16 (the kernel's vector width); the padding stays 0.
    let paddedDim: Int
    /// Rows of a full item rounded up to 16.
    let rowsPadded: Int
    let kernel: AttentionTile.Kernel

    /// Query rows of one KV head at one position (groupSize) rounded up to 16.
    let decodeRows: Int
    /// Decode runs the four-row kernels (`bnk_attention_decode4_*`: four query
    /// heads per KV head, a vector kernel), which read queries repeated.
    let usesDecode4: Bool

    private let threads: Int
    private let slots: [Scratch]
    private let nextItem = Atomic<Int>(0)
    /// Decode: the scaled queries of every KV head of each sequence,
    /// [sequences][nHeadKV][paddedDim][decodeRows], shared by the threads: the
    /// tile kernel's transposed layout (row r of dimension d at
    /// d * decodeRows + r), or with `usesDecode4` the four-row kernels' (at
    /// d * 16 + 4r + j for j = 0..3: each row 4 times). Grown on demand; the
    /// padding rows stay 0.
    private var decodeQueries: UnsafeMutablePointer<Float>?
    private var decodeQuerySequences = 0
    /// Decode: each (superblock, KV head)'s state, groupSize rows:
    /// max and sum [superblocks][nHeadKV][groupSize], output [...][groupSize][paddedDim].
    /// A batched step stacks its sequences' superblocks.
    private var parts: UnsafeMutablePointer<Float>?
    private var partsSuperblocks = 0

    /// One online-softmax state of `rows` rows: max, sum, output[rows][paddedDim].
    private struct State {
        let rowMax, rowSum, output: UnsafeMutablePointer<Float>

        func reset(rows: Int, dim: Int) {
            rowMax.initialize(repeating: -.infinity, count: rows)
            rowSum.initialize(repeating: 0, count: rows)
            output.initialize(repeating: 0, count: rows * dim)
        }
    }

    /// Per-thread scratch (all f32 unless noted, 64-byte aligned):
    /// qt[paddedDim][rowsPadded], keys/values[keyTile][paddedDim],
    /// output[rowsPadded][paddedDim], rowMax/rowSum/limit[rowsPadded], kernel scratch,
    /// then the state of the current superblock (same shapes as output/rowMax/rowSum)
    /// and the decode states of every KV head, [heads][decodeRows]([paddedDim]).
    private final class Scratch {
        let memory: UnsafeMutableRawPointer
        let qt, keys, values, output, rowMax, rowSum, kernel: UnsafeMutablePointer<Float>
        let limit: UnsafeMutablePointer<Int32>
        let main, superblock: State
        let decode: State
        /// Scratch of bnk_attention_decode4_* for one key tile.
        let decode4: UnsafeMutablePointer<Float>
        /// Decode: one key tile of every KV head, [heads][keyTile][paddedDim] (keys, values).
        let headKeys, headValues: UnsafeMutablePointer<Float>

        init(dim: Int, rows: Int, keys tile: Int, heads: Int, decodeRows: Int) throws(BitNetError) {
            let kernelCount = AttentionTile.scratchCount(keys: tile, rowsPadded: rows)
            let decodeStates = try Memory.checkedProduct([heads, decodeRows], what: "attention scratch")
            let decodeOutput = try Memory.checkedProduct([decodeStates, dim], what: "attention scratch")
            let counts = [dim * rows, tile * dim, tile * dim, rows * dim, rows, rows, rows, kernelCount,
                          rows * dim, rows, rows, decodeOutput, decodeStates, decodeStates,
                          bnk_attention_decode4_scratch(tile, dim), heads * tile * dim, heads * tile * dim]
            // Each part starts on a 64-byte boundary (16 floats).
            let rounded = counts.map { ($0 + 15) / 16 * 16 }
            var total = 0
            for count in rounded {
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow else { throw .invalidArgument("attention scratch: size overflows") }
                total = sum
            }
            let bytes = try Memory.checkedProduct([total, MemoryLayout<Float>.size], what: "attention scratch")
            memory = try Memory.allocate(bytes: bytes, what: "attention scratch")
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            let base = memory.assumingMemoryBound(to: Float.self)
            var offsets: [Int] = []
            var cursor = 0
            for count in rounded {
                offsets.append(cursor)
                cursor += count
            }
            qt = base + offsets[0]
            keys = base + offsets[1]
            values = base + offsets[2]
            output = base + offsets[3]
            rowMax = base + offsets[4]
            rowSum = base + offsets[5]
            limit = UnsafeMutableRawPointer(base + offsets[6]).assumingMemoryBound(to: Int32.self)
            kernel = base + offsets[7]
            main = State(rowMax: rowMax, rowSum: rowSum, output: output)
            superblock = State(rowMax: base + offsets[9], rowSum: base + offsets[10], output: base + offsets[8])
            decode = State(rowMax: base + offsets[12], rowSum: base + offsets[13], output: base + offsets[11])
            decode4 = base + offsets[14]
            headKeys = base + offsets[15]
            headValues = base + offsets[16]
        }

        deinit { free(memory) }
    }

    /// - Parameters:
    ///   - threads: scratch sets to keep; `attend` uses at most this many threads.
    ///   - kernel: the tile kernel (its `isSupportedByCPU` must hold).
    init(nHead: Int, nHeadKV: Int, headDim: Int, threads: Int, kernel: AttentionTile.Kernel) throws(BitNetError) {
        guard nHead > 0, nHeadKV > 0, headDim > 0, threads > 0, nHead % nHeadKV == 0 else {
            throw .invalidArgument("attention: \(nHead) heads, \(nHeadKV) KV heads, head size \(headDim)")
        }
        guard kernel.isSupportedByCPU else { throw .unsupported("attention kernel \(kernel): not supported by this CPU") }
        self.nHead = nHead
        self.nHeadKV = nHeadKV
        self.headDim = headDim
        self.kernel = kernel
        self.threads = threads
        groupSize = nHead / nHeadKV
        positionsPerTile = max(1, TiledAttention.targetRows / groupSize)
        paddedDim = (headDim + 15) / 16 * 16
        rowsPadded = (positionsPerTile * groupSize + 15) / 16 * 16
        decodeRows = (groupSize + 15) / 16 * 16
        #if arch(arm64)
        usesDecode4 = false
        #else
        usesDecode4 = groupSize == 4 && kernel != .reference
        #endif
        var slots: [Scratch] = []
        for _ in 0..<threads {
            slots.append(try Scratch(dim: paddedDim, rows: rowsPadded, keys: TiledAttention.keyTile,
                                     heads: nHeadKV, decodeRows: decodeRows))
        }
        self.slots = slots
    }

    deinit {
        free(decodeQueries)
        free(parts)
    }

    /// One sequence's query rows for `attend`: positions
    /// startPosition..<startPosition + count of the sequence `cache` holds,
    /// rows `queryStride` / `outputStride` floats apart.
    struct Rows {
        let cache: KVCache
        let startPosition: Int
        let count: Int
        let queries: UnsafePointer<Float>
        let queryStride: Int
        let output: UnsafeMutablePointer<Float>
        let outputStride: Int
    }

    /// output[i][h·headDim ..< (h+1)·headDim] = attention of head h for the
    /// query at position startPosition + i, for i in 0..<count, against the
    /// keys and values the cache holds at positions 0...startPosition + i.
    /// Rows are `queryStride` / `outputStride` floats apart.
    func attend(cache: KVCache, layer: Int, startPosition: Int, count n: Int,
                queries: UnsafePointer<Float>, queryStride: Int,
                output: UnsafeMutablePointer<Float>, outputStride: Int, pool: ThreadPool) {
        attend([Rows(cache: cache, startPosition: startPosition, count: n, queries: queries, queryStride: queryStride,
                     output: output, outputStride: outputStride)], layer: layer, pool: pool)
    }

    /// `attend` for several sequences of one layer (each with its own cache).
    /// The single-position ones (a batched decode step's) share one parallel
    /// loop over all their work items: one by one, each of 8 short sequences
    /// paid a dispatch, a serial query and merge phase and the imbalance of
    /// its few items (BENCHMARKS.md, "Batched decoding"). Every output is the
    /// same, bit for bit, as the sequence's alone.
    func attend(_ sequences: [Rows], layer: Int, pool: ThreadPool) {
        let decoding = sequences.filter { $0.count == 1 }
        let batched = !decoding.isEmpty && reserveDecode(decoding)
        if batched { decode(decoding, layer: layer, pool: pool) }
        for rows in sequences where !(batched && rows.count == 1) {
            attendTiles(rows, layer: layer, pool: pool)
        }
    }

    /// The prompt path: work items of (KV head, query tile) for one sequence.
    private func attendTiles(_ rows: Rows, layer: Int, pool: ThreadPool) {
        let (cache, startPosition, n) = (rows.cache, rows.startPosition, rows.count)
        let (queries, queryStride, output, outputStride) = (rows.queries, rows.queryStride, rows.output, rows.outputStride)
        guard n > 0 else { return }
        let tiles = (n + positionsPerTile - 1) / positionsPerTile
        let items = tiles * nHeadKV
        let workers = min(pool.threadCount, threads, items)
        nextItem.store(0, ordering: .relaxed)
        pool.parallelFor(workers) { worker in
            let scratch = slots[worker]
            while true {
                let item = nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
                guard item < items else { break }
                // Last query tiles first: they see the most keys, so the
                // threads finish together.
                let tile = tiles - 1 - item / nHeadKV
                let first = tile * positionsPerTile
                let batchRows = first..<min(n, first + positionsPerTile)
                attendItem(cache: cache, layer: layer, startPosition: startPosition, batchRows: batchRows,
                           kvHead: item % nHeadKV, queries: queries, queryStride: queryStride,
                           output: output, outputStride: outputStride, scratch: scratch)
            }
        }
    }

    /// One work item: batch rows `batchRows` × the query heads of `kvHead`.
    private func attendItem(cache: KVCache, layer: Int, startPosition: Int, batchRows: Range<Int>, kvHead g: Int,
                            queries: UnsafePointer<Float>, queryStride: Int,
                            output: UnsafeMutablePointer<Float>, outputStride: Int, scratch: Scratch) {
        // Only this item's rows go to the kernel: a decode item (one position)
        // has groupSize rows, and padding it to the full tile's rowsPadded
        // would multiply the score work. Rows are independent lanes, so the
        // stride does not change any row's bits.
        let rp = (batchRows.count * groupSize + 15) / 16 * 16, dp = paddedDim, dim = headDim
        let scale = 1 / Float(dim).squareRoot()
        // Row r = (position index in the tile) · groupSize + (head within the group).
        for (local, i) in batchRows.enumerated() {
            for member in 0..<groupSize {
                let r = local * groupSize + member
                let q = queries + i * queryStride + (g * groupSize + member) * dim
                for d in 0..<dim { scratch.qt[d * rp + r] = q[d] * scale }
            }
        }
        scratch.main.reset(rows: rp, dim: dp)

        let firstPosition = startPosition + batchRows.lowerBound
        let lastPosition = startPosition + batchRows.upperBound - 1
        var tileStart = 0
        while tileStart <= lastPosition {
            // The first superblock folds straight into the running state (the
            // same as merging its fresh state into an empty one); later ones
            // start fresh and are merged when they end.
            let state = tileStart < TiledAttention.superblock ? scratch.main : scratch.superblock
            if tileStart % TiledAttention.superblock == 0, tileStart > 0 { state.reset(rows: rp, dim: dp) }
            let keys = min(TiledAttention.keyTile, lastPosition + 1 - tileStart)
            if cache.type == .q8,
               readsDiffer(cache: cache, tileStart: tileStart, keys: keys, from: firstPosition, to: lastPosition) {
                // Some key is f16 for early queries of the tile and 8-bit for
                // later ones: take the tile one query position at a time.
                for (local, i) in batchRows.enumerated() {
                    let position = startPosition + i
                    stage(cache: cache, layer: layer, kvHead: g, tileStart: tileStart, keys: keys,
                          query: position, scratch: scratch)
                    for r in 0..<rp {
                        let own = r / groupSize == local && r < batchRows.count * groupSize
                        scratch.limit[r] = own ? Int32(max(0, min(keys, position + 1 - tileStart))) : 0
                    }
                    step(qt: scratch.qt, state: state, scratch: scratch, keys: keys, rowsPadded: rp)
                }
            } else {
                stage(cache: cache, layer: layer, kvHead: g, tileStart: tileStart, keys: keys,
                      query: lastPosition, scratch: scratch)
                for r in 0..<rp {
                    let local = r / groupSize
                    let position = firstPosition + local
                    let live = local < batchRows.count
                    scratch.limit[r] = live ? Int32(max(0, min(keys, position + 1 - tileStart))) : 0
                }
                var next = nextTile(cache: cache, layer: layer, kvHead: g,
                                    tileStart: tileStart + TiledAttention.keyTile, lastPosition: lastPosition)
                step(qt: scratch.qt, state: state, scratch: scratch, keys: keys, rowsPadded: rp, prefetch: &next)
            }
            tileStart += TiledAttention.keyTile
            let ends = tileStart % TiledAttention.superblock == 0 || tileStart > lastPosition
            if ends, tileStart > TiledAttention.superblock {
                for r in 0..<rp {
                    AttentionState.merge(kernel, max: &scratch.main.rowMax[r], sum: &scratch.main.rowSum[r],
                                         output: scratch.main.output + r * dp,
                                         max: state.rowMax[r], sum: state.rowSum[r],
                                         output: state.output + r * dp, dim: dp)
                }
            }
        }

        for (local, i) in batchRows.enumerated() {
            for member in 0..<groupSize {
                let r = local * groupSize + member
                let o = output + i * outputStride + (g * groupSize + member) * dim
                let source = scratch.output + r * dp
                let inverse = 1 / scratch.rowSum[r]
                for d in 0..<dim { o[d] = source[d] * inverse }
            }
        }
    }

    @inline(__always)
    private func step(qt: UnsafePointer<Float>, state: State, scratch: Scratch, keys: Int, rowsPadded: Int,
                      staged: (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)? = nil,
                      prefetch next: UnsafePointer<bnk_attention_prefetch>? = nil) {
        AttentionTile.step(kernel, qt: qt, rowsPadded: rowsPadded,
                           keys: staged?.keys ?? UnsafePointer(scratch.keys),
                           values: staged?.values ?? UnsafePointer(scratch.values), count: keys, dim: paddedDim,
                           limit: scratch.limit, rowMax: state.rowMax, rowSum: state.rowSum,
                           output: state.output, scratch: scratch.kernel, prefetch: next)
    }

    // MARK: - Decode (one position)

    /// Superblocks (decode's unit of work) a query at `position` sees.
    private static func superblocks(at position: Int) -> Int { position / superblock + 1 }

    /// Makes room for the queries and the superblock states of `sequences`;
    /// false when the memory is not there (the caller then takes the prompt
    /// path, which gives the same bits).
    private func reserveDecode(_ sequences: [Rows]) -> Bool {
        var superblocks = 0
        for rows in sequences {
            let (sum, overflow) = superblocks.addingReportingOverflow(Self.superblocks(at: rows.startPosition))
            guard !overflow else { return false }
            superblocks = sum
        }
        if superblocks > partsSuperblocks {
            let wanted = max(superblocks, 2 * partsSuperblocks)
            guard let count = try? Memory.checkedProduct([wanted, nHeadKV, groupSize, paddedDim + 2,
                                                          MemoryLayout<Float>.size], what: "attention states"),
                  let memory = try? Memory.allocate(bytes: count, what: "attention states") else { return false }
            free(parts)
            parts = memory.bindMemory(to: Float.self, capacity: count / MemoryLayout<Float>.size)
            partsSuperblocks = wanted
        }
        if sequences.count > decodeQuerySequences {
            guard let count = try? Memory.checkedProduct([sequences.count, nHeadKV, paddedDim, decodeRows],
                                                         what: "attention scratch"),
                  let memory = try? Memory.allocate(bytes: count * MemoryLayout<Float>.size, what: "attention scratch")
            else { return false }
            free(decodeQueries)
            decodeQueries = memory.bindMemory(to: Float.self, capacity: count)
            decodeQueries.unsafelyUnwrapped.initialize(repeating: 0, count: count)
            decodeQuerySequences = sequences.count
        }
        return true
    }

    /// KV head g's scaled queries of the sequence at `slot` of a decode step.
    @inline(__always)
    private func queries(slot: Int, kvHead g: Int) -> UnsafeMutablePointer<Float> {
        decodeQueries.unsafelyUnwrapped + (slot * nHeadKV + g) * paddedDim * decodeRows
    }

    /// The (superblock b, KV head g) state's rows in `parts`.
    @inline(__always)
    private func part(_ b: Int, _ g: Int) -> (rowMax: UnsafeMutablePointer<Float>, rowSum: UnsafeMutablePointer<Float>,
                                              output: UnsafeMutablePointer<Float>) {
        let base = parts.unsafelyUnwrapped, states = partsSuperblocks * nHeadKV * groupSize
        let index = (b * nHeadKV + g) * groupSize
        return (base + index, base + states + index, base + 2 * states + index * paddedDim)
    }

    /// Attention of one position of every sequence: work items are
    /// (sequence, superblock, KV heads), each computing those heads' state over
    /// the superblock's keys, all in one parallel loop; each sequence's states
    /// are then merged per row in superblock order, as the prompt path does.
    private func decode(_ sequences: [Rows], layer: Int, pool: ThreadPool) {
        let dim = headDim, scale = 1 / Float(dim).squareRoot()
        let available = min(pool.threadCount, threads)
        pool.parallelFor(sequences.count) { slot in
            prepareQueries(sequences[slot].queries, slot: slot, scale: scale)
        }
        // A superblock's keys and values of all KV heads are one contiguous
        // stretch of the cache per layer: an item reads it whole whenever
        // there are enough superblocks to keep the threads busy (one
        // sequence: two, since the last one is partial), else each KV head is
        // an item. Head by head, a tile is read in strided pieces that wait
        // on memory (tg32 at depth 512 was ~15% slower that way).
        var firstPart: [Int] = []  // each sequence's first superblock state in `parts`
        var superblocks = 0
        for rows in sequences {
            firstPart.append(superblocks)
            superblocks += Self.superblocks(at: rows.startPosition)
        }
        let wholeHeads = sequences.count == 1 ? superblocks >= 2 : superblocks >= 2 * available
        let headsPerItem = wholeHeads ? nHeadKV : 1
        let itemsPerSuperblock = nHeadKV / headsPerItem
        let items = superblocks * itemsPerSuperblock
        let workers = min(available, items)
        nextItem.store(0, ordering: .relaxed)
        let claim = { () -> DecodeItem? in
            let item = self.nextItem.wrappingAdd(1, ordering: .relaxed).oldValue
            guard item < items else { return nil }
            var slot = 0
            while slot + 1 < sequences.count, firstPart[slot + 1] * itemsPerSuperblock <= item { slot += 1 }
            let local = item - firstPart[slot] * itemsPerSuperblock
            let first = (local % itemsPerSuperblock) * headsPerItem
            return DecodeItem(slot: slot, superblock: local / itemsPerSuperblock, part: firstPart[slot],
                              kvHeads: first..<(first + headsPerItem))
        }
        pool.parallelFor(workers) { worker in
            let scratch = slots[worker]
            var item = claim()
            while let current = item {
                item = decodeItem(sequences, layer: layer, current, scratch: scratch, claimFollowing: claim)
            }
        }
        pool.parallelFor(sequences.count) { slot in
            mergeParts(of: sequences[slot], from: firstPart[slot])
        }
    }

    /// The scaled queries of one sequence's position into its slot.
    private func prepareQueries(_ query: UnsafePointer<Float>, slot: Int, scale: Float) {
        let rp = decodeRows, dim = headDim
        for g in 0..<nHeadKV {
            let qt = queries(slot: slot, kvHead: g)
            let q = query + g * groupSize * dim
            if usesDecode4 {
                // Built once here rather than by the kernel on every tile,
                // which took about 5% of its time with the rows in cache
                // (tools/bench/decode_attention.c, 1 thread, Zen 3). One
                // vector per dimension: element by element this took 0.75 ms
                // of an 8-sequence step on Zen 4.
                for d in 0..<dim {
                    let (a, b, c, e) = (q[d] * scale, q[dim + d] * scale, q[2 * dim + d] * scale, q[3 * dim + d] * scale)
                    UnsafeMutableRawPointer(qt + d * rp).storeBytes(
                        of: SIMD16<Float>(a, a, a, a, b, b, b, b, c, c, c, c, e, e, e, e), as: SIMD16<Float>.self)
                }
            } else {
                for member in 0..<groupSize {
                    for d in 0..<dim { qt[d * rp + member] = q[member * dim + d] * scale }
                }
            }
        }
    }

    /// One sequence's output from its superblock states (`parts` from
    /// `firstPart` on), merged in superblock order.
    private func mergeParts(of rows: Rows, from firstPart: Int) {
        let dp = paddedDim, dim = headDim, superblocks = Self.superblocks(at: rows.startPosition)
        for g in 0..<nHeadKV {
            for member in 0..<groupSize {
                let first = part(firstPart, g)
                var m = first.rowMax[member], sum = first.rowSum[member]
                let accumulator = first.output + member * dp
                for b in 1..<superblocks {
                    let other = part(firstPart + b, g)
                    AttentionState.merge(kernel, max: &m, sum: &sum, output: accumulator,
                                         max: other.rowMax[member], sum: other.rowSum[member],
                                         output: other.output + member * dp, dim: dp)
                }
                let o = rows.output + (g * groupSize + member) * dim
                let inverse = 1 / sum
                for d in 0..<dim { o[d] = accumulator[d] * inverse }
            }
        }
    }

    /// A decode work item: KV heads `kvHeads` over superblock `superblock` of
    /// the sequence at `slot`, whose superblock states start at `part`.
    private struct DecodeItem {
        let slot: Int
        let superblock: Int
        let part: Int
        let kvHeads: Range<Int>
    }

    /// One decode item: the states of its KV heads over its superblock, tile
    /// by tile, every head of a tile in turn (so the item reads the tile's
    /// cache rows as one stretch), stored in `parts`. Returns the worker's
    /// next item, claimed through `claimFollowing` just before the last tile
    /// so that tile's calls can prefetch the next item's first tile, as every
    /// other tile prefetches its successor. Without it one tile in four
    /// started cold: on Zen 4 at depth 4096, decode attention alone took 8%
    /// longer (`tools/bench/decode_attention.c`, split `items` against
    /// `ahead`) and a token 1.6-2.1 ms longer (BENCHMARKS.md). Which worker
    /// takes which item changes no result: each item's state depends only on
    /// its keys.
    private func decodeItem(_ sequences: [Rows], layer: Int, _ item: DecodeItem, scratch: Scratch,
                            claimFollowing: () -> DecodeItem?) -> DecodeItem? {
        let b = item.superblock, kvHeads = item.kvHeads
        let cache = sequences[item.slot].cache, position = sequences[item.slot].startPosition
        let rp = decodeRows, dp = paddedDim
        for g in kvHeads {
            State(rowMax: scratch.decode.rowMax + g * rp, rowSum: scratch.decode.rowSum + g * rp,
                  output: scratch.decode.output + g * rp * dp).reset(rows: rp, dim: dp)
        }
        let start = b * TiledAttention.superblock
        let end = min(position + 1, start + TiledAttention.superblock)
        // An item of every KV head stages each tile's rows whole, in order.
        let wholeRows = kvHeads.count == nHeadKV && nHeadKV > 1
        let inPlace = readsF16InPlace(cache)
        var tileStart = start
        var following: DecodeItem?
        while tileStart < end {
            let keys = min(TiledAttention.keyTile, end - tileStart)
            for r in 0..<rp { scratch.limit[r] = r < groupSize ? Int32(keys) : 0 }
            // The tile the calls prefetch: the item's next one, or after its
            // last the following item's first (of its sequence, maybe
            // another), when it covers the same heads.
            var nextStart = tileStart + TiledAttention.keyTile, nextRows = 0, nextCache = cache
            if nextStart < end {
                nextRows = min(TiledAttention.keyTile, end - nextStart)
            } else {
                following = claimFollowing()
                if let next = following, next.kvHeads == kvHeads {
                    let sequence = sequences[next.slot]
                    nextCache = sequence.cache
                    nextStart = next.superblock * TiledAttention.superblock
                    nextRows = min(TiledAttention.keyTile, sequence.startPosition + 1 - nextStart)
                }
            }
            #if !arch(arm64)
            if inPlace {
                decodeTileInPlace(cache: cache, layer: layer, tileStart: tileStart, keys: keys, nextCache: nextCache,
                                  nextStart: nextStart, nextRows: nextRows, slot: item.slot, kvHeads: kvHeads,
                                  scratch: scratch)
                tileStart += TiledAttention.keyTile
                continue
            }
            #endif
            if wholeRows {
                stageHeads(cache: cache, layer: layer, tileStart: tileStart, keys: keys, query: position,
                           scratch: scratch)
            }
            for g in kvHeads {
                let staged: (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)
                if wholeRows {
                    let offset = g * TiledAttention.keyTile * dp
                    staged = (UnsafePointer(scratch.headKeys + offset), UnsafePointer(scratch.headValues + offset))
                } else {
                    stage(cache: cache, layer: layer, kvHead: g, tileStart: tileStart, keys: keys, query: position,
                          scratch: scratch)
                    staged = (UnsafePointer(scratch.keys), UnsafePointer(scratch.values))
                }
                let state = State(rowMax: scratch.decode.rowMax + g * rp, rowSum: scratch.decode.rowSum + g * rp,
                                  output: scratch.decode.output + g * rp * dp)
                #if !arch(arm64)
                if usesDecode4 {
                    // Four rows: (row, key) pairs in the lanes, the same bits.
                    let decode4 = kernel == .avx512 ? bnk_attention_decode4_avx512 : bnk_attention_decode4_avx2
                    decode4(queries(slot: item.slot, kvHead: g), staged.keys, staged.values, keys, dp,
                            Int32(keys), state.rowMax, state.rowSum, state.output, scratch.decode4)
                    continue
                }
                #endif
                step(qt: queries(slot: item.slot, kvHead: g), state: state, scratch: scratch, keys: keys, rowsPadded: rp,
                     staged: staged)
            }
            tileStart += TiledAttention.keyTile
        }
        for g in kvHeads {
            let target = part(item.part + b, g)
            for member in 0..<groupSize {
                target.rowMax[member] = scratch.decode.rowMax[g * rp + member]
                target.rowSum[member] = scratch.decode.rowSum[g * rp + member]
                (target.output + member * dp).update(from: scratch.decode.output + (g * rp + member) * dp, count: dp)
            }
        }
        return following
    }

    /// Whether decode reads this f16 cache in place (four query rows per KV
    /// head on AVX2 or AVX-512, head rows a multiple of 16 halves): the kernel converts
    /// rows as it loads them, so the f32 staging pass is skipped, with the
    /// same bits.
    private func readsF16InPlace(_ cache: KVCache) -> Bool {
        #if arch(arm64)
        return false  // no .avx2 case there
        #else
        return usesDecode4 && (kernel == .avx2 || kernel == .avx512) && cache.type == .f16 && headDim == paddedDim
        #endif
    }

    #if !arch(arm64)
    /// One key tile of decode for KV heads `kvHeads`, read from the f16
    /// cache in place. While it computes, each head's call prefetches a
    /// share of the item's next tile. With every KV head in the item, call i
    /// of H takes the i-th H-th of the next tile's rows, whole rows in address
    /// order: the calls of one tile walk the next tile sequentially, which the
    /// hardware prefetchers follow (reading head by head, in 256-byte pieces
    /// 1280 bytes apart on 2B4T, reached about half that bandwidth in
    /// tools/bench/decode_attention.c). With one head, its own rows of the
    /// next tile.
    private func decodeTileInPlace(cache: KVCache, layer: Int, tileStart: Int, keys: Int, nextCache: KVCache,
                                   nextStart: Int, nextRows: Int, slot: Int, kvHeads: Range<Int>, scratch: Scratch) {
        let rp = decodeRows, dp = paddedDim, stride = cache.rowBytes / 2
        let keyRows = cache.keys(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self)
        let valueRows = cache.values(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self)
        let wholeRows = kvHeads.count == nHeadKV
        let decode4F16 = kernel == .avx512 ? bnk_attention_decode4_f16_avx512 : bnk_attention_decode4_f16_avx2
        for (call, g) in kvHeads.enumerated() {
            var next: bnk_attention_prefetch  // var: passed by pointer
            if wholeRows {
                let first = call * nextRows / kvHeads.count, last = (call + 1) * nextRows / kvHeads.count
                next = bnk_attention_prefetch(
                    keys: UnsafePointer(nextCache.keys(layer: layer, position: nextStart + first)
                        .assumingMemoryBound(to: UInt8.self)),
                    values: UnsafePointer(nextCache.values(layer: layer, position: nextStart + first)
                        .assumingMemoryBound(to: UInt8.self)),
                    stride: nextCache.rowBytes, rows: last - first, row_bytes: nextCache.rowBytes)
            } else {
                next = rowsOfHead(cache: nextCache, layer: layer, kvHead: g, tileStart: nextStart, rows: nextRows)
            }
            decode4F16(
                queries(slot: slot, kvHead: g), keyRows + g * headDim, valueRows + g * headDim, stride, keys, dp,
                Int32(keys), scratch.decode.rowMax + g * rp, scratch.decode.rowSum + g * rp,
                scratch.decode.output + g * rp * dp, scratch.decode4, &next)
        }
    }
    #endif

    /// The cache rows (KV head g) of the key tile starting at `tileStart`, for
    /// the kernel to prefetch while it computes the current tile: decode reads
    /// each key once, so without this it waits on memory tile after tile.
    /// Empty past the last position.
    private func nextTile(cache: KVCache, layer: Int, kvHead g: Int, tileStart: Int,
                          lastPosition: Int) -> bnk_attention_prefetch {
        guard tileStart <= lastPosition else {
            return bnk_attention_prefetch(keys: nil, values: nil, stride: 0, rows: 0, row_bytes: 0)
        }
        return rowsOfHead(cache: cache, layer: layer, kvHead: g, tileStart: tileStart,
                          rows: min(TiledAttention.keyTile, lastPosition + 1 - tileStart))
    }

    /// `rows` cache rows of KV head g from `tileStart`, as a prefetch
    /// request; empty for q8 (whose rows live in two places).
    private func rowsOfHead(cache: KVCache, layer: Int, kvHead g: Int, tileStart: Int,
                            rows: Int) -> bnk_attention_prefetch {
        let elementBytes: Int
        switch cache.type {
        case .f16: elementBytes = 2
        case .f32: elementBytes = 4
        case .q8: elementBytes = 0
        }
        guard elementBytes > 0, rows > 0 else {
            return bnk_attention_prefetch(keys: nil, values: nil, stride: 0, rows: 0, row_bytes: 0)
        }
        let offset = g * headDim * elementBytes
        return bnk_attention_prefetch(
            keys: UnsafePointer(cache.keys(layer: layer, position: tileStart).assumingMemoryBound(to: UInt8.self) + offset),
            values: UnsafePointer(cache.values(layer: layer, position: tileStart)
                .assumingMemoryBound(to: UInt8.self) + offset),
            stride: cache.rowBytes, rows: rows, row_bytes: headDim * elementBytes)
    }

    /// Under q8, whether some key of the tile is read in f16 by one query of
    /// first...last and in 8 bits by another: key t is f16 for query p only
    /// when t > p − recentWindow (KVCache.recent), so that happens for
    /// t in (first − window, last − window].
    private func readsDiffer(cache: KVCache, tileStart: Int, keys: Int, from first: Int, to last: Int) -> Bool {
        let low = max(tileStart, first - cache.recentWindow + 1)
        let high = min(tileStart + keys - 1, last - cache.recentWindow)
        return low <= high
    }

    /// Converts keys and values of positions tileStart..<tileStart+keys, KV
    /// head g, to f32 rows of paddedDim (padding stays 0), as a query at
    /// `query` reads them (q8: the f16 ring inside its window, else 8-bit),
    /// with the cache's kernel set (its context's; `kernel` only picks the
    /// tile and merge loops, and the context derives both from one set).
    private func stage(cache: KVCache, layer: Int, kvHead g: Int, tileStart: Int, keys: Int, query: Int,
                       scratch: Scratch) {
        let dim = headDim, dp = paddedDim
        if cache.type == .f16, cache.kernels.hasFloatSIMD {
            // The whole tile in one C call (F16C on x86, NEON on AArch64).
            bnk_attention_stage_f16(
                cache.keys(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self) + g * dim,
                cache.values(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self) + g * dim,
                cache.rowBytes / 2, keys, dim, scratch.keys, scratch.values, dp)
            return
        }
        for j in 0..<keys {
            stageRow(cache: cache, layer: layer, kvHead: g, position: tileStart + j, query: query,
                     keys: scratch.keys + j * dp, values: scratch.values + j * dp)
        }
    }

    /// `stage` for every KV head at once, in cache-row order (each row's heads
    /// are adjacent, so the tile is read as one stretch): head g's rows go to
    /// scratch.headKeys/headValues + g · keyTile · paddedDim.
    private func stageHeads(cache: KVCache, layer: Int, tileStart: Int, keys: Int, query: Int, scratch: Scratch) {
        let dim = headDim, dp = paddedDim, headStride = TiledAttention.keyTile * dp
        if cache.type == .f16, cache.kernels.hasFloatSIMD {
            bnk_attention_stage_f16_heads(
                cache.keys(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self),
                cache.values(layer: layer, position: tileStart).assumingMemoryBound(to: UInt16.self),
                cache.rowBytes / 2, keys, nHeadKV, dim, scratch.headKeys, scratch.headValues, dp, headStride)
            return
        }
        for j in 0..<keys {
            for g in 0..<nHeadKV {
                stageRow(cache: cache, layer: layer, kvHead: g, position: tileStart + j, query: query,
                         keys: scratch.headKeys + g * headStride + j * dp,
                         values: scratch.headValues + g * headStride + j * dp)
            }
        }
    }

    /// Key and value of one position, KV head g, as f32 (`headDim` floats each).
    @inline(__always)
    private func stageRow(cache: KVCache, layer: Int, kvHead g: Int, position t: Int, query: Int,
                          keys k: UnsafeMutablePointer<Float>, values v: UnsafeMutablePointer<Float>) {
        let dim = headDim, kernels = cache.kernels
        switch cache.type {
        case .f16:
            HalfVector.load(cache.keys(layer: layer, position: t).assumingMemoryBound(to: UInt16.self) + g * dim, k, dim,
                            kernels: kernels)
            HalfVector.load(cache.values(layer: layer, position: t).assumingMemoryBound(to: UInt16.self) + g * dim, v, dim,
                            kernels: kernels)
        case .f32:
            k.update(from: cache.keys(layer: layer, position: t).assumingMemoryBound(to: Float.self) + g * dim, count: dim)
            v.update(from: cache.values(layer: layer, position: t).assumingMemoryBound(to: Float.self) + g * dim, count: dim)
        case .q8:
            if let recent = cache.recent(layer: layer, position: t, query: query) {
                HalfVector.load(recent.keys + g * dim, k, dim, kernels: kernels)
                HalfVector.load(recent.values + g * dim, v, dim, kernels: kernels)
            } else {
                let (ks, kq) = KVQuantization.head(cache.keys(layer: layer, position: t),
                                                   heads: nHeadKV, headDim: dim, head: g)
                let (vs, vq) = KVQuantization.head(cache.values(layer: layer, position: t),
                                                   heads: nHeadKV, headDim: dim, head: g)
                KVQuantization.expand(ks, kq, k, dim, kernels: kernels)
                KVQuantization.expand(vs, vq, v, dim, kernels: kernels)
            }
        }
    }
}
