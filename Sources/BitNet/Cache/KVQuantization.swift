import CBitNetKernels

/// The 8-bit form of KV rows (`KVType.q8`): each head of a row is stored as
/// int8 with one f32 scale, s = max|x| / 127, q = round(x / s). Lossy: the
/// error per element is at most s / 2, about 0.4% of the head's largest value.
///
/// Row layout: scales[heads] (f32) then q[heads · headDim] (int8), so a row's
/// bytes are contiguous and copy like the f16/f32 rows. When heads · headDim
/// is not a multiple of 4 the next row's scales are not 4-byte aligned, so
/// scales are always read and written unaligned.
package enum KVQuantization {
    package static func rowBytes(heads: Int, headDim: Int) -> Int {
        heads * MemoryLayout<Float>.size + heads * headDim
    }

    /// Quantizes `heads` heads of `headDim` floats into `row`.
    package static func quantize(_ x: UnsafePointer<Float>, heads: Int, headDim: Int, into row: UnsafeMutableRawPointer) {
        let q = (row + heads * MemoryLayout<Float>.size).assumingMemoryBound(to: Int8.self)
        for h in 0..<heads {
            let head = x + h * headDim
            var largest: Float = 0
            for i in 0..<headDim { largest = max(largest, abs(head[i])) }
            let scale = largest / 127
            row.storeBytes(of: scale, toByteOffset: h * MemoryLayout<Float>.size, as: Float.self)
            let inverse: Float = scale > 0 ? 1 / scale : 0
            let out = q + h * headDim
            for i in 0..<headDim {
                out[i] = Int8(max(-127, min(127, (head[i] * inverse).rounded(.toNearestOrEven))))
            }
        }
    }

    /// The inverse of `quantize` (up to rounding).
    package static func dequantize(_ row: UnsafeRawPointer, heads: Int, headDim: Int, into x: UnsafeMutablePointer<Float>) {
        let q = (row + heads * MemoryLayout<Float>.size).assumingMemoryBound(to: Int8.self)
        for h in 0..<heads {
            let scale = row.loadUnaligned(fromByteOffset: h * MemoryLayout<Float>.size, as: Float.self)
            for i in 0..<headDim { x[h * headDim + i] = scale * Float(q[h * headDim + i]) }
        }
    }

    /// Scale of head `head` and a pointer to its int8 values.
    @inline(__always)
    static func head(_ row: UnsafeRawPointer, heads: Int, headDim: Int, head h: Int) -> (Float, UnsafePointer<Int8>) {
        let scale = row.loadUnaligned(fromByteOffset: h * MemoryLayout<Float>.size, as: Float.self)
        let q = (row + heads * MemoryLayout<Float>.size + h * headDim).assumingMemoryBound(to: Int8.self)
        return (scale, q)
    }

    /// Σ a[i]·b[i].
    @inline(__always)
    package static func dot(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Float>, _ n: Int,
                            kernels: KernelSet) -> Float {
        guard kernels.hasFloatSIMD else { return dotReference(a, b, n) }
        #if arch(arm64)
        return bnk_dot_i8_f32_neon(a, b, n)
        #else
        return bnk_dot_i8_f32_avx2(a, b, n)
        #endif
    }

    /// y[i] += alpha·x[i].
    @inline(__always)
    package static func axpy(_ alpha: Float, _ x: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                             kernels: KernelSet) {
        guard kernels.hasFloatSIMD else { return axpyReference(alpha, x, y, n) }
        #if arch(arm64)
        bnk_axpy_i8_f32_neon(alpha, x, y, n)
        #else
        bnk_axpy_i8_f32_avx2(alpha, x, y, n)
        #endif
    }

    /// out[i] = scale·x[i]: one head of an 8-bit row as floats (the same single
    /// rounding as `dequantize`, so every path reads the same keys).
    @inline(__always)
    static func expand(_ scale: Float, _ x: UnsafePointer<Int8>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
                       kernels: KernelSet) {
        guard kernels.hasFloatSIMD else { return expandReference(scale, x, out, n) }
        #if arch(arm64)
        bnk_scale_i8_f32_neon(scale, x, out, n)
        #else
        bnk_scale_i8_f32_avx2(scale, x, out, n)
        #endif
    }

    // MARK: - Reference twins

    static func expandReference(_ scale: Float, _ x: UnsafePointer<Int8>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = scale * Float(x[i]) }
    }

    package static func dotReference(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += Float(a[i]) * b[i] }
        return sum
    }

    package static func axpyReference(_ alpha: Float, _ x: UnsafePointer<Int8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * Float(x[i]) }
    }
}
