/// How to load a model.
public struct ModelLoadOptions: Sendable {
    /// Map the file (default) instead of reading it into the heap.
    public var useMmap = true
    /// Pin the file's pages in RAM (best effort).
    public var useMlock = false
    /// Read only metadata (tokenizer); no weights, any architecture.
    public var vocabOnly = false
    /// Check the file's structure as a full load does (header, metadata,
    /// hyperparameters, tensor table, every required tensor's type and shape,
    /// the tokenizer) without reading or repacking weight values: the file is
    /// mapped whatever `useMmap` says, and the model cannot evaluate.
    package var validateOnly = false
    /// Called with the progress in 0...1; return false to cancel (BITNET_E_CANCELLED).
    public var progress: (@Sendable (Double) -> Bool)?
    /// How the LM head is held for computing logits. Q8_0 where possible by default: it
    /// streams 0.35 instead of 0.66 GB per token for 2B4T (+30% generation
    /// speed) at a perplexity change of −0.003% on the trained model
    /// (BENCHMARKS.md); `.asStored` keeps the paper's full-precision head.
    public var lmHead: LMHeadStorage = .automatic
    /// Hold the weights decode streams (repacked ternary matrices, the LM
    /// head) on transparent huge pages: faster decode, but first-touching huge
    /// pages is slow on some VMs (see `HugePageArena`). false: 4 KB pages and
    /// a stored F16/F32/Q8_0 head read in place from the file mapping.
    public var useHugePages = true

    /// Options with the given settings and defaults for the rest.
    public init(useMmap: Bool = true, useMlock: Bool = false, vocabOnly: Bool = false,
                progress: (@Sendable (Double) -> Bool)? = nil) {
        self.useMmap = useMmap
        self.useMlock = useMlock
        self.vocabOnly = vocabOnly
        self.progress = progress
    }
}

/// The seven linear projections of a transformer block.
package enum Projection: String, Sendable, CaseIterable {
    case q = "attn_q", k = "attn_k", v = "attn_v", output = "attn_output"
    case gate = "ffn_gate", up = "ffn_up", down = "ffn_down"
}

/// Storage of the LM head used for logits (`bitnet_model_params.lm_head_type`).
public enum LMHeadStorage: Sendable {
    /// The file's values and type (the paper's full-precision head).
    case asStored
    /// Requantized at load to Q8_0 (8-bit values, an f16 scale per 32);
    /// loading fails when the head holds values Q8_0 cannot encode.
    case q8_0
    /// Q8_0 when every value can be encoded, else as stored (with a warning).
    case automatic
}

/// One transformer block's weights (views into the model file).
package struct Layer: Sendable {
    package let attnNorm: TensorView
    package let attnQ: TensorView
    package let attnK: TensorView
    package let attnV: TensorView
    package let attnOutput: TensorView
    /// `TensorView.empty` when the architecture has no sub-norms (llama, qwen3).
    package let attnSubNorm: TensorView
    package let ffnNorm: TensorView
    package let ffnGate: TensorView
    package let ffnUp: TensorView
    package let ffnDown: TensorView
    /// `TensorView.empty` when the architecture has no sub-norms (llama, qwen3).
    package let ffnSubNorm: TensorView
    /// Qwen3's per-head RMSNorm weights of queries and keys (head_dim each); nil elsewhere.
    package let attnQNorm: TensorView?
    package let attnKNorm: TensorView?
    /// Optional per-projection scalar scales (`blk.N.attn_q.scale`, ...).
    package let scales: [Projection: TensorView]

    package func weight(_ projection: Projection) -> TensorView {
        switch projection {
        case .q: attnQ
        case .k: attnK
        case .v: attnV
        case .output: attnOutput
        case .gate: ffnGate
        case .up: ffnUp
        case .down: ffnDown
        }
    }

    package func scale(_ projection: Projection) -> TensorView? { scales[projection] }
}

/// A loaded model: hyperparameters, metadata and views of every weight.
///
/// Immutable after load and safe to share between threads. The weights are
/// not copied: views point into the file mapping this object keeps alive.
/// A vocab-only model has metadata only — `layers` is empty and the
/// embedding/norm views are `TensorView.empty`.
public final class Model: Sendable {
    package let file: GGUFFile
    package let hparams: HyperParameters
    /// Loaded with `vocabOnly`: tokenizer and metadata only, cannot evaluate.
    public let isVocabOnly: Bool
    /// Loaded with `validateOnly`: every view is checked, no weights are prepared.
    package let isValidateOnly: Bool
    package let tokenEmbedding: TensorView
    package let outputNorm: TensorView
    /// The separate LM head; nil when it is tied to `tokenEmbedding`.
    package let output: TensorView?
    package let layers: [Layer]
    /// The weights prepared for computing (repacked ternary matrices); nil for vocab-only and validate-only models.
    package let weights: ModelWeights?
    /// The text <-> token converter; nil only when the file has no `tokenizer.*` metadata.
    public let tokenizer: Tokenizer?

    package var metadata: [String: GGUFValue] { file.metadata }
    /// Size of the model file in bytes.
    public var fileSize: Int { file.fileSize }
    /// The matrix the logits come from: `output`, or the tied embedding.
    package var lmHead: TensorView { output ?? tokenEmbedding }
    /// Total elements of all tensors in the file.
    public var parameterCount: Int { file.tensors.reduce(0) { $0 + $1.elementCount } }
    /// Storage type of the linear (BitLinear) weights, nil for vocab-only models.
    package var weightType: GGMLType? { layers.first?.attnQ.type }

    /// The prepared weights, or the error a vocab-only or validate-only model gives when asked to evaluate.
    func evaluableWeights() throws(BitNetError) -> ModelWeights {
        guard let weights else {
            throw .invalidArgument("the model was loaded with \(isVocabOnly ? "vocab_only" : "validate_only") and cannot evaluate")
        }
        return weights
    }

    /// Loads and validates the model at `path`.
    package static func load(path: String, options: ModelLoadOptions = ModelLoadOptions()) throws(BitNetError) -> Model {
        let progress = options.progress
        // Reading without mmap is the slow part: it gets 0...0.9 of the progress range.
        let readProgress: ((Double) -> Bool)? = progress.map { report in { report($0 * 0.9) } }
        if let progress, !progress(0) { throw BitNetError(.cancelled, "loading '\(path)' cancelled by the progress callback") }
        let file = try GGUFFile(path: path, useMmap: options.useMmap || options.validateOnly,
                                lock: options.useMlock && !options.validateOnly,
                                metadataOnly: options.vocabOnly, progress: readProgress)
        let repackProgress: ((Double) -> Bool)? = progress.map { report in { report(0.9 + $0 * 0.1) } }
        let model = try Model(file: file, vocabOnly: options.vocabOnly, validateOnly: options.validateOnly,
                              lmHead: options.lmHead, hugePages: options.useHugePages, progress: repackProgress)
        if let progress, !progress(1) { throw BitNetError(.cancelled, "loading '\(path)' cancelled by the progress callback") }
        Log.info("loaded \(path): \(model.hparams.architectureName), \(model.layers.count) layers, \(file.tensors.count) tensors, \(file.fileSize) bytes")
        return model
    }

    /// Builds a model from an already parsed file (also used for in-memory files).
    /// `progress` (0...1, false cancels) covers repacking the weights;
    /// `validateOnly` stops after every structural check (see `ModelLoadOptions`).
    package init(file: GGUFFile, vocabOnly: Bool = false, validateOnly: Bool = false, lmHead: LMHeadStorage = .automatic,
                hugePages: Bool = true, progress: ((Double) -> Bool)? = nil) throws(BitNetError) {
        self.file = file
        self.isVocabOnly = vocabOnly
        self.isValidateOnly = validateOnly && !vocabOnly
        let hparams = try HyperParameters(file: file, vocabOnly: vocabOnly)
        self.hparams = hparams
        let tokenizer = try Tokenizer(gguf: file)
        // Embeddings may have padding rows, but every token needs one.
        if !vocabOnly, let tokenizer, tokenizer.vocabularySize > hparams.nVocab {
            throw .format("tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(hparams.nVocab) embedding rows")
        }
        self.tokenizer = tokenizer
        if vocabOnly {
            tokenEmbedding = .empty
            outputNorm = .empty
            output = nil
            layers = []
            weights = nil
            return
        }
        let loader = WeightLoader(file: file, hparams: hparams)
        let h = hparams
        tokenEmbedding = try loader.tensor("token_embd.weight", shape: [h.nEmbd, h.nVocab], allowed: WeightLoader.embeddingTypes)
        outputNorm = try loader.tensor("output_norm.weight", shape: [h.nEmbd], allowed: WeightLoader.normTypes)
        output = h.tiedOutput ? nil
            : try loader.tensor("output.weight", shape: [h.nEmbd, h.nVocab], allowed: WeightLoader.embeddingTypes)
        var layers = [Layer]()
        // block_count is the file's word: a huge one must fail at the first
        // missing layer tensor, not reserve memory for layers that cannot exist
        // (fuzz finding 6: block_count ~2^32 aborted on a 154 GB reservation).
        layers.reserveCapacity(min(h.nLayer, file.tensors.count))
        for index in 0..<h.nLayer {
            layers.append(try loader.layer(index))
        }
        self.layers = layers
        try loader.rejectStrayBlocks()
        if isValidateOnly {
            weights = nil
            return
        }
        weights = try ModelWeights(layers: layers, outputNorm: outputNorm, tokenEmbedding: tokenEmbedding,
                                   output: output, lmHead: lmHead, hugePages: hugePages,
                                   requireTernary: hparams.architecture?.requiresTernaryFloatWeights ?? false,
                                   releaseMappedSources: file.isMemoryMapped,
                                   progress: progress)
    }
}

/// Finds, type-checks and shape-checks the tensors of a model.
struct WeightLoader {
    let file: GGUFFile
    let hparams: HyperParameters

    static let linearTypes: Set<GGMLType> = [.i2_s, .tq1_0, .tq2_0, .q2_0, .f32, .f16, .bf16]
    /// Embedding / LM head types real files use (bitnet.cpp's `--quant-embd`
    /// writes Q6_K); all but F32/F16/Q8_0 are expanded to F32 at load.
    static let embeddingTypes: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_K, .q5_K, .q6_K]
    static let normTypes: Set<GGMLType> = [.f32]

    /// The tensor `name`, which must exist, have one of the `allowed` types
    /// and exactly `shape` (trailing dimensions of 1 are ignored).
    func tensor(_ name: String, shape: [Int], allowed: Set<GGMLType>) throws(BitNetError) -> TensorView {
        guard let info = file.tensor(named: name) else { throw .format("missing tensor \(name)") }
        guard allowed.contains(info.type) else {
            let names = allowed.map(\.name).sorted().joined(separator: ", ")
            throw .unsupported("tensor \(name): type \(info.type.name) is not supported here (allowed: \(names))")
        }
        guard WeightLoader.trimmed(info.dims) == WeightLoader.trimmed(shape) else {
            throw .format("tensor \(name): shape \(info.dims) does not match the expected \(shape) from the hyperparameters")
        }
        return TensorView(name: name, type: info.type, shape: info.dims, data: file.data(of: info))
    }

    func layer(_ index: Int) throws(BitNetError) -> Layer {
        let h = hparams
        let p = "blk.\(index)."
        let qOut = h.qDim
        let arch = h.architecture ?? .bitnet
        func linear(_ projection: Projection, inputs: Int, outputs: Int) throws(BitNetError) -> TensorView {
            try tensor(p + projection.rawValue + ".weight", shape: [inputs, outputs], allowed: WeightLoader.linearTypes)
        }
        func norm(_ name: String, _ length: Int) throws(BitNetError) -> TensorView {
            try tensor(p + name + ".weight", shape: [length], allowed: WeightLoader.normTypes)
        }
        var scales = [Projection: TensorView]()
        for projection in Projection.allCases {
            let name = p + projection.rawValue + ".scale"
            guard let info = file.tensor(named: name) else { continue }
            guard info.type == .f32, info.elementCount == 1 else {
                throw .format("tensor \(name): a projection scale must be one F32 value, got \(info.type.name) of shape \(info.dims)")
            }
            scales[projection] = TensorView(name: name, type: info.type, shape: info.dims, data: file.data(of: info))
        }
        // A tensor the architecture does not use would be silently ignored,
        // which means wrong numbers: refuse it, naming the arch.
        func absent(_ name: String, _ why: String) throws(BitNetError) {
            guard file.tensor(named: p + name + ".weight") == nil else {
                throw .format("tensor \(p)\(name).weight is not part of arch \(h.architectureName) (\(why)); is general.architecture right?")
            }
        }
        let subNorms = arch.hasSubNorms
        if !subNorms {
            try absent("attn_sub_norm", "it has no sub-norms")
            try absent("ffn_sub_norm", "it has no sub-norms")
        }
        if arch.hasQKNorm {
            for name in ["attn_q_norm", "attn_k_norm"] where file.tensor(named: p + name + ".weight") == nil {
                throw .format("missing tensor \(p)\(name).weight: arch \(h.architectureName) RMS-normalizes every query and key head (QK-norm)")
            }
        } else {
            try absent("attn_q_norm", "it has no QK-norm")
            try absent("attn_k_norm", "it has no QK-norm")
        }
        return Layer(
            attnNorm: try norm("attn_norm", h.nEmbd),
            attnQ: try linear(.q, inputs: h.nEmbd, outputs: qOut),
            attnK: try linear(.k, inputs: h.nEmbd, outputs: h.kvDim),
            attnV: try linear(.v, inputs: h.nEmbd, outputs: h.kvDim),
            attnOutput: try linear(.output, inputs: qOut, outputs: h.nEmbd),
            attnSubNorm: subNorms ? try norm("attn_sub_norm", qOut) : .empty,
            ffnNorm: try norm("ffn_norm", h.nEmbd),
            ffnGate: try linear(.gate, inputs: h.nEmbd, outputs: h.nFF),
            ffnUp: try linear(.up, inputs: h.nEmbd, outputs: h.nFF),
            ffnDown: try linear(.down, inputs: h.nFF, outputs: h.nEmbd),
            ffnSubNorm: subNorms ? try norm("ffn_sub_norm", h.nFF) : .empty,
            attnQNorm: arch.hasQKNorm ? try norm("attn_q_norm", h.headDim) : nil,
            attnKNorm: arch.hasQKNorm ? try norm("attn_k_norm", h.headDim) : nil,
            scales: scales)
    }

    /// A `blk.N.` tensor with N >= block_count means the metadata and the
    /// tensors disagree about the depth of the model. A block tensor this
    /// engine does not compute with (a bias, a rotary frequency table) would
    /// be silently ignored and give wrong numbers, so it is refused by name.
    func rejectStrayBlocks() throws(BitNetError) {
        for info in file.tensors where info.name.hasPrefix("blk.") {
            let digits = info.name.dropFirst(4).prefix { $0.isASCII && $0.isNumber }
            if let n = Int(digits), n >= hparams.nLayer {
                throw .format("tensor \(info.name) belongs to layer \(n), but \(hparams.architectureName).block_count is \(hparams.nLayer)")
            }
            let part = info.name.dropFirst(4 + digits.count + 1)
            guard !Self.blockParts.contains(String(part)) else { continue }
            throw .unsupported("tensor \(info.name) is not used by arch \(hparams.architectureName) in this engine (known per-layer tensors: norms, the seven projections and their .scale)")
        }
        // llama.cpp's converter writes the Llama 3.1 rope scaling as a frequency
        // table; "linear" with factor 1 (1bitLLM's configs) changes nothing.
        if file.tensor(named: "rope_freqs.weight") != nil {
            throw .unsupported("RoPE scaling (tensor rope_freqs.weight) is not supported")
        }
        let reader = MetadataReader(metadata: file.metadata)
        let key = hparams.architectureName + ".rope.scaling."
        if let type = try reader.string(key + "type"), type != "none" {
            let factor = try reader.double(key + "factor") ?? 1
            guard type == "linear" && factor == 1 else {
                throw .unsupported("RoPE scaling \(type) with factor \(factor) (key \(key)type) is not supported")
            }
        }
    }

    /// Every per-layer tensor name (after `blk.N.`) some architecture uses.
    static let blockParts: Set<String> = {
        var parts: Set<String> = ["attn_norm.weight", "attn_sub_norm.weight", "ffn_norm.weight", "ffn_sub_norm.weight",
                                  "attn_q_norm.weight", "attn_k_norm.weight"]
        for projection in Projection.allCases {
            parts.insert(projection.rawValue + ".weight")
            parts.insert(projection.rawValue + ".scale")
        }
        return parts
    }()

    /// The shape without trailing 1s, so [256] and [256, 1] compare equal.
    static func trimmed(_ dims: [Int]) -> ArraySlice<Int> {
        var slice = dims[...]
        while slice.count > 1, slice.last == 1 { slice = slice.dropLast() }
        return slice
    }
}
