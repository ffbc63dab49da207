import BitNet
import CBitNetAPI

/// The C progress callback and its user data as plain bits, so the Swift
/// closure is Sendable; it is only called on the loading thread.
private struct CProgressTarget: @unchecked Sendable {
    let fn: bitnet_progress_fn
    let userData: UnsafeMutableRawPointer?
}

private func defaultModelParams() -> bitnet_model_params {
    bitnet_model_params(
        size: UInt32(MemoryLayout<bitnet_model_params>.size),
        use_mmap: 1, use_mlock: 0, vocab_only: 0,
        progress_callback: nil, progress_user_data: nil, lm_head_type: Int32(BITNET_LM_HEAD_AUTO),
        use_huge_pages: 1, validate_only: 0)
}

@c @implementation
public func bitnet_model_params_init(_ params: UnsafeMutablePointer<bitnet_model_params>?) {
    params?.pointee = defaultModelParams()
}

@c @implementation
public func bitnet_model_params_init_sized(_ params: UnsafeMutablePointer<bitnet_model_params>?, _ size: Int) -> Int32 {
    writeDefaults(defaultModelParams(), to: params, size: size, function: "bitnet_model_params_init_sized")
}

@c @implementation
public func bitnet_model_load(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<bitnet_model_params>?,
                              _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let out = try require(out, "out", in: "bitnet_model_load")
        out.pointee = nil
        let path = try require(path, "path", in: "bitnet_model_load")
        let p = try readParams(params, defaults: defaultModelParams(), name: "bitnet_model_params")
        var options = ModelLoadOptions(useMmap: p.use_mmap != 0, useMlock: p.use_mlock != 0, vocabOnly: p.vocab_only != 0)
        switch p.lm_head_type {
        case Int32(BITNET_LM_HEAD_AS_STORED): options.lmHead = .asStored
        case Int32(BITNET_LM_HEAD_Q8_0): options.lmHead = .q8_0
        case Int32(BITNET_LM_HEAD_AUTO): options.lmHead = .automatic
        default: throw .invalidArgument("bitnet_model_load: lm_head_type \(p.lm_head_type) is not a BITNET_LM_HEAD_* value")
        }
        options.useHugePages = p.use_huge_pages != 0
        options.validateOnly = p.validate_only != 0
        if let fn = p.progress_callback {
            let target = CProgressTarget(fn: fn, userData: p.progress_user_data)
            options.progress = { fraction in target.fn(Float(fraction), target.userData) == 0 }
        }
        let model = try Model.load(path: String(cString: path), options: options)
        out.pointee = Handle<Model>.retain(model)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_model_info_get(_ model: OpaquePointer?, _ info: UnsafeMutablePointer<bitnet_model_info>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_model_info_get"))
        let info = try require(info, "info", in: "bitnet_model_info_get")
        let h = model.hparams
        var result = bitnet_model_info()
        result.size = UInt32(MemoryLayout<bitnet_model_info>.size)
        withUnsafeMutableBytes(of: &result.arch) { arch in
            let name = Array(h.architectureName.utf8.prefix(arch.count - 1))
            arch.copyBytes(from: name)
            arch[name.count] = 0
        }
        result.n_vocab = Int32(clamping: h.nVocab)
        result.n_ctx_train = Int32(clamping: h.nCtxTrain)
        result.n_embd = Int32(clamping: h.nEmbd)
        result.n_layer = Int32(clamping: h.nLayer)
        result.n_head = Int32(clamping: h.nHead)
        result.n_head_kv = Int32(clamping: h.nHeadKV)
        result.n_ff = Int32(clamping: h.nFF)
        result.weight_type = model.weightType.map { Int32($0.id) } ?? -1
        result.n_rot = Int32(clamping: h.nRot)
        result.n_params = Int64(model.parameterCount)
        result.file_size = UInt64(model.fileSize)
        result.rope_freq_base = h.ropeTheta
        result.rms_norm_eps = h.rmsEps
        result.activation = h.activation == .silu ? Int32(BITNET_ACTIVATION_SILU) : Int32(BITNET_ACTIVATION_RELU2)
        result.tied_output = h.tiedOutput ? 1 : 0
        result.vocab_only = model.isVocabOnly ? 1 : 0
        result.validate_only = model.isValidateOnly ? 1 : 0
        try writeStruct(result, to: info, name: "bitnet_model_info")
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_model_meta_get(_ model: OpaquePointer?, _ key: UnsafePointer<CChar>?,
                                  _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                  _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_model_meta_get"))
        let key = String(cString: try require(key, "key", in: "bitnet_model_meta_get"))
        guard let value = model.metadata[key] else {
            throw .invalidArgument("bitnet_model_meta_get: the model has no metadata key '\(key)'")
        }
        return try writeCString(value.formatted(), to: buf, capacity: cap, length: len, function: "bitnet_model_meta_get")
    }
}

@c @implementation
public func bitnet_model_meta_count(_ model: OpaquePointer?) -> Int32 {
    guard let model else { return 0 }
    return Int32(clamping: Handle<Model>.borrow(model).file.metadataKeys.count)
}

@c @implementation
public func bitnet_model_meta_key(_ model: OpaquePointer?, _ index: Int32, _ buf: UnsafeMutablePointer<CChar>?,
                                  _ cap: Int, _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let model = Handle<Model>.borrow(try require(model, "model", in: "bitnet_model_meta_key"))
        let keys = model.file.metadataKeys
        guard index >= 0, Int(index) < keys.count else {
            throw .invalidArgument("bitnet_model_meta_key: index \(index) is outside 0..<\(keys.count)")
        }
        return try writeCString(keys[Int(index)], to: buf, capacity: cap, length: len, function: "bitnet_model_meta_key")
    }
}

@c @implementation
public func bitnet_model_free(_ model: OpaquePointer?) {
    Handle<Model>.release(model)
}
