import CBitNetKernels
/// Int8 activations of up to `capacity` tokens, the input of every ternary
/// product (BitNet b1.58 paper numerics, per token):
///
///     s = 127 / max(max|v|, 1e-5)
///     q = clamp(round_half_to_even(v · s), −128, 127)
///
/// It also keeps Σq per token: with codes c = w + 1 the kernels compute
/// Σ c·q, and Σ w·q = Σ c·q − Σ q.
///
/// Rows are `stride` bytes apart: `cols` rounded up to the kernels' 128-column
/// block. The padding columns are zeroed once and never written, so a
/// `PackedTernaryMatrix` padded to the same width sees q = 0 there and its
/// products equal the unpadded ones exactly (widths that are already a
/// multiple of 128 have no padding and no extra cost).
///
/// With `groupColumns` (256), each 256-column group of a token gets its own
/// scale instead — how llama.cpp quantizes activations (Q8_K blocks) for its
/// TQ1_0 / TQ2_0 dot products, used for architectures trained with float
/// activations (qwen3). Scales and Σq are then stored `[group][capacity]`.
///
/// A reusable scratch object: allocate one per context and BitLinear input
/// width, call `quantize` for each input. Not thread-safe while quantizing;
/// read-only afterwards (the kernels read it from many threads).
package final class QuantizedActivations: @unchecked Sendable {
    package let cols: Int
    package let capacity: Int
    /// Distance between token rows in `values`: `cols` rounded up to 128.
    package let stride: Int
    /// Columns per activation scale: nil = the whole row (paper numerics), else 256.
    package let groupColumns: Int?
    /// Scales per token: 1, or ceil(cols / groupColumns).
    package let groups: Int
    /// Tokens currently held.
    package private(set) var count = 0

    /// `[capacity][stride]` int8, rows 64-byte aligned when cols % 64 == 0 (always when padded).
    let values: AlignedMemory
    let sums: AlignedMemory        // Int32 [groups][capacity]
    let scales: AlignedMemory      // Float [groups][capacity]: s
    let inverseScales: AlignedMemory  // Float [groups][capacity]: 1/s

    package init(cols: Int, capacity: Int, groupColumns: Int? = nil) throws(BitNetError) {
        guard cols > 0, capacity > 0, cols <= PackedTernaryMatrix.maxColumns, capacity <= 1 << 20 else {
            throw .invalidArgument("activations: bad size \(capacity)x\(cols)")
        }
        if let groupColumns, groupColumns != PackedTernaryMatrix.scaleGroupColumns {
            throw .invalidArgument("activations: groups of \(groupColumns) columns (only \(PackedTernaryMatrix.scaleGroupColumns) is supported)")
        }
        self.cols = cols
        self.capacity = capacity
        self.groupColumns = groupColumns
        groups = groupColumns.map { (cols + $0 - 1) / $0 } ?? 1
        stride = PackedTernaryMatrix.paddedColumns(cols)
        // Zero-filled: the padding columns stay 0 for the object's lifetime.
        values = try AlignedMemory(byteCount: stride * capacity, what: "activations")
        sums = try AlignedMemory(byteCount: 4 * capacity * groups, what: "activations")
        scales = try AlignedMemory(byteCount: 4 * capacity * groups, what: "activations")
        inverseScales = try AlignedMemory(byteCount: 4 * capacity * groups, what: "activations")
    }

    /// Quantizes `tokens` rows of `x` (row t starts at `x + t * stride`, `cols`
    /// floats each). Requires tokens ≤ capacity (a caller bug otherwise).
    package func quantize(_ x: UnsafePointer<Float>, tokens: Int, stride xStride: Int, kernels: KernelSet) {
        precondition(tokens >= 0 && tokens <= capacity && xStride >= cols, "activations: \(tokens) tokens > capacity \(capacity)")
        for t in 0..<tokens { quantize(x, token: t, stride: xStride, kernels: kernels) }
        count = tokens
    }

    /// Quantizes token t alone, from `x + t * xStride`, writing only that
    /// token's values, sums and scales: callers fill a batch's rows on
    /// several threads at once, then set the count with `setCount`.
    package func quantize(_ x: UnsafePointer<Float>, token t: Int, stride xStride: Int, kernels: KernelSet) {
        precondition(t >= 0 && t < capacity && xStride >= cols, "activations: token \(t) outside capacity \(capacity)")
        let row = x + t * xStride
        guard let groupColumns else {
            let scale = Self.quantizeRow(row, count: cols, into: values.typed(Int8.self) + t * stride,
                                         sum: &sums.typed(Int32.self)[t], kernels: kernels)
            scales.typed(Float.self)[t] = scale
            inverseScales.typed(Float.self)[t] = 1 / scale
            return
        }
        for g in 0..<groups {
            let start = g * groupColumns, n = Swift.min(groupColumns, cols - start)
            let scale = Self.quantizeRow(row + start, count: n, into: values.typed(Int8.self) + t * stride + start,
                                         sum: &sums.typed(Int32.self)[g * capacity + t], kernels: kernels)
            scales.typed(Float.self)[g * capacity + t] = scale
            inverseScales.typed(Float.self)[g * capacity + t] = 1 / scale
        }
    }

    /// The number of tokens held, for code that fills rows itself (row by
    /// row with `quantize(_:token:stride:kernels:)`, or `values` directly in
    /// tests of extreme inputs).
    package func setCount(_ tokens: Int) {
        precondition(tokens >= 0 && tokens <= capacity)
        count = tokens
    }

    /// Convenience for one token.
    package func quantize(_ x: UnsafeBufferPointer<Float>, kernels: KernelSet) {
        precondition(x.count >= cols)
        quantize(x.baseAddress!, tokens: 1, stride: cols, kernels: kernels)
    }

    /// The quantized row of token t.
    package func row(_ t: Int) -> UnsafeBufferPointer<Int8> {
        UnsafeBufferPointer(start: values.typed(Int8.self) + t * stride, count: cols)
    }
    package func scale(_ t: Int) -> Float { scales.typed(Float.self)[t] }
    /// The scale of group g of token t (grouped activations).
    package func scale(_ t: Int, group g: Int) -> Float { scales.typed(Float.self)[g * capacity + t] }
    package func sum(_ t: Int) -> Int32 { sums.typed(Int32.self)[t] }

    /// Quantizes one row, returns s and stores Σq in `sum`.
    @inline(__always)
    static func quantizeRow(_ v: UnsafePointer<Float>, count n: Int, into q: UnsafeMutablePointer<Int8>,
                            sum: inout Int32, kernels: KernelSet) -> Float {
        guard kernels.hasFloatSIMD else { return quantizeRowReference(v, count: n, into: q, sum: &sum) }
        #if arch(arm64)
        return bnk_quantize_row_i8_neon(v, n, q, &sum)
        #else
        return bnk_quantize_row_i8_avx2(v, n, q, &sum)
        #endif
    }

    /// The spec of `bnk_quantize_row_i8_avx2`, which matches it bit for bit.
    ///
    /// No SSE4.1 rounding instruction, no fast-math: max|v| is an integer max
    /// over the sign-less bit patterns (same order as the floats for
    /// non-negative values), and round-half-to-even is the add/subtract of
    /// 1.5·2^23, exact for |x| ≤ 2^22 under the default rounding mode — the
    /// value is clamped to [−128, 127] first, which commutes with rounding at
    /// these bounds. NaN inputs must not trap: the compare-selects turn them
    /// into 127.
    static func quantizeRowReference(_ v: UnsafePointer<Float>, count n: Int, into q: UnsafeMutablePointer<Int8>,
                                     sum: inout Int32) -> Float {
        var maxBits: UInt32 = 0
        for i in 0..<n {
            let bits = v[i].bitPattern & 0x7FFF_FFFF
            maxBits = bits > maxBits ? bits : maxBits
        }
        let maxAbs = Float(bitPattern: maxBits)
        let s = 127 / (maxAbs > 1e-5 ? maxAbs : 1e-5)
        let magic: Float = 12_582_912  // 1.5 · 2^23
        var total: Int32 = 0
        for i in 0..<n {
            let x = v[i] * s
            let high: Float = x < 127 ? x : 127
            let clamped: Float = high > -128 ? high : -128
            let rounded = (clamped + magic) - magic
            let value = Int32(rounded)
            q[i] = Int8(truncatingIfNeeded: value)
            total &+= value
        }
        sum = total
        return s
    }
}
