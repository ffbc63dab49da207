import BitNet
import CBitNetAPI

private func defaultContextParams() -> bitnet_context_params {
    bitnet_context_params(size: UInt32(MemoryLayout<bitnet_context_params>.size), n_ctx: 0, n_batch: 64,
                          n_threads: 0, kv_type: Int32(BITNET_KV_F16), logits_all: 0,
                          prefix_cache_bytes: UInt64(ContextOptions().prefixCacheBytes),
                          prefix_eviction: Int32(BITNET_EVICT_LRU), prefix_cache_auto: 0,
                          overflow_policy: Int32(BITNET_OVERFLOW_STOP), n_keep: Int32(ContextOptions().keepOnShift),
                          batch: nil)
}

/// The caller's params (NULL: defaults) as checked ContextOptions.
private func contextOptions(_ params: UnsafePointer<bitnet_context_params>?,
                            function: StaticString) throws(BitNetError) -> ContextOptions {
    let p = try readParams(params, defaults: defaultContextParams(), name: "bitnet_context_params")
    guard let kvType = KVType(rawValue: p.kv_type) else {
        throw .invalidArgument("\(function): kv_type \(p.kv_type) is not a BITNET_KV_* value")
    }
    guard let eviction = EvictionPolicy(rawValue: p.prefix_eviction) else {
        throw .invalidArgument("\(function): prefix_eviction \(p.prefix_eviction) is not a BITNET_EVICT_* value")
    }
    guard let overflow = OverflowPolicy(rawValue: p.overflow_policy) else {
        throw .invalidArgument("\(function): overflow_policy \(p.overflow_policy) is not a BITNET_OVERFLOW_* value")
    }
    // Counts (n_threads, n_keep, n_ctx, n_batch) are checked by the core
    // (`ContextOptions.resolved`), before anything is allocated.
    var options = ContextOptions()
    options.contextLength = Int(p.n_ctx)
    options.batchSize = p.n_batch == 0 ? 64 : Int(p.n_batch)
    options.threads = Int(p.n_threads)
    options.kvType = kvType
    options.allLogits = p.logits_all != 0
    options.prefixCacheBytes = Int(clamping: p.prefix_cache_bytes)
    options.prefixEviction = eviction
    options.prefixCacheAuto = p.prefix_cache_auto != 0
    options.overflowPolicy = overflow
    options.keepOnShift = Int(p.n_keep)
    if let batch = p.batch { options.batch = Handle<Batch>.borrow(batch) }
    return options
}

@c @implementation
public func bitnet_context_params_init(_ params: UnsafeMutablePointer<bitnet_context_params>?) {
    params?.pointee = defaultContextParams()
}

@c @implementation
public func bitnet_context_params_init_sized(_ params: UnsafeMutablePointer<bitnet_context_params>?, _ size: Int) -> Int32 {
    writeDefaults(defaultContextParams(), to: params, size: size, function: "bitnet_context_params_init_sized")
}

@c @implementation
public func bitnet_context_new(_ model: OpaquePointer?, _ params: UnsafePointer<bitnet_context_params>?,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let out = try require(out, "out", in: "bitnet_context_new")
        out.pointee = nil
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_context_new"))
        let options = try contextOptions(params, function: "bitnet_context_new")
        let context = try Context(model: model, options: options)
        out.pointee = Handle<Context>.retain(context)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_kv_bytes_estimate(_ model: OpaquePointer?, _ params: UnsafePointer<bitnet_context_params>?,
                                     _ bytes: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let bytes = try require(bytes, "bytes", in: "bitnet_kv_bytes_estimate")
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_kv_bytes_estimate"))
        let options = try contextOptions(params, function: "bitnet_kv_bytes_estimate")
        bytes.pointee = try Context.kvBytesEstimate(model: model, options: options)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_context_free(_ ctx: OpaquePointer?) {
    guard let ctx else { return }
    let context = Handle<Context>.borrow(ctx)
    // Freeing from the context's own callback (or while a stream runs) would
    // pull the memory from under the running call: refuse instead of crashing.
    do {
        try context.exclusive { () throws(BitNetError) in _ = PausedGenerations.take(context) }
    } catch {
        Log.warn("bitnet_context_free: the context is in use (by a running call or stream); not freed")
        return
    }
    Handle<Context>.release(ctx)
}

@c @implementation
public func bitnet_context_eval(_ ctx: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ n: Int) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_context_eval"))
        let tokens = try require(tokens, "tokens", in: "bitnet_context_eval")
        guard n > 0 else { throw .invalidArgument("bitnet_context_eval: n must be at least 1") }
        // Room first, before any id is read (a huge n never walks off the
        // caller's buffer), then every id, and only then may the overflow
        // policy shift: a call that fails changes nothing.
        let input = UnsafeBufferPointer(start: tokens, count: n)
        try context.exclusive { () throws(BitNetError) in
            try context.requireRoom(for: n)
            try context.checkTokens(input)
            try context.makeRoom(for: n)
            try context.evalReusingPrefixCache(input)
        }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_context_logits(_ ctx: OpaquePointer?) -> UnsafePointer<Float>? {
    bitnet_context_logits_ith(ctx, -1)
}

@c @implementation
public func bitnet_context_logits_ith(_ ctx: OpaquePointer?, _ i: Int32) -> UnsafePointer<Float>? {
    guard let ctx else {
        fail(.invalidArgument, "bitnet_context_logits: ctx must not be NULL")
        return nil
    }
    let context = Handle<Context>.borrow(ctx)
    guard let row = context.logits(row: Int(i)) else {
        fail(.invalidArgument, "bitnet_context_logits: row \(i) is not available (the last eval kept \(context.logitRows))")
        return nil
    }
    return row.baseAddress
}

@c @implementation
public func bitnet_context_n_past(_ ctx: OpaquePointer?) -> Int32 {
    guard let ctx else { return 0 }
    return Int32(Handle<Context>.borrow(ctx).count)
}

@c @implementation
public func bitnet_context_n_ctx(_ ctx: OpaquePointer?) -> Int32 {
    guard let ctx else { return 0 }
    return Int32(Handle<Context>.borrow(ctx).capacity)
}

@c @implementation
public func bitnet_context_truncate(_ ctx: OpaquePointer?, _ nKeep: Int32) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_context_truncate"))
        try context.exclusive { () throws(BitNetError) in try context.truncate(to: Int(nKeep)) }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_context_reset(_ ctx: OpaquePointer?) -> Int32 {
    bitnet_context_truncate(ctx, 0)
}

@c @implementation
public func bitnet_context_interrupt(_ ctx: OpaquePointer?) -> Int32 {
    guard let ctx else { return fail(.invalidArgument, "bitnet_context_interrupt: ctx must not be NULL") }
    Handle<Context>.borrow(ctx).interrupt()
    return Status.ok.rawValue
}
