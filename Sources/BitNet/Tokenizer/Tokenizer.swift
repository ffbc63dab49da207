#if canImport(Glibc)
import Glibc
#endif

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
    public enum Kind: Sendable {
        /// Byte-level BPE (`gpt2`), with its pre-tokenizer.
        case bytePair(PreTokenizerKind)
        /// SentencePiece BPE (`llama`).
        case sentencePiece
    }

    public let kind: Kind
    public let vocabularySize: Int
    public let bos: Int32?
    public let eos: Int32?
    public let eot: Int32?
    public let pad: Int32?
    /// Whether the model expects a BOS at the start of a prompt.
    public let addsBOS: Bool
    /// SentencePiece: a space is prepended to text (and one dropped on decode).
    public let addsSpacePrefix: Bool
    /// The chat template recognised in the file's metadata, if any.
    public let chatTemplate: ChatTemplate?

    private let types: [TokenType]
    /// Decoded bytes of every token, concatenated; token i is
    /// `pieceBytes[pieceStart[i] ..< pieceStart[i + 1]]`.
    private let pieceBytes: [UInt8]
    private let pieceStart: [Int]
    /// Special tokens matched in the text before tokenizing: control (and
    /// unknown) tokens only with `parseSpecial`, user-defined ones always.
    /// Longest first, as llama.cpp partitions.
    private let specials: [(text: [UInt8], id: Int32, always: Bool)]
    private let bytePair: BytePairEncoder?
    private let preTokenizer: PreTokenizer?
    private let sentencePiece: SentencePieceEncoder?

    public init(_ data: TokenizerData) throws(BitNetError) {
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

        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(n + 1)
        switch data.model {
        case "gpt2":
            let preKind: PreTokenizerKind
            if let pre = data.pre {
                guard let known = PreTokenizerKind(preName: pre) else {
                    throw .unsupported("tokenizer.ggml.pre = \"\(pre)\" is not supported (known: llama-bpe, gpt-2, default)")
                }
                preKind = known
            } else if let arch = data.architecture, arch == "bitnet-b1.58" || arch == "bitnet-25" {
                preKind = .llama3  // the 2B4T file has no pre key; it uses the Llama 3 tokenizer
            } else {
                preKind = .standard
            }
            kind = .bytePair(preKind)
            // Pieces: byte-level spellings decoded back to raw bytes; texts that
            // are not byte-level spellings (added tokens) stay as they are.
            var wordTable = ByteStringTable(expectedCount: n)
            var decoded: [UInt8] = []
            for (id, text) in data.tokens.enumerated() {
                let type = types[id]
                Self.withUTF8(text) { utf8 in
                    let isSpelling = (type == .normal || type == .unused || type == .undefined)
                        && ByteLevelMapping.decode(utf8, into: &decoded)
                    if !isSpelling {
                        decoded.removeAll(keepingCapacity: true)
                        decoded.append(contentsOf: utf8)
                    }
                }
                bytes.append(contentsOf: decoded)
                starts.append(bytes.count)
                if type == .normal || type == .undefined { wordTable.insert(decoded, value: Int32(id)) }
            }
            var byteTokens = [Int32](repeating: -1, count: 256)
            for b in 0..<256 {
                let spelling = ByteLevelMapping.encode([UInt8(b)])
                byteTokens[b] = table.lookup(Array(spelling.utf8)) ?? -1
            }
            var merges = MergeTable(expectedCount: data.merges.count)
            var joined: [UInt8] = []
            for (rank, merge) in data.merges.enumerated() {
                enum Outcome { case merge(Int32, Int32, Int32), notAPair, unknownToken, notAToken }
                let outcome = Self.withUTF8(merge) { utf8 -> Outcome in
                    // Split at the first space after the first byte: a left part
                    // may itself be a lone space in some vocabularies.
                    guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20) else { return .notAPair }
                    let leftText = UnsafeBufferPointer(rebasing: utf8[..<space])
                    let rightText = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
                    guard let left = table.lookup(leftText), let right = table.lookup(rightText) else { return .unknownToken }
                    joined.removeAll(keepingCapacity: true)
                    joined.append(contentsOf: leftText)
                    joined.append(contentsOf: rightText)
                    guard let merged = table.lookup(joined) else { return .notAToken }
                    return .merge(left, right, merged)
                }
                switch outcome {
                case .merge(let left, let right, let merged):
                    // Plain text must never turn into a control token, whatever the merges say.
                    let type = types[Int(merged)]
                    if type == .control || type == .unknown { continue }
                    merges.insert(left: left, right: right, rank: Int32(rank), merged: merged)
                case .notAPair:
                    throw .format("tokenizer.ggml.merges[\(rank)] = \"\(merge)\" is not \"left right\"")
                case .unknownToken:
                    throw .format("tokenizer.ggml.merges[\(rank)] = \"\(merge)\" names a token that is not in the vocabulary")
                case .notAToken:
                    continue  // a merge whose result is not a token can never be emitted
                }
            }
            bytePair = BytePairEncoder(merges: merges, byteTokens: byteTokens,
                                       ignoreMerges: preKind == .llama3, wordTable: wordTable)
            preTokenizer = PreTokenizer(kind: preKind)
            sentencePiece = nil
            addsBOS = data.addBOS ?? (preKind == .llama3)
            addsSpacePrefix = false
            bos = checkedID(data.bosID, "bos_token_id")
            eos = checkedID(data.eosID, "eos_token_id")

        case "llama":
            kind = .sentencePiece
            var byteTokens = [Int32](repeating: -1, count: 256)
            for (id, text) in data.tokens.enumerated() {
                var piece = Array(text.utf8)
                switch types[id] {
                case .byte:
                    if let b = Self.parseByteToken(piece) {
                        piece = [b]
                        if byteTokens[Int(b)] < 0 { byteTokens[Int(b)] = Int32(id) }
                    }
                case .normal, .undefined, .unused, .userDefined:
                    piece = Self.replacingSentencePieceSpaces(piece)
                default:
                    break
                }
                bytes.append(contentsOf: piece)
                starts.append(bytes.count)
            }
            let unknown = checkedID(data.unknownID ?? 0, "unknown_token_id")
            // Only text tokens may result from merging characters: never control/unknown ones.
            let mergeable = types.map { $0 != .control && $0 != .unknown }
            sentencePiece = SentencePieceEncoder(table: table, tokens: data.tokens.map { Array($0.utf8) },
                                                 scores: data.scores, mergeable: mergeable,
                                                 byteTokens: byteTokens, unknown: unknown)
            bytePair = nil
            preTokenizer = nil
            addsBOS = data.addBOS ?? true
            addsSpacePrefix = data.addSpacePrefix ?? true
            bos = checkedID(data.bosID ?? 1, "bos_token_id")
            eos = checkedID(data.eosID ?? 2, "eos_token_id")

        default:
            throw .unsupported("tokenizer.ggml.model = \"\(data.model)\" is not supported (known: gpt2, llama)")
        }
        pieceBytes = bytes
        pieceStart = starts
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

    /// Runs `body` on the UTF-8 bytes of `text` without copying native strings.
    private static func withUTF8<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// `<0x41>` -> 0x41.
    private static func parseByteToken(_ text: [UInt8]) -> UInt8? {
        guard text.count == 6, text[0] == 0x3C, text[1] == 0x30, text[2] == 0x78, text[5] == 0x3E else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let hi = hex(text[3]), let lo = hex(text[4]) else { return nil }
        return hi << 4 | lo
    }

    /// U+2581 '▁' (E2 96 81) -> ' '.
    private static func replacingSentencePieceSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i + 2 < text.count && text[i] == 0xE2 && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// The BPE encoder, for tests comparing it with a reference merge loop.
    var bytePairEncoderForTesting: BytePairEncoder? { bytePair }
    /// The SentencePiece encoder, for tests comparing word-split and whole-text merging.
    var sentencePieceEncoderForTesting: SentencePieceEncoder? { sentencePiece }

    // MARK: - Token facts

    public func tokenType(_ id: Int32) -> TokenType? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        return types[Int(id)]
    }

    /// The bytes a token stands for (for control tokens: their text), or nil
    /// for an id outside the vocabulary. May be partial UTF-8.
    public func piece(_ id: Int32) -> [UInt8]? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        return Array(pieceBytes[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]])
    }

    /// Appends what `id` contributes to decoded text: nothing for control
    /// tokens unless `renderSpecial`, nothing for ids outside the vocabulary.
    @inline(__always)
    func appendPiece(_ id: Int32, to output: inout [UInt8], renderSpecial: Bool) {
        guard id >= 0, Int(id) < vocabularySize else { return }
        if !renderSpecial && types[Int(id)] == .control { return }
        output.append(contentsOf: pieceBytes[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]])
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

    // MARK: - Encoding

    /// Tokenizes `text`. `addBOS` prepends the BOS token (if the vocabulary
    /// has one and the text does not already start with it); `parseSpecial`
    /// turns control-token texts such as `<|eot_id|>` into their ids.
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [Int32] {
        var text = text
        return text.withUTF8 { encode(validUTF8: $0, addBOS: addBOS, parseSpecial: parseSpecial) }
    }

    /// Tokenizes UTF-8 bytes; invalid UTF-8 throws `.invalidArgument`.
    public func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, addBOS: Bool = false,
                       parseSpecial: Bool = false) throws(BitNetError) -> [Int32] {
        if let offset = UTF8Validation.firstInvalidOffset(bytes) {
            throw .invalidArgument("text is not valid UTF-8 (byte offset \(offset))")
        }
        return encode(validUTF8: bytes, addBOS: addBOS, parseSpecial: parseSpecial)
    }

    private enum Fragment {
        case text(Range<Int>)
        case token(Int32)
    }

    func encode(validUTF8 bytes: UnsafeBufferPointer<UInt8>, addBOS: Bool, parseSpecial: Bool) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        let fragments = partition(bytes, parseSpecial: parseSpecial)
        switch kind {
        case .bytePair:
            var workspace = BytePairEncoder.Workspace()
            for fragment in fragments {
                switch fragment {
                case .token(let id): output.append(id)
                case .text(let range): encodeBytePair(UnsafeBufferPointer(rebasing: bytes[range]), into: &output, &workspace)
                }
            }
        case .sentencePiece:
            var previousWasSpecial = true
            for fragment in fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    previousWasSpecial = true
                case .text(let range):
                    encodeSentencePiece(UnsafeBufferPointer(rebasing: bytes[range]), prefixSpace: addsSpacePrefix && previousWasSpecial, into: &output)
                    previousWasSpecial = false
                }
            }
        }
        if addBOS, let bos, output.first != bos { output.insert(bos, at: 0) }
        return output
    }

    /// Splits text at special-token occurrences, longest token first.
    private func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        guard let base = bytes.baseAddress else { return fragments }
        for special in specials where special.always || parseSpecial {
            var next: [Fragment] = []
            var changed = false
            for fragment in fragments {
                guard case .text(let range) = fragment else { next.append(fragment); continue }
                var start = range.lowerBound
                special.text.withUnsafeBufferPointer { needle in
                    while start < range.upperBound {
                        guard let at = Self.find(needle, in: base, from: start, to: range.upperBound) else { break }
                        if at > start { next.append(.text(start..<at)) }
                        next.append(.token(special.id))
                        start = at + needle.count
                        changed = true
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            if changed { fragments = next }
        }
        return fragments
    }

    /// First occurrence of `needle` in `base[from..<to]` (memchr for the
    /// first byte, then memcmp; glibc's memmem needs _GNU_SOURCE).
    private static func find(_ needle: UnsafeBufferPointer<UInt8>, in base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
        guard let first = needle.first, let needleBase = needle.baseAddress else { return nil }
        var start = from
        while to - start >= needle.count {
            guard let hit = memchr(base + start, Int32(first), to - start - needle.count + 1) else { return nil }
            let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            if memcmp(base + at, needleBase, needle.count) == 0 { return at }
            start = at + 1
        }
        return nil
    }

    private func encodeBytePair(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32],
                                _ workspace: inout BytePairEncoder.Workspace) {
        guard let bytePair, let preTokenizer else { return }
        let codePoints = CodePoints(validUTF8: text)
        codePoints.offsets.withUnsafeBufferPointer { offsets in
            preTokenizer.split(codePoints) { start, end in
                let word = UnsafeBufferPointer(rebasing: text[offsets[start]..<offsets[end]])
                bytePair.encode(word: word, into: &output, workspace: &workspace)
            }
        }
    }

    private func encodeSentencePiece(_ text: UnsafeBufferPointer<UInt8>, prefixSpace: Bool, into output: inout [Int32]) {
        guard let sentencePiece else { return }
        // Spaces become U+2581 '▁', the way SentencePiece vocabularies spell them.
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.count + 3)
        if prefixSpace { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for b in text {
            if b == 0x20 { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) } else { escaped.append(b) }
        }
        escaped.withUnsafeBufferPointer { sentencePiece.encode($0, into: &output) }
    }
}
