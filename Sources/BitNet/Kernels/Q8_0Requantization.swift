import CBitNetKernels

/// Requantization of an F16 / F32 matrix to Q8_0 at load time (the LM head:
/// docs/ARCHITECTURE.md §4.4 "The LM head"), with the Swift reference twin
/// that defines the encoding.
extension DenseMatrix {
    /// Bytes of one Q8_0 row of `cols` values: cols/32 blocks of
    /// { f16 scale, 32 × int8 }.
    static func q8_0RowBytes(cols: Int) -> Int { cols / 32 * 34 }

    /// A Q8_0 copy of this matrix (ggml's rule per 32 values: d = max|x|/127,
    /// q = round(x/d), d stored as f16), owning its memory, in the split
    /// layout its fast kernels need (DenseMatrix+Q8_0Split.swift). For an F16
    /// LM head this moves 1.06 instead of 2 bytes per weight per token; the
    /// caller decides whether the accuracy cost is acceptable.
    ///
    /// Rows are split over `pool` when one is given (the result does not
    /// depend on it, nor on `kernels`: every kernel set is bit-exact).
    ///
    /// - Throws: `.unsupported` when `cols` is not a multiple of 32; `.format`
    ///   naming the first row that holds a NaN / ±Inf or a value too large for
    ///   an f16 block scale (|x| above about 8.3e6), because such a row has no
    ///   Q8_0 encoding and converting it would trap or produce garbage.
    package func quantizedToQ8_0(pool: ThreadPool? = nil,
                                 kernels: KernelSet) throws(BitNetError) -> DenseMatrix {
        try quantizedToQ8_0(pool: pool, kernels: kernels, arena: nil)
    }

    /// As above, the copy carved from `arena` when given (a model's LM head).
    /// `releasingSource` drops each part's rows of a file mapping as soon as
    /// they are encoded, so peak memory does not hold the whole source too.
    func quantizedToQ8_0(pool: ThreadPool?, kernels: KernelSet,
                         arena: HugePageArena?, releasingSource: Bool = false) throws(BitNetError) -> DenseMatrix {
        guard cols % 32 == 0 else { throw .unsupported("Q8_0 requantization: row length \(cols) is not a multiple of 32") }
        let outRowBytes = Self.q8_0RowBytes(cols: cols)
        let (total, overflow) = outRowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow else { throw .invalidArgument("Q8_0 requantization of \(rows)x\(cols): size overflows") }
        let memory = try AlignedMemory.allocate(byteCount: total, arena: arena, what: "Q8_0 copy of \(rows)x\(cols)")

        // Several parts per thread so a thread slowed by another process does
        // not hold the others up (the machine may be shared).
        let threads = pool?.threadCount ?? 1
        let parts = threads > 1 ? Swift.min(rows, threads * 8) : 1
        var firstBadRow = [Int](repeating: rows, count: parts)
        firstBadRow.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            let quantizePart = { (part: Int) in
                let range = (rows * part / parts)..<(rows * (part + 1) / parts)
                results[part] = quantizeRowsToQ8_0Split(range, into: memory.pointer, kernels: kernels) ?? rows
                if releasingSource {
                    Memory.releaseMappedPages(UnsafeRawBufferPointer(start: base + range.lowerBound * rowBytes,
                                                                     count: range.count * rowBytes))
                }
            }
            ThreadPool.parallelFor(parts, on: pool, quantizePart)
        }
        if let bad = firstBadRow.min(), bad < rows { throw .format(unencodableRowMessage(bad)) }
        return DenseMatrix(storage: .q8_0, layout: .q8_0Split, rows: rows, cols: cols, rowBytes: outRowBytes,
                           owner: memory)
    }

    /// Encodes rows `range` in the split layout into `out`, the memory of a
    /// whole split matrix of this shape (rows·cols quants, then the scales).
    /// Returns the first row that cannot be encoded, or nil, as below.
    func quantizeRowsToQ8_0Split(_ range: Range<Int>, into out: UnsafeMutableRawPointer, kernels: KernelSet) -> Int? {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && cols % 32 == 0)
        guard !range.isEmpty else { return nil }
        let (lo, hi) = (range.lowerBound, range.upperBound)
        let quants = out.assumingMemoryBound(to: Int8.self)
        let scales = (out + rows * cols).assumingMemoryBound(to: UInt16.self)
        let f16 = base.assumingMemoryBound(to: UInt16.self), f32 = base.assumingMemoryBound(to: Float.self)
        let done: Int
        switch (storage, kernels) {
        case (.f16, .avx512vnni): done = bnk_quantize_q8_0_split_f16_avx512(f16, cols, lo, hi, quants, scales)
        case (.f16, .avx2): done = bnk_quantize_q8_0_split_f16_avx2(f16, cols, lo, hi, quants, scales)
        case (.f32, .avx512vnni): done = bnk_quantize_q8_0_split_f32_avx512(f32, cols, lo, hi, quants, scales)
        case (.f32, .avx2): done = bnk_quantize_q8_0_split_f32_avx2(f32, cols, lo, hi, quants, scales)
        #if arch(arm64)
        case (.f16, .neon), (.f16, .neonDotprod), (.f16, .neonI8mm):
            done = bnk_quantize_q8_0_split_f16_neon(f16, cols, lo, hi, quants, scales)
        case (.f32, .neon), (.f32, .neonDotprod), (.f32, .neonI8mm):
            done = bnk_quantize_q8_0_split_f32_neon(f32, cols, lo, hi, quants, scales)
        #endif
        case (.q8_0, _), (_, .reference): return quantizeRowsToQ8_0SplitReference(range, into: out)
        }
        return done == hi ? nil : done
    }

    /// The split reference: each row encoded as ggml blocks, then rearranged.
    func quantizeRowsToQ8_0SplitReference(_ range: Range<Int>, into out: UnsafeMutableRawPointer) -> Int? {
        var blocks = [UInt8](repeating: 0, count: Self.q8_0RowBytes(cols: cols))
        var values = [Float](repeating: 0, count: cols)
        return blocks.withUnsafeMutableBytes { blocks -> Int? in
            values.withUnsafeMutableBufferPointer { values -> Int? in
                let buffer = blocks.baseAddress.unsafelyUnwrapped
                for r in range {
                    guard encodeQ8_0Row(r, scratch: values, into: buffer) else { return r }
                    rearrangeQ8_0Blocks(UnsafeRawPointer(buffer), firstRow: r, count: 1, into: out)
                }
                return nil
            }
        }
    }

    /// Encodes rows `range` as Q8_0 at `out` (row r at `out + r * q8_0RowBytes`).
    /// Returns the first row that cannot be encoded (its output and that of
    /// the rows after it are then unspecified), or nil.
    func quantizeRowsToQ8_0(_ range: Range<Int>, into out: UnsafeMutableRawPointer, kernels: KernelSet) -> Int? {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && cols % 32 == 0)
        guard !range.isEmpty else { return nil }
        let (lo, hi) = (range.lowerBound, range.upperBound)
        let dst = out.assumingMemoryBound(to: UInt8.self)
        let f16 = base.assumingMemoryBound(to: UInt16.self), f32 = base.assumingMemoryBound(to: Float.self)
        let done: Int
        switch (storage, kernels) {
        case (.f16, .avx512vnni): done = bnk_quantize_q8_0_f16_avx512(f16, cols, lo, hi, dst)
        case (.f16, .avx2): done = bnk_quantize_q8_0_f16_avx2(f16, cols, lo, hi, dst)
        case (.f32, .avx512vnni): done = bnk_quantize_q8_0_f32_avx512(f32, cols, lo, hi, dst)
        case (.f32, .avx2): done = bnk_quantize_q8_0_f32_avx2(f32, cols, lo, hi, dst)
        #if arch(arm64)
        case (.f16, .neon), (.f16, .neonDotprod), (.f16, .neonI8mm):
            done = bnk_quantize_q8_0_f16_neon(f16, cols, lo, hi, dst)
        case (.f32, .neon), (.f32, .neonDotprod), (.f32, .neonI8mm):
            done = bnk_quantize_q8_0_f32_neon(f32, cols, lo, hi, dst)
        #endif
        case (.q8_0, _), (_, .reference): return quantizeRowsToQ8_0Reference(range, into: out)
        }
        return done == hi ? nil : done
    }

    /// The reference twin, and the definition of the encoding. Per block of
    /// 32 values x:
    ///
    ///     d   = max|x| / 127                      (f32)
    ///     inv = 1 / d, or 0 when that is not finite
    ///     q   = clamp(round-half-away(x · inv), -127, 127)
    ///     stored: f16(d) (round to nearest even), then the 32 q
    ///
    /// This is ggml's `quantize_row_q8_0_ref` except for the `inv` guard:
    /// ggml sets inv = 0 only for d == 0, but a subnormal d below 2⁻¹²⁸
    /// (|x| < 3.7e-37, possible in F32 data) makes 1/d infinite and 0 · ∞ a
    /// NaN; such a block stores d = 0, so q = 0 loses nothing. A block with
    /// NaN / ±Inf, or whose f16(d) overflows, cannot be encoded.
    func quantizeRowsToQ8_0Reference(_ range: Range<Int>, into out: UnsafeMutableRawPointer) -> Int? {
        let outRowBytes = Self.q8_0RowBytes(cols: cols)
        var values = [Float](repeating: 0, count: cols)
        return values.withUnsafeMutableBufferPointer { values -> Int? in
            for r in range {
                guard encodeQ8_0Row(r, scratch: values, into: out + r * outRowBytes) else { return r }
            }
            return nil
        }
    }

    /// Row r as ggml blocks at `blocks` (`scratch` holds `cols` floats); false when it has no encoding.
    private func encodeQ8_0Row(_ r: Int, scratch: UnsafeMutableBufferPointer<Float>,
                               into blocks: UnsafeMutableRawPointer) -> Bool {
        row(r, into: scratch.baseAddress.unsafelyUnwrapped)
        for b in 0..<cols / 32 {
            let x = UnsafeBufferPointer(rebasing: scratch[(b * 32)..<(b * 32 + 32)])
            guard Self.encodeQ8_0Block(x, into: blocks + b * 34) else { return false }
        }
        return true
    }

    /// One block of the reference encoding; false when it has none.
    private static func encodeQ8_0Block(_ x: UnsafeBufferPointer<Float>, into block: UnsafeMutableRawPointer) -> Bool {
        var maxAbs: Float = 0
        for v in x {
            guard v.isFinite else { return false }
            maxAbs = Swift.max(maxAbs, abs(v))
        }
        let d = maxAbs / 127
        let storedScale = Float16(d)
        guard storedScale.isFinite else { return false }
        let reciprocal = 1 / d
        let inverse: Float = reciprocal.isFinite ? reciprocal : 0
        block.storeBytes(of: storedScale.bitPattern, as: UInt16.self)
        let q = (block + 2).assumingMemoryBound(to: Int8.self)
        for j in 0..<32 {
            let scaled = (x[j] * inverse).rounded(.toNearestOrAwayFromZero)
            q[j] = Int8(Swift.max(-127, Swift.min(127, scaled)))
        }
        return true
    }

    /// Why row r has no Q8_0 encoding, for the error message.
    private func unencodableRowMessage(_ r: Int) -> String {
        var values = [Float](repeating: 0, count: cols)
        values.withUnsafeMutableBufferPointer { row(r, into: $0.baseAddress.unsafelyUnwrapped) }
        let what = "Q8_0 requantization of a \(rows)x\(cols) matrix: row \(r)"
        if let k = values.firstIndex(where: { !$0.isFinite }) {
            return "\(what) has a non-finite value (\(values[k]) at column \(k))"
        }
        let k = values.indices.max { abs(values[$0]) < abs(values[$1]) } ?? 0
        return "\(what) has a value too large for an f16 block scale (\(values[k]) at column \(k); the limit is about 8.3e6)"
    }
}
