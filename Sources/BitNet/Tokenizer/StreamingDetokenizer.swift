/// Turns generated tokens into text chunks that are always valid UTF-8.
///
/// A byte-level token may end in the middle of a character (an emoji is
/// often two or three tokens). The tail of an unfinished character is held
/// back until the next token completes it; bytes that can never become valid
/// UTF-8 are emitted as U+FFFD so a chunk is never invalid.
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose pieces are joined.
    public let tokenizer: Tokenizer
    /// Whether control tokens (`<|eot_id|>`) appear as text.
    public var renderSpecial: Bool
    private var pending: [UInt8] = []

    /// An empty detokenizer for `tokenizer`.
    public init(tokenizer: Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Bytes held back, waiting for the rest of a character.
    public var heldBack: Int { pending.count }

    /// Adds one token; returns the text that is now complete (may be empty).
    public mutating func append(_ token: Int32) -> String {
        tokenizer.appendPiece(token, to: &pending, renderSpecial: renderSpecial)
        return drain(final: false)
    }

    /// Returns whatever is held back (an unfinished character becomes U+FFFD).
    public mutating func flush() -> String { drain(final: true) }

    /// Forgets held-back bytes (e.g. after the context was rewound).
    public mutating func reset() { pending.removeAll() }

    private mutating func drain(final: Bool) -> String {
        if pending.isEmpty { return "" }
        var output: [UInt8] = []
        var consumed = 0
        pending.withUnsafeBufferPointer { bytes in
            var i = 0
            output.reserveCapacity(bytes.count)
            while i < bytes.count {
                let length = UTF8Validation.sequenceLength(bytes, at: i)
                if length > 0 {
                    output.append(contentsOf: bytes[i..<i + length])
                    i += length
                } else if length < 0 && !final {
                    break  // unfinished character at the end: wait for more
                } else {
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                    i += 1
                }
            }
            consumed = i
        }
        pending.removeFirst(consumed)
        return String(decoding: output, as: UTF8.self)
    }
}
