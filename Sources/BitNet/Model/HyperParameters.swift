/// A model's architecture and dimensions, read from `{arch}.*` metadata.
package struct HyperParameters: Sendable, Equatable {
    package enum Architecture: String, Sendable, CaseIterable {
        /// Microsoft's official 2B4T GGUF (bitnet.cpp).
        case bitnetB158 = "bitnet-b1.58"
        /// The older upload of the same model.
        case bitnet25 = "bitnet-25"
        /// llama.cpp's converter (1bitLLM 700M/3B and others).
        case bitnet = "bitnet"
        /// Llama-architecture ternary checkpoints (bitnet.cpp's and llama.cpp's converters).
        case llama = "llama"
        /// Qwen3-architecture ternary checkpoints (TQ1_0 / TQ2_0 repacks).
        case qwen3 = "qwen3"
    }

    package enum Activation: String, Sendable {
        /// relu(x)^2
        case relu2
        /// x * sigmoid(x)
        case silu
    }

    /// The architecture, or nil for a vocab-only load of another architecture.
    package var architecture: Architecture?
    /// `general.architecture` exactly as written in the file.
    package var architectureName: String
    package var activation: Activation
    package var nVocab: Int
    package var nCtxTrain: Int
    package var nEmbd: Int
    package var nLayer: Int
    package var nHead: Int
    package var nHeadKV: Int
    package var nFF: Int
    /// Rotary dimensions per head (`rope.dimension_count`).
    package var nRot: Int
    package var ropeTheta: Float
    package var rmsEps: Float
    /// True when the LM head reuses `token_embd.weight` (no `output.weight`).
    package var tiedOutput: Bool

    /// Values per attention head: `attention.key_length` when the file has
    /// it (Qwen3-4B: 128 with n_embd 2560 and 32 heads), else n_embd / n_head.
    package var headDim: Int
    /// Width of the queries and of the attention output: n_head * head_dim.
    package var qDim: Int { nHead * headDim }
    /// Width of K and V rows: n_head_kv * head_dim.
    package var kvDim: Int { nHeadKV * headDim }
    /// Query heads sharing one KV head.
    package var groupSize: Int { nHeadKV > 0 ? nHead / nHeadKV : 0 }

    /// Reads and validates the hyperparameters of `file`.
    ///
    /// With `vocabOnly`, any architecture is accepted and missing or odd values
    /// fall back to 0 instead of failing: only the tokenizer will be used.
    package init(file: GGUFFile, vocabOnly: Bool = false) throws(BitNetError) {
        let reader = MetadataReader(metadata: file.metadata)
        guard let archValue = file.metadata["general.architecture"] else {
            throw .format("missing metadata key general.architecture")
        }
        guard let archName = archValue.asString else {
            throw .format("metadata 'general.architecture' has type \(archValue.typeDescription), expected string")
        }
        if vocabOnly {
            self = HyperParameters(lenientFrom: reader, file: file)
            return
        }
        guard let known = Architecture(rawValue: archName) else {
            let supported = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            throw .unsupported("architecture '\(archName)' is not supported (supported: \(supported))")
        }
        architectureName = archName
        architecture = known
        let p = archName + "."

        // Activation: b1.58 / bitnet-25 are always relu²; `bitnet` defaults to SiLU;
        // llama and qwen3 are SiLU-gated.
        switch known {
        case .bitnet:
            switch try reader.string(p + "hidden_activation") {
            case nil, "silu"?: activation = .silu
            case "relu2"?: activation = .relu2
            case let other?:
                throw .unsupported("metadata '\(p)hidden_activation' is '\(other)'; supported: relu2, silu")
            }
        default:
            activation = known.defaultActivation
        }

        let embedding = file.tensor(named: "token_embd.weight")
        guard let embd = try reader.int(p + "embedding_length") ?? embedding?.dims.first else {
            throw .format("missing metadata key \(p)embedding_length and tensor token_embd.weight")
        }
        nEmbd = embd
        let embeddingRows = embedding.flatMap { $0.dims.count > 1 ? $0.dims[1] : nil }
        guard let vocab = try reader.int(p + "vocab_size") ?? embeddingRows
            ?? file.metadata["tokenizer.ggml.tokens"]?.asArray?.count else {
            throw .format("cannot determine n_vocab: no \(p)vocab_size, token_embd.weight or tokenizer.ggml.tokens")
        }
        nVocab = vocab
        nLayer = try reader.int(p + "block_count") ?? HyperParameters.countBlocks(file)
        nCtxTrain = try reader.int(p + "context_length") ?? 4096
        let upRows = file.tensor(named: "blk.0.ffn_up.weight").flatMap { $0.dims.count > 1 ? $0.dims[1] : nil }
        guard let ff = try reader.int(p + "feed_forward_length") ?? upRows else {
            throw .format("missing metadata key \(p)feed_forward_length and tensor blk.0.ffn_up.weight")
        }
        nFF = ff
        let ropeDims = try reader.int(p + "rope.dimension_count")
        guard let heads = try reader.int(p + "attention.head_count")
            ?? ropeDims.flatMap({ $0 > 0 && embd % $0 == 0 ? embd / $0 : nil }) else {
            throw .format("missing metadata key \(p)attention.head_count")
        }
        nHead = heads
        nHeadKV = try reader.int(p + "attention.head_count_kv") ?? heads
        let keyLength = try reader.int(p + "attention.key_length")
        headDim = keyLength ?? (heads > 0 ? embd / heads : 0)
        // K and V heads of different widths exist (MLA) but not in any family we run.
        if let valueLength = try reader.int(p + "attention.value_length"), valueLength != headDim {
            throw .unsupported("\(p)attention.value_length \(valueLength) differs from the key head width \(headDim) (\(p)attention.key_length)")
        }
        nRot = ropeDims ?? headDim
        ropeTheta = Float(try reader.double(p + "rope.freq_base") ?? known.defaultRopeTheta)
        rmsEps = Float(try reader.double(p + "attention.layer_norm_rms_epsilon") ?? 1e-5)
        tiedOutput = file.tensor(named: "output.weight") == nil
        try validate(explicitHeadDim: keyLength != nil)
    }

    /// Best-effort values for vocab-only loads; never throws.
    private init(lenientFrom reader: MetadataReader, file: GGUFFile) {
        let name = file.metadata["general.architecture"]?.asString ?? ""
        let p = name + "."
        func int(_ key: String) -> Int { ((try? reader.int(p + key)) ?? nil) ?? 0 }
        architectureName = name
        architecture = Architecture(rawValue: name)
        let hidden = (try? reader.string(p + "hidden_activation")) ?? nil
        activation = architecture == .bitnet && hidden == "relu2" ? .relu2 : (architecture?.defaultActivation ?? .relu2)
        nVocab = file.metadata["tokenizer.ggml.tokens"]?.asArray?.count ?? int("vocab_size")
        nCtxTrain = int("context_length")
        nEmbd = int("embedding_length")
        nLayer = int("block_count")
        nHead = int("attention.head_count")
        nHeadKV = ((try? reader.int(p + "attention.head_count_kv")) ?? nil) ?? nHead
        nFF = int("feed_forward_length")
        headDim = int("attention.key_length") > 0 ? int("attention.key_length") : (nHead > 0 ? nEmbd / nHead : 0)
        nRot = int("rope.dimension_count")
        ropeTheta = Float(((try? reader.double(p + "rope.freq_base")) ?? nil) ?? 0)
        rmsEps = Float(((try? reader.double(p + "attention.layer_norm_rms_epsilon")) ?? nil) ?? 1e-5)
        tiedOutput = true
    }

    /// Number of distinct `blk.N.` prefixes among the tensors.
    private static func countBlocks(_ file: GGUFFile) -> Int {
        var highest = -1
        for info in file.tensors where info.name.hasPrefix("blk.") {
            let digits = info.name.dropFirst(4).prefix { $0.isASCII && $0.isNumber }
            if let n = Int(digits) { highest = max(highest, n) }
        }
        return highest + 1
    }

    /// The dimensions must be positive, fit the C API's int32 fields, and agree.
    /// `explicitHeadDim`: the file gives `attention.key_length`, so the heads
    /// need not divide n_embd.
    private func validate(explicitHeadDim: Bool) throws(BitNetError) {
        let p = architectureName + "."
        let fields: [(String, Int)] = [
            ("vocab_size", nVocab), ("context_length", nCtxTrain), ("embedding_length", nEmbd),
            ("block_count", nLayer), ("attention.head_count", nHead), ("attention.head_count_kv", nHeadKV),
            ("feed_forward_length", nFF), ("rope.dimension_count", nRot),
        ]
        for (key, value) in fields {
            guard value > 0, value <= Int(Int32.max) else {
                throw .format("\(p)\(key) is \(value), expected 1...\(Int32.max)")
            }
        }
        guard explicitHeadDim || nEmbd % nHead == 0 else {
            throw .format("\(p)embedding_length \(nEmbd) is not divisible by \(p)attention.head_count \(nHead)")
        }
        guard headDim > 0, headDim <= 1 << 16 else {
            throw .format("\(p)attention.key_length is \(headDim), expected 1...65536")
        }
        guard nHead % nHeadKV == 0 else {
            throw .format("\(p)attention.head_count \(nHead) is not divisible by \(p)attention.head_count_kv \(nHeadKV)")
        }
        guard headDim % 2 == 0 else { throw .format("head dimension \(headDim) (n_embd / n_head) must be even for RoPE") }
        guard nRot <= headDim, nRot % 2 == 0 else {
            throw .format("\(p)rope.dimension_count \(nRot) must be even and at most the head dimension \(headDim)")
        }
        guard rmsEps.isFinite, rmsEps > 0 else {
            throw .format("\(p)attention.layer_norm_rms_epsilon is \(rmsEps), expected a positive number")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw .format("\(p)rope.freq_base is \(ropeTheta), expected a positive number")
        }
    }
}

/// Typed metadata lookups that reject wrong value types with a message
/// naming the key (a present key of the wrong type is an error, not a default).
struct MetadataReader {
    let metadata: [String: GGUFValue]

    func int(_ key: String) throws(BitNetError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let int = value.asInt else {
            throw .format("metadata '\(key)' has type \(value.typeDescription), expected an integer")
        }
        return int
    }

    func double(_ key: String) throws(BitNetError) -> Double? {
        guard let value = metadata[key] else { return nil }
        guard let double = value.asDouble else {
            throw .format("metadata '\(key)' has type \(value.typeDescription), expected a number")
        }
        return double
    }

    func string(_ key: String) throws(BitNetError) -> String? {
        guard let value = metadata[key] else { return nil }
        guard let string = value.asString else {
            throw .format("metadata '\(key)' has type \(value.typeDescription), expected string")
        }
        return string
    }
}
