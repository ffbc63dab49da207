/// Causal grouped-query attention of one query position against the cache,
/// the plain way: a full score row, softmax, weighted sum of values. The
/// reference that tests hold `TiledAttention` (what the forward pass runs) to.
/// Cache rows are read with the cache's kernel set (`KVCache.kernels`).
enum Attention {
    /// out[h] = Σ_t softmax_t(q_h · k_t,g / sqrt(headDim)) · v_t,g for t in 0...position,
    /// g = h / (nHead / nHeadKV). `scores` needs room for position + 1 floats.
    static func attend(cache: KVCache, layer: Int, position: Int,
                       query: UnsafePointer<Float>, heads: Range<Int>, nHead: Int, nHeadKV: Int, headDim: Int,
                       scores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let groupSize = nHead / nHeadKV
        let scale = 1 / Float(headDim).squareRoot()
        let count = position + 1
        let kernels = cache.kernels
        for h in heads {
            let g = h / groupSize
            let q = query + h * headDim
            let o = out + h * headDim
            switch cache.type {
            case .f16:
                for t in 0..<count {
                    let k = cache.keys(layer: layer, position: t).assumingMemoryBound(to: UInt16.self) + g * headDim
                    scores[t] = HalfVector.dot(k, q, headDim, kernels: kernels) * scale
                }
            case .f32:
                for t in 0..<count {
                    let k = cache.keys(layer: layer, position: t).assumingMemoryBound(to: Float.self) + g * headDim
                    var dot: Float = 0
                    for i in 0..<headDim { dot += k[i] * q[i] }
                    scores[t] = dot * scale
                }
            case .q8:
                for t in 0..<count {
                    if let recent = cache.recent(layer: layer, position: t, query: position) {
                        scores[t] = HalfVector.dot(recent.keys + g * headDim, q, headDim, kernels: kernels) * scale
                    } else {
                        let (s, k) = KVQuantization.head(cache.keys(layer: layer, position: t),
                                                         heads: nHeadKV, headDim: headDim, head: g)
                        scores[t] = KVQuantization.dot(k, q, headDim, kernels: kernels) * (s * scale)
                    }
                }
            }
            FloatOps.softmax(scores, count: count)
            o.initialize(repeating: 0, count: headDim)
            switch cache.type {
            case .f16:
                for t in 0..<count {
                    let v = cache.values(layer: layer, position: t).assumingMemoryBound(to: UInt16.self) + g * headDim
                    HalfVector.axpy(scores[t], v, o, headDim, kernels: kernels)
                }
            case .f32:
                for t in 0..<count {
                    let v = cache.values(layer: layer, position: t).assumingMemoryBound(to: Float.self) + g * headDim
                    let p = scores[t]
                    for i in 0..<headDim { o[i] += p * v[i] }
                }
            case .q8:
                for t in 0..<count {
                    if let recent = cache.recent(layer: layer, position: t, query: position) {
                        HalfVector.axpy(scores[t], recent.values + g * headDim, o, headDim, kernels: kernels)
                    } else {
                        let (s, v) = KVQuantization.head(cache.values(layer: layer, position: t),
                                                         heads: nHeadKV, headDim: headDim, head: g)
                        KVQuantization.axpy(scores[t] * s, v, o, headDim, kernels: kernels)
                    }
                }
            }
        }
    }
}
