/// A model's tokenizer: text <-> token ids, built once from `TokenizerData`
/// and immutable afterwards (safe to share between threads).
///
/// Text enters as `String` (always valid UTF-8 in Swift) or as bytes that
/// are validated first (`encode(utf8:)` throws `.invalidArgument`; the C API
/// passes that on as BITNET_E_INVALID_ARGUMENT).
///
/// Round trip: `decode(encode(x)) == x` byte for byte for every string with
/// both model kinds (SentencePiece prepends one space when encoding and
/// `decode` drops it again). Not a round trip: text tokenized with
/// `parseSpecial` (control tokens decode to nothing unless `renderSpecial`,
/// and SentencePiece prepends a space to the text after each special token,
/// as llama.cpp does).
public final class Tokenizer: Sendable {
    package enum Kind: Sendable {
        /// Byte-level BPE (`gpt2`), with its pre-tokenizer.
        case bytePair(PreTokenizerKind)
        /// SentencePiece BPE (`llama`).
        case sentencePiece
    }

    package let kind: Kind
    /// Number of tokens the tokenizer knows (ids `0..<vocabularySize`).
    public let vocabularySize: Int
    /// Beginning-of-text token, if the vocabulary has one.
    public let bos: Int32?
    /// End-of-text token: generation stops at it unless `ignoreEOS`.
    public let eos: Int32?
    /// End-of-turn token (chat models), which also stops generation.
    public let eot: Int32?
    /// Padding token, if any.
    public let pad: Int32?
    /// Whether the model expects a BOS at the start of a prompt.
    public let addsBOS: Bool
    /// SentencePiece: a space is prepended to text (and one dropped on decode).
    package let addsSpacePrefix: Bool
    /// The chat template recognised in the file's metadata, if any.
    public let chatTemplate: ChatTemplate?

    private let types: [TokenType]
    /// The bytes every token stands for.
    let pieces: PieceTable
    /// Special tokens matched in the text before tokenizing: control (and
    /// unknown) tokens only with `parseSpecial`, user-defined ones always.
    /// Longest first, as llama.cpp partitions.
    let specials: [(text: [UInt8], id: Int32, always: Bool)]
    let bytePair: BytePairEncoder?
    let preTokenizer: PreTokenizer?
    let sentencePiece: SentencePieceEncoder?

    package init(_ data: TokenizerData) throws(BitNetError) {
        let n = data.tokens.count
        guard n > 0, n <= Int(Int32.max) else { throw .format("tokenizer: vocabulary has \(n) tokens") }
        guard data.tokenTypes.isEmpty || data.tokenTypes.count == n else {
            throw .format("tokenizer.ggml.token_type has \(data.tokenTypes.count) entries for \(n) tokens")
        }
        guard data.scores.isEmpty || data.scores.count == n else {
            throw .format("tokenizer.ggml.scores has \(data.scores.count) entries for \(n) tokens")
        }
        func checkedID(_ id: Int?, _ key: String) -> Int32? {
            guard let id else { return nil }
            // Some converters write -1 (or an id past the end) for "none";
            // like llama.cpp, treat a bad id as absent rather than refuse the model.
            guard id >= 0, id < n else {
                if id >= 0 { Log.warn("tokenizer.ggml.\(key) = \(id) is outside the vocabulary of \(n) tokens; ignored") }
                return nil
            }
            return Int32(id)
        }
        vocabularySize = n
        types = data.tokenTypes.isEmpty
            ? [TokenType](repeating: .normal, count: n)
            : data.tokenTypes.map { TokenType(rawValue: $0) ?? .normal }

        // Token id for each text, used to resolve merges, specials and words.
        var table = ByteStringTable(expectedCount: n)
        for (id, text) in data.tokens.enumerated() {
            Self.withUTF8(text) { table.insert($0, value: Int32(id)) }
        }

        switch data.model {
        case "gpt2":
            let preKind = try Self.preTokenizerKind(data)
            let built = try Self.buildBytePair(data, types: types, table: table, ignoreMerges: preKind == .llama3)
            kind = .bytePair(preKind)
            pieces = built.pieces
            bytePair = built.encoder
            preTokenizer = PreTokenizer(kind: preKind)
            sentencePiece = nil
            addsBOS = data.addBOS ?? (preKind == .llama3)
            addsSpacePrefix = false
            bos = checkedID(data.bosID, "bos_token_id")
            eos = checkedID(data.eosID, "eos_token_id")

        case "llama":
            let built = Self.buildSentencePiece(data, types: types, table: table,
                                                unknown: checkedID(data.unknownID ?? 0, "unknown_token_id"))
            kind = .sentencePiece
            pieces = built.pieces
            sentencePiece = built.encoder
            bytePair = nil
            preTokenizer = nil
            addsBOS = data.addBOS ?? true
            addsSpacePrefix = data.addSpacePrefix ?? true
            bos = checkedID(data.bosID ?? 1, "bos_token_id")
            eos = checkedID(data.eosID ?? 2, "eos_token_id")

        default:
            throw .unsupported("tokenizer.ggml.model = \"\(data.model)\" is not supported (known: gpt2, llama)")
        }
        pad = checkedID(data.padID, "padding_token_id")
        if let eot = checkedID(data.eotID, "eot_token_id") {
            self.eot = eot
        } else {
            // No key: find the end-of-turn token by its text, as llama.cpp does.
            var found: Int32? = nil
            for text in ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"] {
                if let id = table.lookup(Array(text.utf8)) { found = id; break }
            }
            eot = found
        }

        var specials: [(text: [UInt8], id: Int32, always: Bool)] = []
        for (id, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let text = Array(data.tokens[id].utf8)
            if !text.isEmpty { specials.append((text, Int32(id), type == .userDefined)) }
        }
        specials.sort { $0.text.count > $1.text.count || ($0.text.count == $1.text.count && $0.id < $1.id) }
        self.specials = specials

        var template: ChatTemplate? = nil
        if let jinja = data.chatTemplate { template = ChatTemplate(detecting: jinja) }
        if template == nil, let arch = data.architecture, arch == "bitnet-b1.58" || arch == "bitnet-25" {
            template = .bitnet
        }
        if template == nil, table.lookup(Array("<|start_header_id|>".utf8)) != nil {
            template = .llama3  // a Llama 3 vocabulary without a template
        }
        chatTemplate = template
    }

    // MARK: - Token facts

    package func tokenType(_ id: Int32) -> TokenType? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        return types[Int(id)]
    }

    /// The bytes a token stands for (for control tokens: their text), or nil
    /// for an id outside the vocabulary. May be partial UTF-8.
    public func piece(_ id: Int32) -> [UInt8]? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        return Array(pieces[Int(id)])
    }

    /// Appends what `id` contributes to decoded text: nothing for control
    /// tokens unless `renderSpecial`, nothing for ids outside the vocabulary.
    @inline(__always)
    func appendPiece(_ id: Int32, to output: inout [UInt8], renderSpecial: Bool) {
        guard id >= 0, Int(id) < vocabularySize else { return }
        if !renderSpecial && types[Int(id)] == .control { return }
        output.append(contentsOf: pieces[Int(id)])
    }

    // MARK: - Decoding

    /// Decodes a whole token sequence to bytes (may be invalid UTF-8 if the
    /// sequence ends inside a character). SentencePiece drops the one space
    /// that encoding prepended.
    public func decode(_ ids: [Int32], renderSpecial: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        for id in ids { appendPiece(id, to: &output, renderSpecial: renderSpecial) }
        if addsSpacePrefix, output.first == 0x20 {
            output.removeFirst()
        }
        return output
    }

    /// `decode` as text, invalid sequences replaced by U+FFFD.
    public func decodeText(_ ids: [Int32], renderSpecial: Bool = false) -> String {
        String(decoding: decode(ids, renderSpecial: renderSpecial), as: UTF8.self)
    }
}
