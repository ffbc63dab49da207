/// Splits text into the "words" that byte-level BPE merges within.
///
/// Each kind follows one of the regexes llama.cpp and Hugging Face use,
/// implemented as a hand-written scanner over code points (no regex engine,
/// no Foundation). The scanners reproduce leftmost-first alternation with
/// greedy quantifiers and backtracking exactly for these patterns:
///
/// - `llama3` (Llama 3, `pre = llama-bpe`):
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - `qwen2` (Qwen2 / Qwen3, `pre = qwen2`): the `llama3` pattern with `\p{N}`
///   (one digit per piece) instead of `\p{N}{1,3}`.
/// - `gpt2` (`pre = gpt-2`):
///   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `standard` (`pre = default`, llama.cpp's fallback): four successive splits,
///   `[\p{P}\$\+<=>\^~\|]+`, then the GPT-2 pattern without its final `\s+`,
///   then `\p{N}+`, then `[0-9][0-9][0-9]`. Each split keeps both the matches
///   and the text between them, and a later split only sees one piece at a time.
package enum PreTokenizerKind: String, Sendable {
    case llama3
    case qwen2
    case gpt2
    case standard

    /// The kind for a `tokenizer.ggml.pre` value (nil: unknown to us).
    package init?(preName: String) {
        switch preName {
        case "llama3", "llama-v3", "llama-bpe", "falcon3": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        case "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de": self = .gpt2
        case "default": self = .standard
        default: return nil
        }
    }
}

/// Text decoded once into parallel per-code-point arrays.
struct CodePoints {
    var values: [UInt32] = []
    var classes: [CharacterClass] = []
    /// Byte offset of each code point in the source, plus the end offset.
    var offsets: [Int] = []

    /// Decodes UTF-8 that is already known to be valid.
    init(validUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        values.reserveCapacity(bytes.count)
        classes.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = UInt32(bytes[i])
            var cp: UInt32
            var length: Int
            if b0 < 0x80 {
                cp = b0; length = 1
            } else if b0 < 0xE0 {
                cp = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); length = 2
            } else if b0 < 0xF0 {
                cp = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); length = 3
            } else {
                cp = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                    | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F)
                length = 4
            }
            values.append(cp)
            classes.append(cp < 0x80 ? CharacterClass.ascii[Int(cp)] : CharacterClass.of(cp))
            offsets.append(i)
            i += length
        }
        offsets.append(n)
    }
}

extension CharacterClass {
    static let ascii: [CharacterClass] = (0..<128).map { compute(Unicode.Scalar(UInt8($0))) }
}

struct PreTokenizer: Sendable {
    let kind: PreTokenizerKind

    /// Calls `emit(start, end)` with code point index ranges covering `text`
    /// from start to end, in order.
    func split(_ text: CodePoints, _ emit: (Int, Int) -> Void) {
        text.values.withUnsafeBufferPointer { cps in
            text.classes.withUnsafeBufferPointer { classes in
                let scanner = Scanner(cps: cps, classes: classes)
                switch kind {
                case .llama3: scanner.llama3(0, cps.count, maxDigits: 3, emit)
                case .qwen2: scanner.llama3(0, cps.count, maxDigits: 1, emit)
                case .gpt2: scanner.gpt2(0, cps.count, finalWhitespace: true, emit)
                case .standard: scanner.standard(0, cps.count, emit)
                }
            }
        }
    }
}

private let CR: UInt32 = 0x0D, LF: UInt32 = 0x0A, SPACE: UInt32 = 0x20, APOSTROPHE: UInt32 = 0x27

private struct Scanner {
    let cps: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<CharacterClass>

    @inline(__always) func isLetter(_ i: Int) -> Bool { classes[i].contains(.letter) }
    @inline(__always) func isNumber(_ i: Int) -> Bool { classes[i].contains(.number) }
    @inline(__always) func isSpace(_ i: Int) -> Bool { classes[i].contains(.whitespace) }
    /// `[^\s\p{L}\p{N}]`
    @inline(__always) func isOther(_ i: Int) -> Bool {
        classes[i].isDisjoint(with: [.letter, .number, .whitespace])
    }
    @inline(__always) func isNewline(_ i: Int) -> Bool { cps[i] == CR || cps[i] == LF }

    @inline(__always) func asciiLower(_ c: UInt32) -> UInt32 {
        (c >= 0x41 && c <= 0x5A) ? c + 0x20 : c
    }

    /// Length of a contraction (`'s 't 're 've 'm 'll 'd`) at `i`, or 0.
    func contraction(_ i: Int, _ end: Int, ignoringCase: Bool) -> Int {
        guard cps[i] == APOSTROPHE, i + 1 < end else { return 0 }
        let c1 = ignoringCase ? asciiLower(cps[i + 1]) : cps[i + 1]
        switch c1 {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        default: break
        }
        guard i + 2 < end else { return 0 }
        let c2 = ignoringCase ? asciiLower(cps[i + 2]) : cps[i + 2]
        switch (c1, c2) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
        default: return 0
        }
    }

    /// End of the whitespace run starting at `i`.
    @inline(__always) func whitespaceRunEnd(_ i: Int, _ end: Int) -> Int {
        var j = i
        while j < end && isSpace(j) { j += 1 }
        return j
    }

    /// `\s+(?!\S)` then `\s+` at a whitespace character `i`: the run up to the
    /// end of text, or the run minus its last character when a non-space
    /// follows (that character then prefixes the next word). Returns 0 when
    /// only `\s+` can match and `allowPlain` is false.
    func trailingWhitespace(_ i: Int, _ end: Int, allowPlain: Bool) -> Int {
        let runEnd = whitespaceRunEnd(i, end)
        if runEnd == end { return runEnd - i }
        if runEnd - i >= 2 { return runEnd - 1 - i }
        return allowPlain ? runEnd - i : 0
    }

    /// The Llama 3 pattern; `maxDigits` is 3 for `\p{N}{1,3}`, 1 for Qwen2's `\p{N}`.
    func llama3(_ start: Int, _ end: Int, maxDigits: Int, _ emit: (Int, Int) -> Void) {
        var i = start
        while i < end {
            let length = llama3Match(i, end, maxDigits: maxDigits)
            emit(i, i + length)
            i += length
        }
    }

    private func llama3Match(_ i: Int, _ end: Int, maxDigits: Int) -> Int {
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        let c = contraction(i, end, ignoringCase: true)
        if c > 0 { return c }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var j = i
        if !isLetter(i) && !isNumber(i) && !isNewline(i) && i + 1 < end && isLetter(i + 1) { j = i + 1 }
        if isLetter(j) {
            while j < end && isLetter(j) { j += 1 }
            return j - i
        }
        // \p{N}{1,maxDigits}
        if isNumber(i) {
            j = i
            while j < end && j - i < maxDigits && isNumber(j) { j += 1 }
            return j - i
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        j = (cps[i] == SPACE && i + 1 < end) ? i + 1 : i
        if isOther(j) {
            while j < end && isOther(j) { j += 1 }
            while j < end && isNewline(j) { j += 1 }
            return j - i
        }
        // \s*[\r\n]+ : the whitespace run up to and including its last newline
        let runEnd = whitespaceRunEnd(i, end)
        var lastNewline = -1
        for k in i..<runEnd where isNewline(k) { lastNewline = k }
        if lastNewline >= 0 { return lastNewline + 1 - i }
        // \s+(?!\S) | \s+
        if isSpace(i) { return trailingWhitespace(i, end, allowPlain: true) }
        return 1  // unreachable: every code point is a letter, number, space or other
    }

    /// The GPT-2 pattern over `start..<end`; without `finalWhitespace` the last
    /// `\s+` alternative is absent and unmatched characters become their own
    /// pieces (the gaps between matches are kept, as llama.cpp does).
    func gpt2(_ start: Int, _ end: Int, finalWhitespace: Bool, _ emit: (Int, Int) -> Void) {
        var i = start
        var gapStart = start
        while i < end {
            let length = gpt2Match(i, end, finalWhitespace: finalWhitespace)
            if length == 0 {
                i += 1
                continue
            }
            if gapStart < i { emit(gapStart, i) }
            emit(i, i + length)
            i += length
            gapStart = i
        }
        if gapStart < end { emit(gapStart, end) }
    }

    private func gpt2Match(_ i: Int, _ end: Int, finalWhitespace: Bool) -> Int {
        let c = contraction(i, end, ignoringCase: false)
        if c > 0 { return c }
        let j0 = (cps[i] == SPACE && i + 1 < end) ? i + 1 : i
        var j = j0
        if isLetter(j) {  //  ?\p{L}+
            while j < end && isLetter(j) { j += 1 }
            return j - i
        }
        if isNumber(j) {  //  ?\p{N}+
            while j < end && isNumber(j) { j += 1 }
            return j - i
        }
        if isOther(j) {  //  ?[^\s\p{L}\p{N}]+
            while j < end && isOther(j) { j += 1 }
            return j - i
        }
        if isSpace(i) { return trailingWhitespace(i, end, allowPlain: finalWhitespace) }
        return 0
    }

    /// llama.cpp's `default` pre-tokenizer: four successive splits.
    func standard(_ start: Int, _ end: Int, _ emit: (Int, Int) -> Void) {
        splitRuns(start, end, where: isDefaultPunctuation) { s1, e1 in
            gpt2(s1, e1, finalWhitespace: false) { s2, e2 in
                splitRuns(s2, e2, where: isNumber) { s3, e3 in
                    splitDigitTriples(s3, e3, emit)
                }
            }
        }
    }

    /// `[\p{P}\$\+<=>\^~\|]`
    private func isDefaultPunctuation(_ i: Int) -> Bool {
        if classes[i].contains(.punctuation) { return true }
        switch cps[i] {
        case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true
        default: return false
        }
    }

    /// Splits `start..<end` into maximal runs of `predicate` and the gaps between.
    private func splitRuns(_ start: Int, _ end: Int, where predicate: (Int) -> Bool, _ emit: (Int, Int) -> Void) {
        var i = start
        while i < end {
            let inRun = predicate(i)
            var j = i + 1
            while j < end && predicate(j) == inRun { j += 1 }
            emit(i, j)
            i = j
        }
    }

    /// `[0-9][0-9][0-9]`: ASCII digit triples, left to right, and the gaps.
    private func splitDigitTriples(_ start: Int, _ end: Int, _ emit: (Int, Int) -> Void) {
        @inline(__always) func isDigit(_ k: Int) -> Bool { cps[k] >= 0x30 && cps[k] <= 0x39 }
        var i = start
        var gapStart = start
        while i < end {
            if i + 3 <= end && isDigit(i) && isDigit(i + 1) && isDigit(i + 2) {
                if gapStart < i { emit(gapStart, i) }
                emit(i, i + 3)
                i += 3
                gapStart = i
            } else {
                i += 1
            }
        }
        if gapStart < end { emit(gapStart, end) }
    }
}
