import BitNet
import CBitNetAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@c @implementation
public func bitnet_stream_start(_ ctx: OpaquePointer?, _ prompt: UnsafePointer<CChar>?,
                                _ params: UnsafePointer<bitnet_generation_params>?, _ capacity: Int,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let out = try require(out, "out", in: "bitnet_stream_start")
        out.pointee = nil
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_stream_start"))
        try GenerationStream.check(capacity: capacity)
        let request = try GenerationRequest(params, model: context.model, function: "bitnet_stream_start")
        let prompt = try generationPrompt(prompt, function: "bitnet_stream_start")
        // Tokenizing and checking happen here, on the caller's thread, so bad
        // input fails before a thread starts; a paused push generation is dropped.
        let generator = try Generator(context: context, prompt: prompt, params: request.params)
        let stream = try GenerationStream(generator: generator, capacity: capacity, progress: request.progress)
        PausedGenerations.take(context)
        out.pointee = Handle<GenerationStream>.retain(stream)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_stream_next(_ stream: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                               _ len: UnsafeMutablePointer<Int>?, _ timeoutMs: Int32) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let stream = Handle<GenerationStream>.borrow(try require(stream, "stream", in: "bitnet_stream_next"))
        let len = try require(len, "len", in: "bitnet_stream_next")
        len.pointee = 0
        if cap > 0 { _ = try require(buf, "buf", in: "bitnet_stream_next") }
        var tooSmall = false
        let chunk = try stream.next(timeoutMilliseconds: Int(timeoutMs)) { chunk in
            len.pointee = chunk.text.count
            guard chunk.text.count < cap, let buf else {
                tooSmall = true
                return false
            }
            chunk.text.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buf).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            buf[chunk.text.count] = 0
            return true
        }
        guard let chunk else { return Status.done.rawValue }
        if tooSmall {
            throw BitNetError(.bufferTooSmall, "bitnet_stream_next: the chunk needs \(chunk.text.count + 1) bytes, buffer has \(cap)")
        }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_stream_cancel(_ stream: OpaquePointer?) -> Int32 {
    guard let stream else { return fail(.invalidArgument, "bitnet_stream_cancel: stream must not be NULL") }
    Handle<GenerationStream>.borrow(stream).cancel()
    return Status.ok.rawValue
}

@c @implementation
public func bitnet_stream_result(_ stream: OpaquePointer?, _ result: UnsafeMutablePointer<bitnet_generation_result>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let stream = Handle<GenerationStream>.borrow(try require(stream, "stream", in: "bitnet_stream_result"))
        let result = try require(result, "result", in: "bitnet_stream_result")
        try writeStruct(cResult(stream.stats, maxTokensAhead: stream.maxTokensAhead), to: result,
                        name: "bitnet_generation_result")
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_stream_free(_ stream: OpaquePointer?) {
    guard let stream else { return }
    let object = Handle<GenerationStream>.borrow(stream)
    object.cancel()
    object.join()
    Handle<GenerationStream>.release(stream)
}
