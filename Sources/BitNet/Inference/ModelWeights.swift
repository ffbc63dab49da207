/// A model's weights in the form the forward pass computes with, prepared
/// once at load and shared read-only by every context.
///
/// - Ternary projections are repacked into `PackedTernaryMatrix` (≈2 bits per
///   weight, the layout the SIMD kernels stream).
/// - The LM head is copied (or requantized to Q8_0) out of the file mapping;
///   BF16, Q4_K and Q6_K embeddings are expanded to F32 once, since no kernel
///   reads them. Everything decode streams sits on huge pages unless
///   `hugePages` is false; then a stored F32/F16/Q8_0 head is read in place.
/// - Norm vectors are copied into aligned memory (file offsets need not be
///   4-byte aligned when `general.alignment` is small).
package final class ModelWeights: @unchecked Sendable {
    struct Layer {
        let attnNorm: UnsafePointer<Float>
        /// nil for architectures without sub-norms (llama, qwen3).
        let attnSubNorm: UnsafePointer<Float>?
        let ffnNorm: UnsafePointer<Float>
        let ffnSubNorm: UnsafePointer<Float>?
        /// Qwen3's per-head query / key RMSNorm weights (head_dim each).
        let attnQNorm: UnsafePointer<Float>?
        let attnKNorm: UnsafePointer<Float>?
        let attnQ: PackedTernaryMatrix
        let attnK: PackedTernaryMatrix
        let attnV: PackedTernaryMatrix
        let attnOutput: PackedTernaryMatrix
        let ffnGate: PackedTernaryMatrix
        let ffnUp: PackedTernaryMatrix
        let ffnDown: PackedTernaryMatrix
    }

    let layers: [Layer]
    let outputNorm: UnsafePointer<Float>
    let embeddingMatrix: DenseMatrix
    let lmHeadMatrix: DenseMatrix
    /// Memory this object owns: norms and expanded dense matrices.
    private let owned: [AlignedMemory]

    /// Bytes of repacked and expanded weights held outside the file mapping.
    package let ownedBytes: Int

    /// Prepares the validated tensors of a model (see `Model.init`).
    /// `releaseMappedSources`: the tensors live in a file mapping; once a
    /// ternary tensor is repacked its file pages are dropped from the process
    /// (they stay in the page cache), so resident memory is the repacked copy
    /// only, not both.
    init(layers modelLayers: [BitNet.Layer], outputNorm outputNormTensor: TensorView, tokenEmbedding: TensorView,
         output: TensorView?, lmHead: LMHeadStorage, hugePages: Bool,
         requireTernary: Bool = false, releaseMappedSources: Bool = false,
         progress: ((Double) -> Bool)? = nil) throws(BitNetError) {
        var owned: [AlignedMemory] = []
        let arena = hugePages ? HugePageArena() : nil
        func norm(_ tensor: TensorView) throws(BitNetError) -> UnsafePointer<Float> {
            let memory = try AlignedMemory(byteCount: tensor.elementCount * 4, what: "norm \(tensor.name)")
            try Dequantize.values(type: tensor.type, from: tensor.data, count: tensor.elementCount,
                                  into: memory.typed(Float.self))
            owned.append(memory)
            return UnsafePointer(memory.typed(Float.self))
        }
        func optionalNorm(_ tensor: TensorView?) throws(BitNetError) -> UnsafePointer<Float>? {
            guard let tensor, tensor.elementCount > 0 else { return nil }
            return try norm(tensor)
        }
        func dense(_ tensor: TensorView) throws(BitNetError) -> DenseMatrix {
            let rows = tensor.rowCount, cols = tensor.rowLength
            if DenseMatrix.Storage(rawValue: tensor.type.id) != nil {
                return try DenseMatrix(type: tensor.type.id, rows: rows, cols: cols, data: tensor.data)
            }
            let count = try Memory.checkedProduct([rows, cols], what: "tensor \(tensor.name)")
            let memory = try AlignedMemory.allocate(byteCount: count * 4, arena: arena, what: "tensor \(tensor.name) as F32")
            try Dequantize.values(type: tensor.type, from: tensor.data, count: count, into: memory.typed(Float.self))
            owned.append(memory)
            return try DenseMatrix(type: GGMLType.f32.id, rows: rows, cols: cols,
                                   data: UnsafeRawBufferPointer(start: memory.pointer, count: count * 4))
        }
        func ternary(_ layer: BitNet.Layer, _ projection: Projection) throws(BitNetError) -> PackedTernaryMatrix {
            let tensor = layer.weight(projection)
            do {
                let packed = try PackedTernaryMatrix(type: tensor.type.id, rows: tensor.rowCount, cols: tensor.rowLength,
                                                     data: tensor.data, extraScale: layer.scale(projection)?.scalarValue,
                                                     requireTernary: requireTernary, arena: arena)
                if releaseMappedSources { Memory.releaseMappedPages(tensor.data) }
                return packed
            } catch {
                throw BitNetError(error.status, "tensor \(tensor.name): \(error.message)")
            }
        }

        // Copying or requantizing a 2B4T head (0.33 G values) is worth a
        // temporary pool over every core.
        func loadPool(for matrix: DenseMatrix) throws(BitNetError) -> ThreadPool? {
            matrix.byteCount >= 1 << 22 ? try ThreadPool(pinToCPUs: false) : nil
        }

        var layers: [Layer] = []
        for (index, layer) in modelLayers.enumerated() {
            if let progress, !progress(Double(index) / Double(max(modelLayers.count, 1))) {
                throw BitNetError(.cancelled, "loading cancelled by the progress callback")
            }
            layers.append(Layer(
                attnNorm: try norm(layer.attnNorm), attnSubNorm: try optionalNorm(layer.attnSubNorm),
                ffnNorm: try norm(layer.ffnNorm), ffnSubNorm: try optionalNorm(layer.ffnSubNorm),
                attnQNorm: try optionalNorm(layer.attnQNorm), attnKNorm: try optionalNorm(layer.attnKNorm),
                attnQ: try ternary(layer, .q), attnK: try ternary(layer, .k), attnV: try ternary(layer, .v),
                attnOutput: try ternary(layer, .output),
                ffnGate: try ternary(layer, .gate), ffnUp: try ternary(layer, .up), ffnDown: try ternary(layer, .down)))
        }
        self.layers = layers
        outputNorm = try norm(outputNormTensor)
        let headTensor = output ?? tokenEmbedding
        let embedding = try dense(tokenEmbedding)
        let storedHead = try output.map { (tensor) throws(BitNetError) in try dense(tensor) } ?? embedding
        // Types the kernels read in place are still in the file mapping;
        // expanded ones already sit in the arena.
        let headInMapping = DenseMatrix.Storage(rawValue: headTensor.type.id) != nil
        // The stored head, copied onto huge pages when it sits in a file
        // mapping whose pages the copy replaces (a heap-loaded file stays
        // resident anyway, so a copy there would only double the memory).
        func stored() throws(BitNetError) -> DenseMatrix {
            guard headInMapping && hugePages && releaseMappedSources else { return storedHead }
            return try storedHead.copied(into: HugePageArena(), pool: try loadPool(for: storedHead),
                                         releasingSource: true)
        }
        // The source is read once; embedding lookups fault single rows back in.
        func requantized() throws(BitNetError) -> DenseMatrix {
            if storedHead.storage == .q8_0 { return storedHead }
            // A model is shared by contexts of any kernel set, and its load has
            // none at hand: the process default runs (every set is bit-exact here).
            return try storedHead.quantizedToQ8_0(pool: try loadPool(for: storedHead), kernels: .selected, arena: arena,
                                                  releasingSource: releaseMappedSources && headInMapping)
        }
        switch lmHead {
        case .asStored: lmHeadMatrix = try stored()
        case .q8_0: lmHeadMatrix = try requantized()
        case .automatic where storedHead.cols % 32 != 0:
            // Q8_0 blocks are 32 wide; an embedding width such as 1000 keeps its stored type.
            Log.info("LM head kept in its stored type: row length \(storedHead.cols) is not a multiple of 32")
            lmHeadMatrix = try stored()
        case .automatic:
            do throws(BitNetError) {
                lmHeadMatrix = try requantized()
            } catch where error.status == .format {
                // A head Q8_0 cannot encode (non-finite or huge values) still loads as stored.
                Log.warn("LM head kept in its stored type: \(error.message)")
                lmHeadMatrix = try stored()
            }
        }
        let headIsStored = lmHeadMatrix.storage == storedHead.storage && lmHeadMatrix.layout == storedHead.layout
        embeddingMatrix = output == nil && headIsStored ? lmHeadMatrix : embedding
        self.owned = owned
        ownedBytes = owned.reduce(0) { $0 + $1.byteCount }
            + layers.reduce(0) { total, l in
                total + [l.attnQ, l.attnK, l.attnV, l.attnOutput, l.ffnGate, l.ffnUp, l.ffnDown]
                    .reduce(0) { $0 + $1.byteCount }
            }
    }

    /// Weight bytes one generated token streams from memory: every ternary
    /// matrix plus the LM head (the embedding row and norms are negligible).
    package var bytesPerToken: Int {
        layers.reduce(lmHeadMatrix.byteCount) { total, l in
            total + [l.attnQ, l.attnK, l.attnV, l.attnOutput, l.ffnGate, l.ffnUp, l.ffnDown].reduce(0) { $0 + $1.byteCount }
        }
    }

    /// Row `token` of the embedding table, as floats.
    func embedding(token: Int, into out: UnsafeMutablePointer<Float>) {
        embeddingMatrix.row(token, into: out)
    }

    /// logits[r] = lmHead[r] · x for every vocabulary row, split across the pool.
    func logits(of x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, pool: ThreadPool,
                kernels: KernelSet) {
        lmHeadMatrix.multiply(x, into: out, pool: pool, kernels: kernels)
    }

    /// The logits of several rows in one pass over the LM head (a batched step).
    func logits(of xs: [UnsafePointer<Float>], into outs: [UnsafeMutablePointer<Float>], pool: ThreadPool,
                kernels: KernelSet) {
        lmHeadMatrix.multiply(xs, into: outs, pool: pool, kernels: kernels)
    }
}
