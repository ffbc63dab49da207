/// The raw tokenizer description stored in a GGUF file's `tokenizer.ggml.*`
/// metadata, before any tables are built. Plain values, so tests can build
/// tiny vocabularies by hand and the GGUF layer only has to copy fields.
public struct TokenizerData: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre` (BPE only); nil when the key is absent.
    public var pre: String?
    /// `general.architecture`, used to pick a pre-tokenizer when `pre` is absent.
    public var architecture: String?
    /// `tokenizer.ggml.tokens`: token texts, index = id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type` (empty: all normal).
    public var tokenTypes: [Int32]
    /// `tokenizer.ggml.scores` (SentencePiece; empty: all zero).
    public var scores: [Float]
    /// `tokenizer.ggml.merges`: "left right" in rank order (BPE).
    public var merges: [String]
    public var bosID: Int?
    public var eosID: Int?
    public var eotID: Int?
    public var padID: Int?
    public var unknownID: Int?
    /// `tokenizer.ggml.add_bos_token`; nil: the model type's default.
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece); nil: true.
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template` (a Jinja text we only recognise, never run).
    public var chatTemplate: String?

    public init(model: String, pre: String? = nil, architecture: String? = nil, tokens: [String],
                tokenTypes: [Int32] = [], scores: [Float] = [], merges: [String] = [],
                bosID: Int? = nil, eosID: Int? = nil, eotID: Int? = nil, padID: Int? = nil,
                unknownID: Int? = nil, addBOS: Bool? = nil, addSpacePrefix: Bool? = nil,
                chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.architecture = architecture
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.padID = padID
        self.unknownID = unknownID
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }
}

/// `tokenizer.ggml.token_type` values (llama.cpp's numbering).
public enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}
