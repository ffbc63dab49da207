#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BitNet b1.58 network applied to a batch of rows: consecutive tokens of
/// one sequence (a prompt, a decode step) or of several (a batched step, each
/// sequence with its own KV cache; see `SequenceSegment`).
///
/// Per layer (docs/ARCHITECTURE.md §4.1 "The forward pass"):
///   n = rms(x)·attn_norm;  q,k,v = BitLinear(n);  RoPE(q, k);  cache k, v
///   a = rms(attention(q))·attn_sub_norm;  x += BitLinear_o(a)
///   m = rms(x)·ffn_norm;  f = act(BitLinear_gate(m)) · BitLinear_up(m)
///   f = rms(f)·ffn_sub_norm;  x += BitLinear_down(f)
/// then logits = embd · (rms(x)·output_norm) for the rows that need them.
/// Residual stream, norms and the gate stay in f32 (relu² overflows f16).
/// Architectures without sub-norms (llama, qwen3) quantize the attention
/// output and the gated value directly; qwen3 also RMS-normalizes each query
/// and key head before RoPE (`ArchitectureFamily.swift`).
final class ForwardPass {
    let hp: HyperParameters
    let weights: ModelWeights
    let pool: ThreadPool
    /// Most rows one `run` evaluates (the scratch is sized for it).
    let batchSize: Int
    /// The one kernel set of the pass (its context's or batch's): the ternary
    /// and dense products, the attention tiles, the norms' sums of squares and
    /// the activation rows all take it from here, the KV rows from the cache
    /// the context created with the same set.
    let kernels: KernelSet
    let rope: RoPE

    // Scratch, one row per token of the batch.
    private let x: Buffer          // [batch][embd]   residual stream
    private let normed: Buffer     // [batch][max(embd, ff)]  norm output before quantization
    private let q: Buffer          // [batch][qDim]   queries
    private let k: Buffer          // [batch][kvDim]
    private let v: Buffer          // [batch][kvDim]
    private let attention: Buffer  // [batch][qDim]   attention output
    private let gate: Buffer       // [batch][ff]
    private let up: Buffer         // [batch][ff]
    private let ropeTable: Buffer  // [batch][headDim]
    private let projected: Buffer  // [batch][embd]   attn_output / ffn_down result before the residual add
    private let attentionTiles: TiledAttention  // its own per-thread scratch
    private let embdActivations: QuantizedActivations  // int8 inputs of q/k/v, gate/up, attn_output
    private let ffActivations: QuantizedActivations    // int8 input of ffn_down
    private let attnOutActivations: QuantizedActivations  // int8 input of attn_output (embdActivations unless qDim ≠ embd)

    init(hparams hp: HyperParameters, weights: ModelWeights, pool: ThreadPool,
         batchSize: Int, kernels: KernelSet) throws(BitNetError) {
        guard kernels.isSupportedByCPU else { throw .unsupported("kernel set \(kernels.rawValue): not supported by this CPU") }
        self.hp = hp
        self.weights = weights
        self.pool = pool
        self.batchSize = batchSize
        self.kernels = kernels
        rope = RoPE(model: hp)
        let embd = hp.nEmbd, ff = hp.nFF, kvDim = hp.nHeadKV * hp.headDim, qDim = hp.qDim
        x = try Buffer(batchSize, embd)
        normed = try Buffer(batchSize, max(embd, ff, qDim))
        q = try Buffer(batchSize, qDim)
        k = try Buffer(batchSize, kvDim)
        v = try Buffer(batchSize, kvDim)
        attention = try Buffer(batchSize, qDim)
        gate = try Buffer(batchSize, ff)
        up = try Buffer(batchSize, ff)
        ropeTable = try Buffer(batchSize, hp.headDim)
        projected = try Buffer(batchSize, embd)
        attentionTiles = try TiledAttention(nHead: hp.nHead, nHeadKV: hp.nHeadKV, headDim: hp.headDim,
                                            threads: pool.threadCount, kernel: AttentionTile.Kernel(kernels))
        let group = hp.architecture?.activationGroupColumns
        embdActivations = try QuantizedActivations(cols: embd, capacity: batchSize, groupColumns: group)
        ffActivations = try QuantizedActivations(cols: ff, capacity: batchSize, groupColumns: group)
        attnOutActivations = qDim == embd ? embdActivations
            : try QuantizedActivations(cols: qDim, capacity: batchSize, groupColumns: group)
    }

    /// Runs `tokens` at positions `startPosition...` of the sequence `cache`
    /// holds, writing the logits of batch rows `logitRows` to `logits`
    /// (row-major, nVocab each).
    func run(tokens: UnsafeBufferPointer<Int32>, startPosition: Int, cache: KVCache, logitRows: Range<Int>,
             logits: UnsafeMutablePointer<Float>, isInterrupted: () -> Bool) throws(BitNetError) {
        try run([SequenceSegment(cache: cache, tokens: tokens, startPosition: startPosition,
                                 logitRows: logitRows, logits: logits)], isInterrupted: isInterrupted)
    }

    /// Runs every segment's tokens in one pass over the weights: the rows of
    /// all segments are stacked for the projections, and each segment attends
    /// to its own cache. A row's numbers never depend on the other rows (every
    /// per-row operation is independent and the kernels compute each row the
    /// same way whatever the row count), so a sequence gets the same logits
    /// alone or batched with others.
    func run(_ segments: [SequenceSegment], isInterrupted: () -> Bool) throws(BitNetError) {
        var n = 0
        var firstRow: [Int] = []
        for segment in segments {
            firstRow.append(n)
            n += segment.tokens.count
        }
        precondition(n <= batchSize, "forward pass: \(n) rows exceed the scratch for \(batchSize)")
        guard n > 0 else { return }
        precondition(segments.count == 1 || Set(segments.map { ObjectIdentifier($0.cache) }).count == segments.count,
                     "forward pass: two segments share a cache")
        let attentionRows = segments.enumerated().map { s, segment in
            TiledAttention.Rows(cache: segment.cache, startPosition: segment.startPosition, count: segment.tokens.count,
                                queries: q.row(firstRow[s]), queryStride: q.width,
                                output: attention.row(firstRow[s]), outputStride: attention.width)
        }
        let embd = hp.nEmbd
        for (s, segment) in segments.enumerated() {
            for (i, token) in segment.tokens.enumerated() {
                weights.embedding(token: Int(token), into: x.row(firstRow[s] + i))
                rope.fillTable(position: segment.startPosition + i, into: ropeTable.row(firstRow[s] + i))
            }
        }

        // The per-row work between products (residual adds, norms, the gate,
        // quantization) runs in one parallel loop over the rows per phase;
        // layer l + 1's attention norm joins layer l's last residual add.
        let firstNorm = weights.layers[0].attnNorm
        forEachRow(n) { i in self.normalizeAndQuantize(self.x, row: i, firstNorm, into: self.embdActivations) }
        embdActivations.setCount(n)
        for layer in 0..<hp.nLayer {
            if isInterrupted() { throw BitNetError(.cancelled, "interrupted") }
            let w = weights.layers[layer]

            // Attention block.
            project([(w.attnQ, q), (w.attnK, k), (w.attnV, v)], embdActivations)
            // Each segment writes only its own cache, so segments run in parallel.
            pool.parallelFor(segments.count) { s in
                let segment = segments[s]
                for i in firstRow[s]..<(firstRow[s] + segment.tokens.count) {
                    if let qNorm = w.attnQNorm, let kNorm = w.attnKNorm {
                        self.normalizeHeads(self.q.row(i), qNorm, heads: self.hp.nHead)
                        self.normalizeHeads(self.k.row(i), kNorm, heads: self.hp.nHeadKV)
                    }
                    self.rope.apply(self.q.row(i), heads: self.hp.nHead, table: self.ropeTable.row(i))
                    self.rope.apply(self.k.row(i), heads: self.hp.nHeadKV, table: self.ropeTable.row(i))
                    segment.cache.store(layer: layer, position: segment.startPosition + i - firstRow[s],
                                        keys: self.k.row(i), values: self.v.row(i))
                }
            }
            attentionTiles.attend(attentionRows, layer: layer, pool: pool)
            forEachRow(n) { i in
                if let subNorm = w.attnSubNorm {
                    self.normalizeAndQuantize(self.attention, row: i, subNorm, into: self.attnOutActivations)
                } else {
                    self.attnOutActivations.quantize(self.attention.base, token: i, stride: self.attention.width,
                                                     kernels: self.kernels)
                }
            }
            attnOutActivations.setCount(n)
            project([(w.attnOutput, projected)], attnOutActivations)

            // Feed-forward block.
            forEachRow(n) { i in
                self.addResidual(row: i)
                self.normalizeAndQuantize(self.x, row: i, w.ffnNorm, into: self.embdActivations)
            }
            embdActivations.setCount(n)
            project([(w.ffnGate, gate), (w.ffnUp, up)], embdActivations)
            forEachRow(n) { i in
                let ff = self.hp.nFF
                switch self.hp.activation {
                case .relu2: FloatOps.relu2Gate(self.gate.row(i), self.up.row(i), into: self.gate.row(i), count: ff)
                case .silu: FloatOps.siluGate(self.gate.row(i), self.up.row(i), into: self.gate.row(i), count: ff)
                }
                if let subNorm = w.ffnSubNorm {
                    self.normalizeAndQuantize(self.gate, row: i, subNorm, into: self.ffActivations)
                } else {
                    self.ffActivations.quantize(self.gate.base, token: i, stride: self.gate.width, kernels: self.kernels)
                }
            }
            ffActivations.setCount(n)
            project([(w.ffnDown, projected)], ffActivations)
            let next = layer + 1 < hp.nLayer ? weights.layers[layer + 1] : nil
            forEachRow(n) { i in
                self.addResidual(row: i)
                if let next { self.normalizeAndQuantize(self.x, row: i, next.attnNorm, into: self.embdActivations) }
            }
            if next != nil { embdActivations.setCount(n) }
        }
        if isInterrupted() { throw BitNetError(.cancelled, "interrupted") }

        // Every wanted row's logits in one pass over the LM head (rows of
        // `normed` are free now).
        var inputs: [UnsafePointer<Float>] = [], outputs: [UnsafeMutablePointer<Float>] = []
        for (s, segment) in segments.enumerated() {
            for (out, i) in segment.logitRows.enumerated() {
                let row = normed.row(inputs.count)
                FloatOps.rmsNorm(x.row(firstRow[s] + i), weight: weights.outputNorm, eps: hp.rmsEps, into: row, count: embd,
                                 kernels: kernels)
                inputs.append(UnsafePointer(row))
                outputs.append(segment.logits + out * hp.nVocab)
            }
        }
        weights.logits(of: inputs, into: outputs, pool: pool, kernels: kernels)
    }

    /// out[t] = W · activations[t] for every (W, out) pair and the tokens held,
    /// all pairs' rows split across the pool in one parallel loop (one sync).
    private func project(_ products: [(PackedTernaryMatrix, Buffer)], _ activations: QuantizedActivations) {
        let targets = products.map { TernaryProductTarget($0.0, into: $0.1.base, yStride: $0.1.width) }
        PackedTernaryMatrix.multiply(targets, activations, pool: pool, kernels: kernels)
    }

    /// Runs `body(i)` for every batch row i, spread over the pool when there
    /// are several rows (a prompt chunk, a batched step). Each row's work
    /// reads and writes only that row, so the result is a serial loop's.
    /// Serially these phases held one thread while the others spun: an
    /// 8-row decode step on Zen 4 takes 0.8 ms (1.2%) less this way,
    /// measured paired within one process (BENCHMARKS.md).
    private func forEachRow(_ n: Int, _ body: (Int) -> Void) {
        pool.parallelFor(n, body)
    }

    /// x[i] += projected[i].
    private func addResidual(row i: Int) {
        FloatOps.add(projected.row(i), into: x.row(i), count: hp.nEmbd)
    }

    /// normed[i] = rms(source[i]) · weight, quantized into token i of `activations`.
    private func normalizeAndQuantize(_ source: Buffer, row i: Int, _ weight: UnsafePointer<Float>,
                                      into activations: QuantizedActivations) {
        FloatOps.rmsNorm(source.row(i), weight: weight, eps: hp.rmsEps, into: normed.row(i), count: activations.cols,
                         kernels: kernels)
        activations.quantize(normed.base, token: i, stride: normed.width, kernels: kernels)
    }

    /// RMS-normalizes each of `heads` consecutive heads of `row` in place (QK-norm).
    private func normalizeHeads(_ row: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, heads: Int) {
        for h in 0..<heads {
            let head = row + h * hp.headDim
            FloatOps.rmsNorm(head, weight: weight, eps: hp.rmsEps, into: head, count: hp.headDim, kernels: kernels)
        }
    }
}

/// One sequence's rows in a forward pass: `tokens` at positions
/// `startPosition...` of the sequence whose keys and values `cache` holds.
/// The logits of rows `logitRows` (indices into `tokens`) go to `logits`,
/// nVocab floats per row, the first wanted row first.
struct SequenceSegment {
    let cache: KVCache
    let tokens: UnsafeBufferPointer<Int32>
    let startPosition: Int
    let logitRows: Range<Int>
    let logits: UnsafeMutablePointer<Float>
}

/// A row-major float matrix of scratch memory, 64-byte aligned.
final class Buffer {
    let base: UnsafeMutablePointer<Float>
    let rows: Int
    let width: Int

    init(_ rows: Int, _ width: Int) throws(BitNetError) {
        let bytes = try Memory.checkedProduct([rows, width, MemoryLayout<Float>.size], what: "scratch buffer")
        base = try Memory.allocate(bytes: bytes, what: "scratch buffer").assumingMemoryBound(to: Float.self)
        self.rows = rows
        self.width = width
    }

    deinit { free(base) }

    @inline(__always) func row(_ i: Int) -> UnsafeMutablePointer<Float> { base + i * width }
}
