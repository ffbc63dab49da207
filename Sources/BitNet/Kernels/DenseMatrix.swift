import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A float-valued weight matrix used without activation quantization: the
/// token embedding and the LM head (`y[r] = Σ_k E[r][k] · x[k]`, x in f32;
/// only a requantized Q8_0 head, in the split layout, rounds x to int16 with
/// one scale: DenseMatrix+Q8_0Split.swift).
///
/// It borrows the tensor bytes (typically the mmapped GGUF file): the owner
/// of that memory must outlive this value. Row r is also what an embedding
/// lookup needs (`row(_:into:)`).
package struct DenseMatrix: @unchecked Sendable {
    package enum Storage: UInt32, Sendable {
        case f32 = 0
        case f16 = 1
        case q8_0 = 8
    }

    /// How the values of `storage` are arranged in memory.
    enum Layout: Sendable {
        /// As GGUF stores the type: row after row (Q8_0: 34-byte blocks).
        case ggml
        /// Q8_0 values rearranged for the int16-x kernels (requantized LM
        /// heads only; see DenseMatrix+Q8_0Split.swift).
        case q8_0Split
    }

    package let storage: Storage
    let layout: Layout
    package let rows: Int
    package let cols: Int
    let base: UnsafeRawPointer
    /// Bytes per row (in the split layout, quants and scales together).
    let rowBytes: Int
    /// Bytes one full product reads.
    package var byteCount: Int { rows * rowBytes }
    /// Keeps memory this matrix owns alive (requantized copies); nil when the
    /// bytes are borrowed.
    let owner: AlignedMemory?

    /// - Throws: `.unsupported` for other types or Q8_0 rows that are not a
    ///   multiple of 32, `.format` when `data` is too small.
    package init(type rawTypeID: UInt32, rows: Int, cols: Int, data: UnsafeRawBufferPointer) throws(BitNetError) {
        guard let storage = Storage(rawValue: rawTypeID) else {
            throw .unsupported("dense matrix: ggml type \(rawTypeID) not supported (F32, F16, Q8_0)")
        }
        guard rows > 0, cols > 0, rows <= Int(Int32.max), cols <= Int(Int32.max) else {
            throw .format("dense matrix: bad shape \(rows)x\(cols)")
        }
        let rowBytes: Int
        switch storage {
        case .f32: rowBytes = cols * 4
        case .f16: rowBytes = cols * 2
        case .q8_0:
            guard cols % 32 == 0 else { throw .unsupported("Q8_0 matrix: row length \(cols) is not a multiple of 32") }
            rowBytes = cols / 32 * 34
        }
        let (total, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow, data.count >= total, let base = data.baseAddress else {
            throw .format("dense matrix \(rows)x\(cols) type \(rawTypeID): needs \(rowBytes)·\(rows) bytes, got \(data.count)")
        }
        self.storage = storage
        layout = .ggml
        self.rows = rows
        self.cols = cols
        self.base = base
        self.rowBytes = rowBytes
        owner = nil
    }

    /// A matrix over memory it owns (a requantized copy).
    init(storage: Storage, layout: Layout = .ggml, rows: Int, cols: Int, rowBytes: Int, owner: AlignedMemory) {
        self.storage = storage
        self.layout = layout
        self.rows = rows
        self.cols = cols
        self.base = UnsafeRawPointer(owner.pointer)
        self.rowBytes = rowBytes
        self.owner = owner
    }

    /// The same matrix copied into `arena`, for matrices streamed every token
    /// (the LM head): see `HugePageArena` for why that is faster than reading
    /// the file mapping. `releasingSource` drops each copied piece of a file
    /// mapping right away, so peak memory grows by a few pieces, not by the
    /// whole matrix; `pool` copies pieces in parallel.
    func copied(into arena: HugePageArena, pool: ThreadPool?, releasingSource: Bool) throws(BitNetError) -> DenseMatrix {
        let total = byteCount
        let memory = try arena.allocate(byteCount: total, what: "copy of the \(rows)x\(cols) LM head")
        let piece = 16 << 20
        let pieces = (total + piece - 1) / piece
        let destination = memory.pointer, source = base
        let copyPiece = { (i: Int) in
            let start = i * piece, count = Swift.min(piece, total - start)
            memcpy(destination + start, source + start, count)
            if releasingSource { Memory.releaseMappedPages(UnsafeRawBufferPointer(start: source + start, count: count)) }
        }
        ThreadPool.parallelFor(pieces, on: pool, copyPiece)
        return DenseMatrix(storage: storage, layout: layout, rows: rows, cols: cols, rowBytes: rowBytes, owner: memory)
    }

    /// y[r] = E[r] · x for r in `rows` (y indexed by r; x has `cols` floats).
    package func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>,
                         kernels: KernelSet) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        guard !range.isEmpty else { return }
        if layout == .q8_0Split {
            withUnsafeTemporaryAllocation(of: Int16.self, capacity: cols) { prepared in
                let input = prepareQ8_0SplitInput(x, into: prepared.baseAddress.unsafelyUnwrapped)
                multiplyQ8_0Split(input, into: y, rows: range, kernels: kernels)
            }
            return
        }
        let (lo, hi) = (range.lowerBound, range.upperBound)
        switch (storage, kernels) {
        case (.f16, .avx512vnni): bnk_dot_f16_avx512(base.assumingMemoryBound(to: UInt16.self), cols, lo, hi, x, y)
        case (.f16, .avx2): bnk_dot_f16_avx2(base.assumingMemoryBound(to: UInt16.self), cols, lo, hi, x, y)
        case (.q8_0, .avx512vnni): bnk_dot_q8_0_avx512(base.assumingMemoryBound(to: UInt8.self), cols, lo, hi, x, y)
        case (.q8_0, .avx2): bnk_dot_q8_0_avx2(base.assumingMemoryBound(to: UInt8.self), cols, lo, hi, x, y)
        case (.f32, .avx512vnni): bnk_dot_f32_avx512(base.assumingMemoryBound(to: Float.self), cols, lo, hi, x, y)
        case (.f32, .avx2): bnk_dot_f32_avx2(base.assumingMemoryBound(to: Float.self), cols, lo, hi, x, y)
        #if arch(arm64)
        case (.f16, .neon), (.f16, .neonDotprod), (.f16, .neonI8mm):
            bnk_dot_f16_neon(base.assumingMemoryBound(to: UInt16.self), cols, lo, hi, x, y)
        case (.q8_0, .neon), (.q8_0, .neonDotprod), (.q8_0, .neonI8mm):
            bnk_dot_q8_0_neon(base.assumingMemoryBound(to: UInt8.self), cols, lo, hi, x, y)
        case (.f32, .neon), (.f32, .neonDotprod), (.f32, .neonI8mm):
            bnk_dot_f32_neon(base.assumingMemoryBound(to: Float.self), cols, lo, hi, x, y)
        #endif
        case (_, .reference):
            var scratch = [Float](repeating: 0, count: cols)
            scratch.withUnsafeMutableBufferPointer { rowValues in
                for r in range {
                    row(r, into: rowValues.baseAddress!)
                    var sum: Float = 0
                    for k in 0..<cols { sum += rowValues[k] * x[k] }
                    y[r] = sum
                }
            }
        }
    }

    /// All rows, spread over `pool`'s threads (4 row parts per thread).
    package func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, pool: ThreadPool,
                         kernels: KernelSet) {
        let parts = Swift.min(pool.threadCount * 4, rows)
        if layout == .q8_0Split {
            // x is prepared once per product, not once per part.
            withUnsafeTemporaryAllocation(of: Int16.self, capacity: cols) { prepared in
                let input = prepareQ8_0SplitInput(x, into: prepared.baseAddress.unsafelyUnwrapped)
                pool.parallelFor(parts) { part in
                    multiplyQ8_0Split(input, into: y, rows: (rows * part / parts)..<(rows * (part + 1) / parts),
                                      kernels: kernels)
                }
            }
            return
        }
        pool.parallelFor(parts) { part in
            multiply(x, into: y, rows: (rows * part / parts)..<(rows * (part + 1) / parts), kernels: kernels)
        }
    }

    /// y_t = E · x_t for several inputs in one pass over E: each thread walks
    /// its rows in blocks small enough to stay in cache and applies every
    /// input to a block before the next, so E is read from memory once
    /// instead of once per input (the LM head of a batched decode step).
    /// Every output row is the single-input kernel's, bit for bit.
    public func multiply(_ xs: [UnsafePointer<Float>], into ys: [UnsafeMutablePointer<Float>], pool: ThreadPool,
                         kernels: KernelSet) {
        precondition(xs.count == ys.count)
        guard xs.count > 1 else {
            if let x = xs.first { multiply(x, into: ys[0], pool: pool, kernels: kernels) }
            return
        }
        let parts = Swift.min(pool.threadCount * 4, rows)
        let blockRows = Swift.max(16, Self.cacheBlockBytes / Swift.max(1, rowBytes))
        if layout == .q8_0Split {
            withUnsafeTemporaryAllocation(of: Int16.self, capacity: cols * xs.count) { prepared in
                let inputs = xs.indices.map { t in
                    prepareQ8_0SplitInput(xs[t], into: prepared.baseAddress.unsafelyUnwrapped + t * cols)
                }
                let batch = Q8_0SplitBatch(inputs, into: ys)
                pool.parallelFor(parts) { part in
                    let range = (rows * part / parts)..<(rows * (part + 1) / parts)
                    for block in stride(from: range.lowerBound, to: range.upperBound, by: blockRows) {
                        multiplyQ8_0Split(batch, rows: block..<Swift.min(block + blockRows, range.upperBound),
                                          kernels: kernels)
                    }
                }
            }
            return
        }
        pool.parallelFor(parts) { part in
            let range = (rows * part / parts)..<(rows * (part + 1) / parts)
            for block in stride(from: range.lowerBound, to: range.upperBound, by: blockRows) {
                let rowsOfBlock = block..<Swift.min(block + blockRows, range.upperBound)
                for t in xs.indices { multiply(xs[t], into: ys[t], rows: rowsOfBlock, kernels: kernels) }
            }
        }
    }

    /// Bytes of rows a batched product applies every input to before moving
    /// on: well inside a core's L2, so the block is read from memory once.
    static let cacheBlockBytes = 96 << 10

    /// Dequantizes row r into `out` (`cols` floats): the embedding lookup,
    /// and the reference twin's definition of each storage type.
    package func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows)
        if layout == .q8_0Split { return q8_0SplitRow(r, into: out) }
        let start = base + r * rowBytes
        switch storage {
        case .f32:
            for k in 0..<cols { out[k] = start.loadUnaligned(fromByteOffset: 4 * k, as: Float.self) }
        case .f16:
            for k in 0..<cols {
                out[k] = HalfPrecision.float(fromHalf: start.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))
            }
        case .q8_0:
            for b in 0..<cols / 32 {
                let block = start + b * 34
                let d = HalfPrecision.float(fromHalf: block.loadUnaligned(as: UInt16.self))
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { out[b * 32 + j] = Float(q[j]) * d }
            }
        }
    }
}
