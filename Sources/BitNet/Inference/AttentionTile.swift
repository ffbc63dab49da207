import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One key tile of online-softmax attention: the inner loop of `TiledAttention`.
///
/// Shapes (`rowsPadded` and `dim` multiples of 16; the full contract is in
/// bitnet_attention.h):
///   qt[d·rowsPadded + r]   query rows, transposed, already times the score scale
///   keys[j·dim + d], values[j·dim + d] for j < count
///   limit[r]               row r sees keys j < limit[r]
///   rowMax[r], rowSum[r], output[r·dim + d]: running state, updated in place
/// For each row: m' = max(m, scores), c = exp(m − m'), p_j = exp(s_j − m'),
/// sum = sum·c + Σ p_j, out = out·c + Σ p_j·v_j. Rows are independent and every
/// sum runs in increasing j, so a row's result does not depend on which other
/// rows share the call (prefill gives the same numbers whatever the batching).
enum AttentionTile {
    /// Floats of scratch `step` needs.
    static func scratchCount(keys: Int, rowsPadded: Int) -> Int { keys * rowsPadded + rowsPadded }

    /// Which implementation runs a step. All three give the same bits.
    enum Kernel: Sendable, CaseIterable {
        case reference
        #if arch(arm64)
        case neon
        #else
        case avx2
        case avx512
        #endif

        /// The kernel that goes with a kernel set (falling back when the CPU lacks it).
        init(_ kernels: KernelSet) {
            #if arch(arm64)
            self = kernels == .reference ? .reference : .neon
            #else
            switch kernels {
            case .avx512vnni where KernelSet.avx512vnni.isSupportedByCPU: self = .avx512
            case .avx512vnni where KernelSet.avx2.isSupportedByCPU, .avx2 where KernelSet.avx2.isSupportedByCPU:
                self = .avx2
            default: self = .reference
            }
            #endif
        }

        var isSupportedByCPU: Bool {
            switch self {
            case .reference: return true
            #if arch(arm64)
            case .neon: return KernelSet.neon.isSupportedByCPU
            #else
            case .avx2: return KernelSet.avx2.isSupportedByCPU
            case .avx512: return KernelSet.avx512vnni.isSupportedByCPU
            #endif
            }
        }
    }

    /// `next` (optional) names the cache rows of the following key tile for the
    /// C kernels to prefetch while they compute; it never changes a result.
    @inline(__always)
    static func step(_ kernel: Kernel, qt: UnsafePointer<Float>, rowsPadded: Int,
                     keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, dim: Int,
                     limit: UnsafePointer<Int32>, rowMax: UnsafeMutablePointer<Float>,
                     rowSum: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                     scratch: UnsafeMutablePointer<Float>,
                     prefetch next: UnsafePointer<bnk_attention_prefetch>? = nil) {
        switch kernel {
        #if arch(arm64)
        case .neon:
            bnk_attention_tile_neon(qt, rowsPadded, keys, values, count, dim, limit, rowMax, rowSum, output, scratch, next)
        #else
        case .avx512:
            bnk_attention_tile_avx512(qt, rowsPadded, keys, values, count, dim, limit, rowMax, rowSum, output, scratch,
                                      next)
        case .avx2:
            bnk_attention_tile_avx2(qt, rowsPadded, keys, values, count, dim, limit, rowMax, rowSum, output, scratch,
                                    next)
        #endif
        case .reference:
            stepReference(qt: qt, rowsPadded: rowsPadded, keys: keys, values: values, count: count, dim: dim,
                          limit: limit, rowMax: rowMax, rowSum: rowSum, output: output, scratch: scratch)
        }
    }

    /// The plain twin of the C kernels, row by row, bit for bit:
    /// the same fused multiply-adds in the same order and the same exp, so a
    /// context gives the same numbers whichever kernel set it runs.
    static func stepReference(qt: UnsafePointer<Float>, rowsPadded rp: Int,
                              keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, count: Int, dim: Int,
                              limit: UnsafePointer<Int32>, rowMax: UnsafeMutablePointer<Float>,
                              rowSum: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                              scratch p: UnsafeMutablePointer<Float>) {
        for r in 0..<rp {
            // Keys beyond the limit add exact zeros in the kernel; skipping them is the same.
            let n = min(Int(limit[r]), count)
            guard n > 0 else { continue }
            var m = rowMax[r]
            for j in 0..<n {
                var s: Float = 0
                for d in 0..<dim { s = s.addingProduct(k[j * dim + d], qt[d * rp + r]) }
                p[j] = s
                m = max(m, s)
            }
            let c = expNonPositive(rowMax[r] - m)  // 0 on the row's first tile (old max −∞)
            var total: Float = 0
            for j in 0..<n {
                let e = expNonPositive(p[j] - m)
                p[j] = e
                total += e
            }
            rowSum[r] = total.addingProduct(rowSum[r], c)
            let out = output + r * dim
            for d in 0..<dim {
                var acc = out[d] * c
                for j in 0..<n { acc = acc.addingProduct(p[j], v[j * dim + d]) }
                out[d] = acc
            }
            rowMax[r] = m
        }
    }

    /// e^x for x <= 0, exactly as the kernel computes it (Cephes' expf: x = n·ln2 + r,
    /// a degree-5 polynomial in r, then ·2^n); 0 below −87.
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        if x < -87 { return 0 }
        let n = (x * 1.44269504088896341).rounded(.toNearestOrEven)
        var r = x.addingProduct(-n, 0.693359375)
        r = r.addingProduct(-n, -2.12194440e-4)
        var p: Float = 1.9875691500e-4
        p = (1.3981999507e-3 as Float).addingProduct(p, r)
        p = (8.3334519073e-3 as Float).addingProduct(p, r)
        p = (4.1665795894e-2 as Float).addingProduct(p, r)
        p = (1.6666665459e-1 as Float).addingProduct(p, r)
        p = (5.0000001201e-1 as Float).addingProduct(p, r)
        let y = r.addingProduct(p, r * r) + 1
        // n >= -126 here, so this is one correctly rounded multiply, like scalef.
        return Float(sign: .plus, exponent: Int(n), significand: y)
    }
}
