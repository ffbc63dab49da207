import CBitNetKernels

/// Merging online-softmax states: the piece that lets attention split the key
/// range. A row's state over some keys is (max m, sum s, accumulator o) as
/// `AttentionTile.step` leaves it; the state over two key ranges a then b is
///   M = max(m_a, m_b), c_a = e^(m_a − M), c_b = e^(m_b − M)
///   s = fma(s_b, c_b, s_a·c_a),  o[d] = fma(o_b[d], c_b, o_a[d]·c_a)
/// with an empty state (m = −∞) the identity on either side. Attention cuts
/// the keys into fixed superblocks of `TiledAttention.superblock` keys and
/// merges their states in superblock order on every path, so a row's bits
/// never depend on which thread computed which superblock.
enum AttentionState {
    /// Merges state b into state a (`dim` accumulator floats).
    @inline(__always)
    static func merge(_ kernel: AttentionTile.Kernel, max ma: inout Float, sum sa: inout Float,
                      output oa: UnsafeMutablePointer<Float>,
                      max mb: Float, sum sb: Float, output ob: UnsafePointer<Float>, dim: Int) {
        guard mb != -.infinity else { return }  // b saw no key
        guard ma != -.infinity else {
            ma = mb
            sa = sb
            oa.update(from: ob, count: dim)
            return
        }
        let m = max(ma, mb)
        let ca = AttentionTile.expNonPositive(ma - m), cb = AttentionTile.expNonPositive(mb - m)
        sa = (sa * ca).addingProduct(sb, cb)
        ma = m
        switch kernel {
        #if arch(arm64)
        case .neon: bnk_attention_merge_neon(oa, ca, ob, cb, dim)
        #else
        case .avx512: bnk_attention_merge_avx512(oa, ca, ob, cb, dim)
        case .avx2: bnk_attention_merge_avx2(oa, ca, ob, cb, dim)
        #endif
        case .reference: mergeReference(oa, ca, ob, cb, dim)
        }
    }

    /// The plain twin of bnk_attention_merge_*: a[d] = fma(b[d], cb, a[d]·ca).
    static func mergeReference(_ a: UnsafeMutablePointer<Float>, _ ca: Float, _ b: UnsafePointer<Float>, _ cb: Float,
                               _ dim: Int) {
        for d in 0..<dim { a[d] = (a[d] * ca).addingProduct(b[d], cb) }
    }
}
