import BitNet
import CBitNetAPI

// The prefix cache, context statistics, shifting and saved state (bitnet.h,
// "Prefix cache, statistics, saved state").

@c @implementation
public func bitnet_context_shift(_ ctx: OpaquePointer?, _ nDropped: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_context_shift"))
        let dropped = try context.exclusive { () throws(BitNetError) in try context.shiftForOverflow() }
        nDropped?.pointee = Int32(dropped)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_cache_warm(_ ctx: OpaquePointer?, _ text: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_cache_warm"))
        let text = try require(text, "text", in: "bitnet_cache_warm")
        guard let string = String(validatingCString: text) else {
            throw .invalidArgument("bitnet_cache_warm: text is not valid UTF-8")
        }
        guard !string.isEmpty else { throw .invalidArgument("bitnet_cache_warm: text is empty") }
        try context.exclusive { () throws(BitNetError) in try context.warmPrefix(text: string) }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_cache_warm_tokens(_ ctx: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ n: Int) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_cache_warm_tokens"))
        let tokens = try require(tokens, "tokens", in: "bitnet_cache_warm_tokens")
        guard n > 0 else { throw .invalidArgument("bitnet_cache_warm_tokens: n must be at least 1") }
        guard n <= context.capacity else {
            throw BitNetError(.contextFull, "bitnet_cache_warm_tokens: \(n) tokens can never fit in n_ctx \(context.capacity)")
        }
        let ids = Array(UnsafeBufferPointer(start: tokens, count: n))
        try context.exclusive { () throws(BitNetError) in try context.warmPrefix(ids) }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_cache_clear(_ ctx: OpaquePointer?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_cache_clear"))
        try context.exclusive { context.clearPrefixCache() }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_context_stats_get(_ ctx: OpaquePointer?, _ stats: UnsafeMutablePointer<bitnet_context_stats>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_context_stats_get"))
        let stats = try require(stats, "stats", in: "bitnet_context_stats_get")
        let prefix = context.prefixCacheStatistics
        let value = bitnet_context_stats(
            size: UInt32(MemoryLayout<bitnet_context_stats>.size), n_ctx: UInt32(context.capacity),
            n_past: UInt32(context.count), kv_type: context.kvType.rawValue,
            kv_bytes_per_token: UInt64(context.kvBytesPerToken), kv_bytes: UInt64(context.kvBytes),
            prefix_hits: UInt64(prefix.hits), prefix_misses: UInt64(prefix.misses),
            prefix_tokens_reused: UInt64(prefix.tokensReused), prefix_evictions: UInt64(prefix.evictions),
            prefix_bytes: UInt64(prefix.bytes), prefix_entries: UInt64(prefix.entries))
        try writeStruct(value, to: stats, name: "bitnet_context_stats")
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_state_size(_ ctx: OpaquePointer?, _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_state_size"))
        let size = try require(size, "size", in: "bitnet_state_size")
        size.pointee = try context.exclusive { () throws(BitNetError) in try context.stateSize() }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_state_save_buffer(_ ctx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ cap: Int,
                                     _ written: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_state_save_buffer"))
        written?.pointee = 0
        // size_t arrives as Int: SIZE_MAX-like capacities turn negative.
        guard cap >= 0 else { throw .invalidArgument("bitnet_state_save_buffer: cap \(UInt(bitPattern: cap)) is absurd") }
        guard buf != nil || cap == 0 else {
            throw .invalidArgument("bitnet_state_save_buffer: buf is NULL but cap is \(cap)")
        }
        let count = try context.exclusive { () throws(BitNetError) in
            try context.saveState(into: UnsafeMutableRawBufferPointer(start: buf, count: buf == nil ? 0 : cap))
        }
        written?.pointee = count
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_state_load_buffer(_ ctx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_state_load_buffer"))
        let buf = try require(buf, "buf", in: "bitnet_state_load_buffer")
        guard len >= 0 else { throw .invalidArgument("bitnet_state_load_buffer: len \(UInt(bitPattern: len)) is absurd") }
        try context.exclusive { () throws(BitNetError) in
            try context.loadState(from: UnsafeRawBufferPointer(start: buf, count: len))
        }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_state_save(_ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_state_save"))
        let path = String(cString: try require(path, "path", in: "bitnet_state_save"))
        try context.exclusive { () throws(BitNetError) in try context.saveState(path: path) }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_state_load(_ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_state_load"))
        let path = String(cString: try require(path, "path", in: "bitnet_state_load"))
        try context.exclusive { () throws(BitNetError) in try context.loadState(path: path) }
        return Status.ok.rawValue
    }
}
