/// Building the lookup tables from `TokenizerData` (once per model load).
extension Tokenizer {
    // MARK: - Building

    /// The pre-tokenizer named by `tokenizer.ggml.pre`, or implied by the architecture.
    static func preTokenizerKind(_ data: TokenizerData) throws(BitNetError) -> PreTokenizerKind {
        if let pre = data.pre {
            guard let known = PreTokenizerKind(preName: pre) else {
                throw .unsupported("tokenizer.ggml.pre = \"\(pre)\" is not supported (known: llama-bpe, falcon3, qwen2, gpt-2, default)")
            }
            return known
        }
        if let arch = data.architecture, arch == "bitnet-b1.58" || arch == "bitnet-25" {
            return .llama3  // the 2B4T file has no pre key; it uses the Llama 3 tokenizer
        }
        return .standard
    }

    static func buildBytePair(_ data: TokenizerData, types: [TokenType], table: ByteStringTable,
                                      ignoreMerges: Bool) throws(BitNetError) -> (encoder: BytePairEncoder, pieces: PieceTable) {
        // Pieces: byte-level spellings decoded back to raw bytes; texts that
        // are not byte-level spellings (added tokens) stay as they are.
        var pieces = PieceTable(count: data.tokens.count)
        var wordTable = ByteStringTable(expectedCount: data.tokens.count)
        var decoded: [UInt8] = []
        for (id, text) in data.tokens.enumerated() {
            let type = types[id]
            withUTF8(text) { utf8 in
                let isSpelling = (type == .normal || type == .unused || type == .undefined)
                    && ByteLevelMapping.decode(utf8, into: &decoded)
                if !isSpelling {
                    decoded.removeAll(keepingCapacity: true)
                    decoded.append(contentsOf: utf8)
                }
            }
            pieces.append(decoded)
            if type == .normal || type == .undefined { wordTable.insert(decoded, value: Int32(id)) }
        }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            byteTokens[b] = table.lookup(Array(ByteLevelMapping.encode([UInt8(b)]).utf8)) ?? -1
        }
        var merges = MergeTable(expectedCount: data.merges.count)
        var joined: [UInt8] = []
        for (rank, merge) in data.merges.enumerated() {
            enum Outcome { case merge(Int32, Int32, Int32), notAPair, unknownToken, notAToken }
            let outcome = withUTF8(merge) { utf8 -> Outcome in
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
        let encoder = BytePairEncoder(merges: merges, byteTokens: byteTokens, ignoreMerges: ignoreMerges, wordTable: wordTable)
        return (encoder, pieces)
    }

    static func buildSentencePiece(_ data: TokenizerData, types: [TokenType], table: ByteStringTable,
                                           unknown: Int32?) -> (encoder: SentencePieceEncoder, pieces: PieceTable) {
        var pieces = PieceTable(count: data.tokens.count)
        var byteTokens = [Int32](repeating: -1, count: 256)
        for (id, text) in data.tokens.enumerated() {
            var piece = Array(text.utf8)
            switch types[id] {
            case .byte:
                if let b = parseByteToken(piece) {
                    piece = [b]
                    if byteTokens[Int(b)] < 0 { byteTokens[Int(b)] = Int32(id) }
                }
            case .normal, .undefined, .unused, .userDefined:
                piece = replacingSentencePieceSpaces(piece)
            default:
                break
            }
            pieces.append(piece)
        }
        // Only text tokens may result from merging characters: never control/unknown ones.
        let mergeable = types.map { $0 != .control && $0 != .unknown }
        let encoder = SentencePieceEncoder(table: table, tokens: data.tokens.map { Array($0.utf8) },
                                           scores: data.scores, mergeable: mergeable,
                                           byteTokens: byteTokens, unknown: unknown)
        return (encoder, pieces)
    }

    /// Runs `body` on the UTF-8 bytes of `text` without copying native strings.
    static func withUTF8<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// `<0x41>` -> 0x41.
    static func parseByteToken(_ text: [UInt8]) -> UInt8? {
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
    static func replacingSentencePieceSpaces(_ text: [UInt8]) -> [UInt8] {
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
}
