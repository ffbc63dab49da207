import BitNet
import CBitNetAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Params

private func cParams(from sampling: SamplingParams, into p: inout bitnet_generation_params) {
    p.temperature = sampling.temperature
    p.top_k = sampling.topK
    p.top_p = sampling.topP
    p.min_p = sampling.minP
    p.typical_p = sampling.typicalP
    p.repetition_penalty = sampling.repetitionPenalty
    p.repeat_last_n = sampling.repeatLastN
    p.presence_penalty = sampling.presencePenalty
    p.frequency_penalty = sampling.frequencyPenalty
}

func defaultGenerationParams() -> bitnet_generation_params {
    var p = bitnet_generation_params()
    p.size = UInt32(MemoryLayout<bitnet_generation_params>.size)
    cParams(from: .balanced, into: &p)
    p.seed = SamplingParams.randomSeed
    p.max_new_tokens = 256
    p.add_bos = 1
    return p
}

@c @implementation
public func bitnet_generation_params_init(_ params: UnsafeMutablePointer<bitnet_generation_params>?) {
    params?.pointee = defaultGenerationParams()
}

@c @implementation
public func bitnet_generation_params_init_sized(_ params: UnsafeMutablePointer<bitnet_generation_params>?, _ size: Int) -> Int32 {
    writeDefaults(defaultGenerationParams(), to: params, size: size, function: "bitnet_generation_params_init_sized")
}

@c @implementation
public func bitnet_generation_params_preset(_ params: UnsafeMutablePointer<bitnet_generation_params>?,
                                            _ preset: Int32) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let params = try require(params, "params", in: "bitnet_generation_params_preset")
        let sampling: SamplingParams
        switch Int(preset) {
        case Int(BITNET_PRESET_FAST): sampling = .fast
        case Int(BITNET_PRESET_BALANCED): sampling = .balanced
        case Int(BITNET_PRESET_QUALITY): sampling = .quality
        default: throw .invalidArgument("bitnet_generation_params_preset: unknown preset \(preset)")
        }
        let lastSamplingField = MemoryLayout<bitnet_generation_params>.offset(of: \.frequency_penalty)! + 4
        guard Int(params.pointee.size) >= lastSamplingField else {
            throw .invalidArgument("bitnet_generation_params_preset: params->size is \(params.pointee.size); "
                                   + "call bitnet_generation_params_init() first")
        }
        var copy = try readParams(UnsafePointer(params), defaults: defaultGenerationParams(),
                                  name: "bitnet_generation_params")
        cParams(from: sampling, into: &copy)
        let callerSize = params.pointee.size
        withUnsafeBytes(of: &copy) { source in
            UnsafeMutableRawPointer(params).copyMemory(from: source.baseAddress!, byteCount: Int(callerSize) <= source.count ? Int(callerSize) : source.count)
        }
        params.pointee.size = callerSize
        return Status.ok.rawValue
    }
}

/// A C string the caller passed, validated as UTF-8.
func readCString(_ pointer: UnsafePointer<CChar>, _ what: @autoclosure () -> String) throws(BitNetError) -> String {
    guard let text = decodeUTF8(pointer, count: strlen(pointer)) else {
        throw .invalidArgument("\(what()) is not valid UTF-8")
    }
    return text
}

/// Everything a C generation call passes, converted and checked before anything starts.
struct GenerationRequest {
    var params: GenerationParams
    var progress: ((Int, Int) -> Bool)?

    init(_ pointer: UnsafePointer<bitnet_generation_params>?, model: Model, function: StaticString) throws(BitNetError) {
        let p = try readParams(pointer, defaults: defaultGenerationParams(), name: "bitnet_generation_params")
        var sampling = SamplingParams(
            temperature: p.temperature, topK: p.top_k, topP: p.top_p, minP: p.min_p, typicalP: p.typical_p,
            repetitionPenalty: p.repetition_penalty, repeatLastN: p.repeat_last_n,
            presencePenalty: p.presence_penalty, frequencyPenalty: p.frequency_penalty, seed: p.seed)
        // size_t arrives as Int: a SIZE_MAX-like count turns negative and must not read as "none".
        guard p.n_logit_bias >= 0, p.n_stop_sequences >= 0, p.n_stop_tokens >= 0 else {
            throw .invalidArgument("\(function): n_logit_bias, n_stop_sequences or n_stop_tokens is absurd")
        }
        guard p.n_logit_bias <= 1 << 24 else { throw .invalidArgument("\(function): n_logit_bias \(p.n_logit_bias) is absurd") }
        if p.n_logit_bias > 0 {
            let entries = try require(p.logit_bias, "params->logit_bias", in: function)
            sampling.logitBias = (0..<p.n_logit_bias).map { LogitBias(token: entries[$0].token, bias: entries[$0].bias) }
        }
        var stops: [String] = []
        if p.n_stop_sequences > 0 {
            guard p.n_stop_sequences <= 1 << 16 else { throw .invalidArgument("\(function): n_stop_sequences is absurd") }
            let list = try require(p.stop_sequences, "params->stop_sequences", in: function)
            for i in 0..<p.n_stop_sequences {
                guard let item = list[i] else { throw .invalidArgument("\(function): stop_sequences[\(i)] is NULL") }
                stops.append(try readCString(item, "\(function): stop_sequences[\(i)]"))
            }
        }
        var stopTokens: [Int32] = []
        if p.n_stop_tokens > 0 {
            guard p.n_stop_tokens <= 1 << 24 else { throw .invalidArgument("\(function): n_stop_tokens is absurd") }
            let list = try require(p.stop_tokens, "params->stop_tokens", in: function)
            stopTokens = Array(UnsafeBufferPointer(start: list, count: p.n_stop_tokens))
        }
        params = GenerationParams(sampling: sampling, maxNewTokens: Int(p.max_new_tokens), stopSequences: stops,
                                  stopTokens: stopTokens, ignoreEOS: p.ignore_eos != 0, addBOS: p.add_bos != 0,
                                  parseSpecial: p.parse_special != 0)
        // The core's check of the values (sampling, max_new_tokens, stop
        // tokens), here so a bad request fails before a paused generation is dropped.
        try params.validate(vocabularySize: model.hparams.nVocab)
        params.grammar = try compileGrammar(p.grammar, p.json_schema, function: function)
        if let tools = try compileToolGrammar(p, model: model, function: function) { params.grammar = tools }
        if let callback = p.progress {
            let userData = p.progress_user_data
            progress = { done, total in callback(done, total, userData) == 0 }
        }
    }
}

func generationPrompt(_ prompt: UnsafePointer<CChar>?, function: StaticString) throws(BitNetError) -> GenerationPrompt {
    guard let prompt else { return .continuation }
    return .text(try readCString(prompt, "\(function): prompt"))
}

/// Checks a caller's result struct before anything starts, so a bad one
/// cannot make a finished generation report failure.
func checkResult(_ result: UnsafeMutablePointer<bitnet_generation_result>?, in function: StaticString) throws(BitNetError) {
    guard let result else { return }
    let size = UnsafeRawPointer(result).loadUnaligned(as: UInt32.self)
    guard size >= 4 else {
        throw .invalidArgument("\(function): result->size is \(size); set it to sizeof(bitnet_generation_result)")
    }
}

func cResult(_ stats: GenerationStats, maxTokensAhead: Int = 0) -> bitnet_generation_result {
    bitnet_generation_result(
        size: UInt32(MemoryLayout<bitnet_generation_result>.size), stop_reason: stats.stopReason.rawValue,
        stop_index: Int32(stats.stopIndex), stop_token: stats.stopToken, n_prompt_tokens: Int32(stats.promptTokens),
        n_prompt_tokens_reused: Int32(stats.promptTokensReused), n_generated: Int32(stats.generated),
        max_tokens_ahead: Int32(clamping: maxTokensAhead),
        time_to_first_token_ms: stats.generated > 0 ? stats.timeToFirstToken.secondsDouble * 1000 : 0,
        prompt_tokens_per_second: stats.promptTokensPerSecond,
        generation_tokens_per_second: stats.generationTokensPerSecond)
}

func writeResult(_ stats: GenerationStats, maxTokensAhead: Int = 0,
                 to result: UnsafeMutablePointer<bitnet_generation_result>?) {
    guard let result else { return }
    try? writeStruct(cResult(stats, maxTokensAhead: maxTokensAhead), to: result, name: "bitnet_generation_result")
}

// MARK: - Paused generations

/// The generation paused on each context, until resumed, replaced or the
/// context is freed. A side table rather than a field of `Context` because
/// pausing is a property of the push-mode C API, not of the core.
enum PausedGenerations {
    private static let table = Locked<[ObjectIdentifier: Generator]>([:])

    static func store(_ generator: Generator) {
        table.withLock { $0[ObjectIdentifier(generator.context)] = generator }
    }

    @discardableResult
    static func take(_ context: Context) -> Generator? {
        table.withLock { $0.removeValue(forKey: ObjectIdentifier(context)) }
    }
}

// MARK: - Push mode

/// Runs `generator` to its end or to a pause, handing chunks to `fn`.
/// Call inside `context.exclusive`.
private func drive(_ generator: Generator, progress: ((Int, Int) -> Bool)?, fn: bitnet_stream_fn?,
                   userData: UnsafeMutableRawPointer?,
                   result: UnsafeMutablePointer<bitnet_generation_result>?) throws(BitNetError) -> Int32 {
    do throws(BitNetError) {
        try generator.prepare(progress: progress)
        while let chunk = try generator.next() {
            guard let fn else { continue }
            let answer = callback(fn, chunk, nPast: generator.context.count, userData: userData)
            switch answer {
            case Int32(BITNET_CONTINUE):
                continue
            case Int32(BITNET_PAUSE):
                PausedGenerations.store(generator)
                generator.context.willIdle()  // a batch's steps go on without it
                writeResult(generator.stats, to: result)
                return Status.paused.rawValue
            default:
                generator.cancel()
                throw BitNetError(.cancelled, "generation cancelled by the stream callback (it returned \(answer))")
            }
        }
    } catch {
        writeResult(generator.stats, to: result)
        throw error
    }
    writeResult(generator.stats, to: result)
    return Status.ok.rawValue
}

private func callback(_ fn: bitnet_stream_fn, _ chunk: GenerationChunk, nPast: Int,
                      userData: UnsafeMutableRawPointer?) -> Int32 {
    chunk.text.withUnsafeBufferPointer { text in
        chunk.tokens.withUnsafeBufferPointer { tokens in
            chunk.logprobs.withUnsafeBufferPointer { logprobs in
                var info = bitnet_token_info(
                    size: UInt32(MemoryLayout<bitnet_token_info>.size), tokens: tokens.baseAddress,
                    logprobs: logprobs.baseAddress, n_tokens: tokens.count,
                    n_generated: Int32(clamping: chunk.generatedCount), n_past: Int32(clamping: nPast))
                let bytes = UnsafeRawPointer(text.baseAddress!).assumingMemoryBound(to: CChar.self)  // chunks are never empty
                return fn(bytes, text.count, &info, userData)
            }
        }
    }
}

@c @implementation
public func bitnet_generate(_ ctx: OpaquePointer?, _ prompt: UnsafePointer<CChar>?,
                            _ params: UnsafePointer<bitnet_generation_params>?, _ fn: bitnet_stream_fn?,
                            _ userData: UnsafeMutableRawPointer?,
                            _ result: UnsafeMutablePointer<bitnet_generation_result>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_generate"))
        try checkResult(result, in: "bitnet_generate")
        let request = try GenerationRequest(params, model: context.model, function: "bitnet_generate")
        let prompt = try generationPrompt(prompt, function: "bitnet_generate")
        return try context.exclusive { () throws(BitNetError) -> Int32 in
            PausedGenerations.take(context)
            let generator = try Generator(context: context, prompt: prompt, params: request.params)
            return try drive(generator, progress: request.progress, fn: fn, userData: userData, result: result)
        }
    }
}

@c @implementation
public func bitnet_generate_resume(_ ctx: OpaquePointer?, _ fn: bitnet_stream_fn?, _ userData: UnsafeMutableRawPointer?,
                                   _ result: UnsafeMutablePointer<bitnet_generation_result>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let context = Handle<Context>.borrow(try require(ctx, "ctx", in: "bitnet_generate_resume"))
        try checkResult(result, in: "bitnet_generate_resume")
        return try context.exclusive { () throws(BitNetError) -> Int32 in
            guard let generator = PausedGenerations.take(context) else {
                throw .invalidArgument("bitnet_generate_resume: no generation is paused on this context")
            }
            return try drive(generator, progress: nil, fn: fn, userData: userData, result: result)
        }
    }
}
