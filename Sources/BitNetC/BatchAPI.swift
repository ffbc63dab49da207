import BitNet
import CBitNetAPI

private func defaultBatchParams() -> bitnet_batch_params {
    let defaults = BatchOptions()
    return bitnet_batch_params(size: UInt32(MemoryLayout<bitnet_batch_params>.size),
                               max_sequences: Int32(defaults.maxSequences), n_threads: 0,
                               prompt_chunk: Int32(defaults.promptChunk),
                               prefix_cache_bytes: UInt64(defaults.prefixCacheBytes),
                               prefix_eviction: Int32(BITNET_EVICT_LRU))
}

@c @implementation
public func bitnet_batch_params_init(_ params: UnsafeMutablePointer<bitnet_batch_params>?) {
    params?.pointee = defaultBatchParams()
}

@c @implementation
public func bitnet_batch_params_init_sized(_ params: UnsafeMutablePointer<bitnet_batch_params>?, _ size: Int) -> Int32 {
    writeDefaults(defaultBatchParams(), to: params, size: size, function: "bitnet_batch_params_init_sized")
}

@c @implementation
public func bitnet_batch_new(_ model: OpaquePointer?, _ params: UnsafePointer<bitnet_batch_params>?,
                             _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let out = try require(out, "out", in: "bitnet_batch_new")
        out.pointee = nil
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_batch_new"))
        let p = try readParams(params, defaults: defaultBatchParams(), name: "bitnet_batch_params")
        guard let eviction = EvictionPolicy(rawValue: p.prefix_eviction) else {
            throw .invalidArgument("bitnet_batch_new: prefix_eviction \(p.prefix_eviction) is not a BITNET_EVICT_* value")
        }
        var options = BatchOptions()
        options.maxSequences = Int(p.max_sequences)
        options.threads = Int(p.n_threads)
        options.promptChunk = Int(p.prompt_chunk)
        options.prefixCacheBytes = Int(clamping: p.prefix_cache_bytes)
        options.prefixEviction = eviction
        out.pointee = Handle<Batch>.retain(try Batch(model: model, options: options))
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_batch_free(_ batch: OpaquePointer?) {
    Handle<Batch>.release(batch)
}

@c @implementation
public func bitnet_batch_stats_get(_ batch: OpaquePointer?, _ stats: UnsafeMutablePointer<bitnet_batch_stats>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let batch = Handle<Batch>.borrow(try require(batch, "batch", in: "bitnet_batch_stats_get"))
        let stats = try require(stats, "stats", in: "bitnet_batch_stats_get")
        let counters = batch.statistics
        let value = bitnet_batch_stats(
            size: UInt32(MemoryLayout<bitnet_batch_stats>.size), n_sequences: Int32(clamping: counters.sequences),
            n_steps: counters.steps, n_tokens: counters.tokens, mean_batch_size: counters.meanBatchSize,
            tokens_per_second: counters.tokensPerSecond, n_last_step: Int32(clamping: counters.lastStepSequences))
        try writeStruct(value, to: stats, name: "bitnet_batch_stats")
        return Status.ok.rawValue
    }
}
