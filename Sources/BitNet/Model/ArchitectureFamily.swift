/// Ternary weight formats of the Qwen3 family (Ternary-Bonsai): mainline
/// llama.cpp runs them as TQ1_0 / TQ2_0 repacks, and mainline ggml defines
/// Q2_0 as type 42 (64 values + one f16 d per block, codes for {−1, 0, 1, 2}·d);
/// all three load here, Q2_0 when its codes stay in {−1, 0, 1} and its d agree
/// per row or per 256 columns. Out of scope: PrismML's own group-of-128 Q2_0
/// (published notes say its fork reuses id 42 with 34-byte blocks, others
/// mention ids 142/143) — neither layout is in mainline ggml's type table, and
/// a fork file under id 42 fails the tensor-size checks for the mainline layout.
///
/// What each supported `general.architecture` means for the forward pass:
/// which norms a block has, how RoPE pairs dimensions, and whether float
/// weights must already be ternary. Facts from the converters that write these
/// files (llama.cpp's `convert_hf_to_gguf.py`, bitnet.cpp's converter) and
/// from llama.cpp's graph builders for each arch.
extension HyperParameters.Architecture {
    /// How RoPE pairs the dimensions of a head.
    package enum RoPEStyle: String, Sendable {
        /// Dimension i with i + headDim/2 ("rotate half": BitNet, Qwen; llama.cpp's NEOX type).
        case neox
        /// Dimension 2i with 2i + 1 (llama.cpp's NORM type). The `llama`
        /// converters permute the rows of Q and K so that this rotation of the
        /// file's rows equals the checkpoint's rotate-half one.
        case interleaved
    }

    /// BitNet b1.58 blocks normalize the attention output and the gated FFN
    /// value again before their BitLinear (`attn_sub_norm`, `ffn_sub_norm`).
    package var hasSubNorms: Bool {
        switch self {
        case .bitnetB158, .bitnet25, .bitnet: true
        case .llama, .qwen3: false
        }
    }

    /// Qwen3 RMS-normalizes each query and key head (`attn_q_norm`, `attn_k_norm`) before RoPE.
    package var hasQKNorm: Bool { self == .qwen3 }

    package var ropeStyle: RoPEStyle { self == .llama ? .interleaved : .neox }

    /// Columns sharing one int8 activation scale; nil = one per token.
    /// BitNet and ternary llama checkpoints were trained with per-token absmax
    /// activations (the paper's BitLinear). Qwen3 ternary models were trained
    /// with float activations; mainline llama.cpp runs their TQ1_0 / TQ2_0
    /// weights against activations quantized per 256 values (Q8_K), which is
    /// closer to float, so that is what we compute for them.
    package var activationGroupColumns: Int? { self == .qwen3 ? 256 : nil }

    /// `llama` and `qwen3` files are ternary models only when their weights
    /// say so: float weights must hold {−s, 0, +s} exactly (TQ/I2_S are ternary
    /// by construction). The BitNet arches are ternary by definition, so float
    /// weights there are ternarized with the paper's absmean rule instead.
    package var requiresTernaryFloatWeights: Bool { !hasSubNorms }

    /// The activation of the gated FFN when the file does not name one.
    var defaultActivation: HyperParameters.Activation {
        switch self {
        case .bitnetB158, .bitnet25: .relu2
        case .bitnet, .llama, .qwen3: .silu
        }
    }

    /// RoPE base when `{arch}.rope.freq_base` is absent (the converters' defaults).
    var defaultRopeTheta: Double {
        switch self {
        case .bitnetB158, .bitnet25: 500_000
        case .bitnet, .llama: 10_000
        case .qwen3: 1_000_000
        }
    }

    /// One line for `bitnet inspect`: the family and the conventions used.
    package var familyDescription: String {
        switch self {
        case .bitnetB158, .bitnet25:
            "BitNet b1.58 (bitnet.cpp's 2B4T layout): relu² gated FFN, sub-norms, rotate-half RoPE"
        case .bitnet:
            "BitNet b1.58 (llama.cpp's bitnet converter: 1bitLLM 700M/3B): sub-norms, rotate-half RoPE"
        case .llama:
            "Llama with ternary weights (Llama3-8B-1.58, Falcon3-1.58bit, Falcon-E): SiLU gated FFN, no sub-norms, interleaved-pair RoPE"
        case .qwen3:
            "Qwen3 with ternary weights (Ternary-Bonsai as TQ1_0/TQ2_0): QK-norm, SwiGLU, rotate-half RoPE"
        }
    }
}
