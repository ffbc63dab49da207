import CBitNetKernels

/// The split Q8_0 layout of a requantized LM head, the input its kernels
/// read, and their Swift reference twin.
///
/// The values are exactly Q8_0's (one f16 scale d per 32 int8 q); only
/// their places differ, so that a product streams at memory speed:
///
///     quants  rows × cols bytes, row r at offset r·cols
///     scales  rows × cols/32 f16, row r at offset rows·cols + 2·r·(cols/32)
///
/// (1.0625 bytes per weight, as ggml's 34-byte blocks). Within a row each
/// full group of 16 blocks (512 values) is interleaved by value pair:
///
///     quants[g·512 + t·32 + 2i + e] = q[block 16g + i][2t + e]   (t, i < 16; e < 2)
///
/// so one 32-byte load holds pair t of all 16 blocks, and a multiply-add of
/// int16 pairs into int32 lanes leaves lane i with block i's partial sum —
/// no per-block horizontal reduction. The row's last cols/32 % 16 blocks
/// follow in plain order, 32 bytes each.
///
/// x is quantized once per product to int16 with ONE scale for the whole
/// vector (s = max|x| / 32767, x16 = round(x / s)), so each weight costs an
/// int8→int16 widening and half a multiply-add instead of an int8→f32
/// conversion and an FMA. The error |x − s·x16| ≤ s/2 = max|x|/65534 is
/// far below that of the 8-bit weights themselves. Per row:
///
///     y[r] = s · Σ_b f32(d[r][b]) · (Σ_j q[r][b][j] · x16[b·32 + j])
///
/// with exact int32 block sums (|sum| ≤ 32·128·32767 < 2²⁷).
extension DenseMatrix {
    /// x as the split kernels read it: int16 values permuted like the quants
    /// of a row, and the scale that turns their products back into floats.
    struct Q8_0SplitInput {
        let values: UnsafePointer<Int16>
        /// NaN when x holds a NaN or ±Inf, so every output is NaN as the
        /// f32 product would be.
        let scale: Float
    }

    /// Blocks of a row that are interleaved (the full groups of 16).
    private var q8_0SplitInterleavedBlocks: Int { cols / 512 * 16 }

    /// Where value k of a row sits within the row's quants (and within the
    /// prepared x).
    @inline(__always)
    static func q8_0SplitOffset(ofValue k: Int, interleavedBlocks: Int) -> Int {
        let block = k >> 5
        guard block < interleavedBlocks else { return k }
        let (t, e) = ((k & 31) >> 1, k & 1)
        return (block >> 4) * 512 + t * 32 + (block & 15) * 2 + e
    }

    var q8_0SplitQuants: UnsafePointer<Int8> { base.assumingMemoryBound(to: Int8.self) }
    var q8_0SplitScales: UnsafePointer<UInt16> { (base + rows * cols).assumingMemoryBound(to: UInt16.self) }

    /// Quantizes and permutes x (`cols` floats) into `out` (`cols` int16).
    /// When 32767 / max|x| overflows (max|x| below ~1e-34) x counts as zero:
    /// such logits would be below 1e-20 anyway.
    func prepareQ8_0SplitInput(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Int16>) -> Q8_0SplitInput {
        var maxAbs: Float = 0
        var finite = true
        for k in 0..<cols {
            finite = finite && x[k].isFinite
            maxAbs = Swift.max(maxAbs, abs(x[k]))
        }
        guard finite else {
            out.update(repeating: 0, count: cols)
            return Q8_0SplitInput(values: out, scale: .nan)
        }
        let inverse = 32767 / maxAbs
        guard inverse.isFinite else {
            out.update(repeating: 0, count: cols)
            return Q8_0SplitInput(values: out, scale: 0)
        }
        let interleaved = q8_0SplitInterleavedBlocks
        for k in 0..<cols {
            let v = Swift.max(-32767, Swift.min(32767, (x[k] * inverse).rounded(.toNearestOrEven)))
            out[Self.q8_0SplitOffset(ofValue: k, interleavedBlocks: interleaved)] = Int16(v)
        }
        return Q8_0SplitInput(values: out, scale: maxAbs / 32767)
    }

    /// y[r] for r in `range` from a prepared x.
    func multiplyQ8_0Split(_ input: Q8_0SplitInput, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>,
                           kernels: KernelSet) {
        precondition(layout == .q8_0Split && range.lowerBound >= 0 && range.upperBound <= rows)
        guard !range.isEmpty else { return }
        let (lo, hi) = (range.lowerBound, range.upperBound)
        switch kernels {
        case .avx512vnni:
            bnk_dot_q8_0_split_avx512vnni(q8_0SplitQuants, q8_0SplitScales, cols, lo, hi, input.values, input.scale, y)
        case .avx2:
            bnk_dot_q8_0_split_avx2(q8_0SplitQuants, q8_0SplitScales, cols, lo, hi, input.values, input.scale, y)
        case .reference:
            multiplyQ8_0SplitReference(input, into: y, rows: range)
        #if arch(arm64)
        case .neon, .neonDotprod, .neonI8mm:
            bnk_dot_q8_0_split_neon(q8_0SplitQuants, q8_0SplitScales, cols, lo, hi, input.values, input.scale, y)
        #endif
        }
    }

    /// Several prepared inputs and their outputs, as the batched kernel
    /// takes them (arrays of pointers, built once per product).
    struct Q8_0SplitBatch {
        let values: [UnsafePointer<Int16>?]
        let scales: [Float]
        let outputs: [UnsafeMutablePointer<Float>?]

        init(_ inputs: [Q8_0SplitInput], into outputs: [UnsafeMutablePointer<Float>]) {
            precondition(inputs.count == outputs.count)
            values = inputs.map(\.values)
            scales = inputs.map(\.scale)
            self.outputs = outputs
        }
    }

    /// `multiplyQ8_0Split` for every input of `batch` over `range`, each
    /// output bit-identical to its single-input product. AVX2 and AVX-512
    /// have kernels that widen each weight once for several inputs (the
    /// int8 -> int16 widening was paid once per input); the other kernel sets
    /// run the single-input kernel per input.
    func multiplyQ8_0Split(_ batch: Q8_0SplitBatch, rows range: Range<Int>, kernels: KernelSet) {
        precondition(layout == .q8_0Split && range.lowerBound >= 0 && range.upperBound <= rows)
        guard !range.isEmpty else { return }
        switch kernels {
        case .avx2:
            bnk_dot_q8_0_split_avx2_multi(q8_0SplitQuants, q8_0SplitScales, cols, range.lowerBound, range.upperBound,
                                          batch.values.count, batch.values, batch.scales, batch.outputs)
            return
        case .avx512vnni:
            bnk_dot_q8_0_split_avx512vnni_multi(q8_0SplitQuants, q8_0SplitScales, cols, range.lowerBound,
                                                range.upperBound, batch.values.count, batch.values, batch.scales,
                                                batch.outputs)
            return
        default:
            break
        }
        for t in batch.values.indices {
            let input = Q8_0SplitInput(values: batch.values[t].unsafelyUnwrapped, scale: batch.scales[t])
            multiplyQ8_0Split(input, into: batch.outputs[t].unsafelyUnwrapped, rows: range, kernels: kernels)
        }
    }

    /// The reference twin: the same exact int32 block sums, summed in block order.
    func multiplyQ8_0SplitReference(_ input: Q8_0SplitInput, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        let blocks = cols / 32, interleaved = q8_0SplitInterleavedBlocks
        for r in range {
            let q = q8_0SplitQuants + r * cols, d = q8_0SplitScales + r * blocks
            var sum: Float = 0
            for b in 0..<blocks {
                var blockSum: Int32 = 0
                for k in (b * 32)..<(b * 32 + 32) {
                    let at = Self.q8_0SplitOffset(ofValue: k, interleavedBlocks: interleaved)
                    blockSum += Int32(q[at]) * Int32(input.values[at])
                }
                sum += Float(blockSum) * HalfPrecision.float(fromHalf: d[b])
            }
            y[r] = sum * input.scale
        }
    }

    /// Row r dequantized (`row(_:into:)` for this layout).
    func q8_0SplitRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let blocks = cols / 32, interleaved = q8_0SplitInterleavedBlocks
        let q = q8_0SplitQuants + r * cols, d = q8_0SplitScales + r * blocks
        for b in 0..<blocks {
            let scale = HalfPrecision.float(fromHalf: d[b])
            for k in (b * 32)..<(b * 32 + 32) {
                out[k] = Float(q[Self.q8_0SplitOffset(ofValue: k, interleavedBlocks: interleaved)]) * scale
            }
        }
    }

    /// Moves `count` ggml Q8_0 rows (34-byte blocks, row i at
    /// `blocks + i·(cols/32)·34`) into rows `firstRow..<firstRow + count` of
    /// the split memory at `out` of a matrix of this shape — how the
    /// reference requantization defines the split kernels' output.
    func rearrangeQ8_0Blocks(_ blocks: UnsafeRawPointer, firstRow: Int, count: Int, into out: UnsafeMutableRawPointer) {
        let perRow = cols / 32, interleaved = q8_0SplitInterleavedBlocks
        let quants = out.assumingMemoryBound(to: Int8.self)
        let scales = (out + rows * cols).assumingMemoryBound(to: UInt16.self)
        for i in 0..<count {
            let r = firstRow + i
            for b in 0..<perRow {
                let block = blocks + (i * perRow + b) * 34
                scales[r * perRow + b] = block.loadUnaligned(as: UInt16.self)
                for j in 0..<32 {
                    let at = Self.q8_0SplitOffset(ofValue: b * 32 + j, interleavedBlocks: interleaved)
                    quants[r * cols + at] = block.load(fromByteOffset: 2 + j, as: Int8.self)
                }
            }
        }
    }
}
