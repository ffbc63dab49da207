/// The raw tokenizer description stored in a GGUF file's `tokenizer.ggml.*`
/// metadata, before any tables are built. Plain values, so tests can build
/// tiny vocabularies by hand and the GGUF layer only has to copy fields.
package struct TokenizerData: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece).
    package var model: String
    /// `tokenizer.ggml.pre` (BPE only); nil when the key is absent.
    package var pre: String?
    /// `general.architecture`, used to pick a pre-tokenizer when `pre` is absent.
    package var architecture: String?
    /// `tokenizer.ggml.tokens`: token texts, index = id.
    package var tokens: [String]
    /// `tokenizer.ggml.token_type` (empty: all normal).
    package var tokenTypes: [Int32]
    /// `tokenizer.ggml.scores` (SentencePiece; empty: all zero).
    package var scores: [Float]
    /// `tokenizer.ggml.merges`: "left right" in rank order (BPE).
    package var merges: [String]
    package var bosID: Int?
    package var eosID: Int?
    package var eotID: Int?
    package var padID: Int?
    package var unknownID: Int?
    /// `tokenizer.ggml.add_bos_token`; nil: the model type's default.
    package var addBOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece); nil: true.
    package var addSpacePrefix: Bool?
    /// `tokenizer.chat_template` (a Jinja text we only recognise, never run).
    package var chatTemplate: String?

    package init(model: String, pre: String? = nil, architecture: String? = nil, tokens: [String],
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
package enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}
