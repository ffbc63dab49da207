/// Everything that shapes one generation besides the prompt: how tokens are
/// sampled and when to stop.
public struct GenerationParams: Sendable {
    /// How each token is chosen (temperature, truncation, penalties, seed).
    public var sampling: SamplingParams
    /// Most tokens to generate; 0 = no limit (until a stop or the context is full).
    public var maxNewTokens: Int
    /// Text that ends the generation; it is not emitted. Empty strings are ignored.
    public var stopSequences: [String]
    /// Extra token ids that end the generation (EOS and EOT always do unless `ignoreEOS`).
    public var stopTokens: [Int32]
    /// Treat EOS/EOT as ordinary tokens.
    public var ignoreEOS: Bool
    /// Tokenize a text prompt with the model's BOS first.
    public var addBOS: Bool
    /// Tokenize a text prompt with control-token text ("<|eot_id|>") mapped to ids.
    public var parseSpecial: Bool
    /// Constrains the generated text to this grammar's language: it ends only
    /// where the grammar may end (or at a limit: then it is a valid prefix).
    public var grammar: Grammar?

    /// Parameters with the given settings: by default balanced sampling, at most 256 new tokens.
    public init(sampling: SamplingParams = .balanced, maxNewTokens: Int = 256, stopSequences: [String] = [],
                stopTokens: [Int32] = [], ignoreEOS: Bool = false, addBOS: Bool = true, parseSpecial: Bool = false,
                grammar: Grammar? = nil) {
        self.sampling = sampling
        self.maxNewTokens = maxNewTokens
        self.stopSequences = stopSequences
        self.stopTokens = stopTokens
        self.ignoreEOS = ignoreEOS
        self.addBOS = addBOS
        self.parseSpecial = parseSpecial
        self.grammar = grammar
    }

    package func validate(vocabularySize: Int) throws(BitNetError) {
        try sampling.validate(vocabularySize: vocabularySize)
        guard maxNewTokens >= 0 else { throw .invalidArgument("max_new_tokens must be >= 0 (0 = no limit), got \(maxNewTokens)") }
        for (index, token) in stopTokens.enumerated() where token < 0 || Int(token) >= vocabularySize {
            throw .invalidArgument("stop_tokens[\(index)] = \(token) is outside the vocabulary (size \(vocabularySize))")
        }
    }
}

/// Why a generation ended; raw values are the C API's BITNET_STOP_*.
public enum StopReason: Int32, Sendable {
    /// Still running.
    case none = 0
    /// `maxNewTokens` were generated.
    case maxTokens = 1
    /// The model produced an end-of-text (or end-of-turn) token.
    case endOfText = 2
    /// A stop sequence or stop token matched.
    case stopSequence = 3
    /// Cancelled (task, stream, callback or `interrupt()`).
    case cancelled = 4
    /// The context filled up (overflow policy `stop`).
    case contextFull = 5
}

/// One piece of generated text and the tokens that completed it.
public struct GenerationChunk: Sendable, Hashable {
    /// Valid UTF-8, never empty, never containing stop-sequence text.
    public var text: [UInt8]
    /// Tokens sampled since the previous chunk (empty for text released at the end).
    public var tokens: [Int32]
    /// Log-probability of each of `tokens`.
    public var logprobs: [Float]
    /// Tokens generated so far, including these.
    public var generatedCount: Int
}

/// Counters and timings of one generation.
public struct GenerationStats: Sendable, Hashable {
    /// Why the generation ended (`.none` while it runs).
    public var stopReason: StopReason = .none
    /// Index into `stopSequences` of the stop that matched, or -1.
    public var stopIndex: Int = -1
    /// The stop token that ended the generation, or -1.
    public var stopToken: Int32 = -1
    /// Tokens in the prompt.
    public var promptTokens = 0
    /// Prompt tokens taken from the context or the prefix cache instead of evaluated.
    public var promptTokensReused = 0
    /// Tokens generated.
    public var generated = 0
    /// Tokens dropped from the context by shifts (overflow policy `shift`).
    public var shiftedTokens = 0
    /// From the start of the call to the first generated token (sampled and evaluated).
    public var timeToFirstToken: Duration = .zero
    /// Time spent evaluating the prompt.
    public var promptDuration: Duration = .zero
    /// Time spent sampling and evaluating generated tokens (callbacks excluded).
    public var generationDuration: Duration = .zero

    /// Prompt tokens evaluated (not reused) per second.
    public var promptTokensPerSecond: Double {
        Self.rate(promptTokens - promptTokensReused, promptDuration)
    }
    /// Generated tokens per second of ``generationDuration``.
    public var generationTokensPerSecond: Double { Self.rate(generated, generationDuration) }

    static func rate(_ count: Int, _ duration: Duration) -> Double {
        let seconds = duration.secondsDouble
        return count > 0 && seconds > 0 ? Double(count) / seconds : 0
    }
}

extension Duration {
    package var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
