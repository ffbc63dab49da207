/// What a context's KV cache costs, known before and after allocating it.
extension Context {
    /// Bytes a context for `model` with `options` would allocate for its KV
    /// cache (q8's f16 window included), computed without allocating.
    package static func kvBytesEstimate(model: Model, options: ContextOptions) throws(BitNetError) -> Int {
        _ = try model.evaluableWeights()
        let hp = model.hparams
        let resolved = try options.resolved(for: hp)
        return try KVCache.totalBytes(layers: hp.nLayer, heads: hp.nHeadKV, headDim: hp.headDim, type: resolved.kvType,
                                      capacity: resolved.contextLength, batch: resolved.batchSize)
    }

    package var kvType: KVType { cache.type }
    /// KV bytes of one token (all layers, keys and values), q8's f16 window excluded.
    package var kvBytesPerToken: Int { 2 * cache.layers * cache.rowBytes }
    /// Bytes the KV cache allocated.
    package var kvBytes: Int { cache.totalBytes }
    package var overflowPolicy: OverflowPolicy { options.overflowPolicy }
    package var keepOnShift: Int { options.keepOnShift }
}
