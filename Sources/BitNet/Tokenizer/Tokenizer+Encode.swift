#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text -> token ids: special-token partition, then BPE or SentencePiece.
extension Tokenizer {
    // MARK: - Encoding

    /// Tokenizes `text`. `addBOS` prepends the BOS token (if the vocabulary
    /// has one and the text does not already start with it); `parseSpecial`
    /// turns control-token texts such as `<|eot_id|>` into their ids.
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [Int32] {
        var text = text
        return text.withUTF8 { encode(validUTF8: $0, addBOS: addBOS, parseSpecial: parseSpecial) }
    }

    /// Tokenizes UTF-8 bytes; invalid UTF-8 throws `.invalidArgument`.
    package func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, addBOS: Bool = false,
                       parseSpecial: Bool = false) throws(BitNetError) -> [Int32] {
        if let offset = UTF8Validation.firstInvalidOffset(bytes) {
            throw .invalidArgument("text is not valid UTF-8 (byte offset \(offset))")
        }
        return encode(validUTF8: bytes, addBOS: addBOS, parseSpecial: parseSpecial)
    }

    enum Fragment {
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
    func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
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
    static func find(_ needle: UnsafeBufferPointer<UInt8>, in base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
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

    func encodeBytePair(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32],
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

    func encodeSentencePiece(_ text: UnsafeBufferPointer<UInt8>, prefixSpace: Bool, into output: inout [Int32]) {
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
