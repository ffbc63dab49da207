/// How the next token is chosen from the logits.
///
/// Neutral values switch a stage off: `topK` 0, `topP`/`typicalP` 1, `minP` 0,
/// `repetitionPenalty` 1, `presencePenalty`/`frequencyPenalty` 0,
/// `repeatLastN` 0. `temperature` 0 means greedy (argmax), which ignores the
/// filters and the seed. Stop sequences and stop tokens belong to the
/// generation loop, not here.
public struct SamplingParams: Sendable, Hashable {
    /// Divides the logits of the surviving candidates; 0 = greedy.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; 0 = off.
    public var topK: Int32
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`; 1 = off.
    public var topP: Float
    /// Drop tokens less likely than `minP` times the most likely one; 0 = off.
    public var minP: Float
    /// Locally typical sampling (Meister et al. 2022): keep the tokens whose
    /// surprisal is closest to the entropy until their mass exceeds `typicalP`; 1 = off.
    public var typicalP: Float
    /// Logits of recently seen tokens: divided by this if positive, multiplied if not; 1 = off.
    public var repetitionPenalty: Float
    /// How many of the most recent accepted tokens the penalties look at;
    /// 0 = penalties off, -1 = every token accepted since the last reset.
    public var repeatLastN: Int32
    /// Subtracted once from the logit of every token in the window.
    public var presencePenalty: Float
    /// Subtracted per occurrence of a token in the window.
    public var frequencyPenalty: Float
    /// Same seed + same logits + same params = same tokens.
    /// `SamplingParams.randomSeed` asks for a seed from the operating system.
    public var seed: UInt64
    /// Added to the logits of individual tokens before anything else; `-infinity` bans a token.
    public var logitBias: [LogitBias]

    /// The seed value that means "pick one from the operating system".
    public static let randomSeed = UInt64.max

    /// Parameters with the given settings; the defaults are ``balanced``.
    public init(
        temperature: Float = 0.7,
        topK: Int32 = 50,
        topP: Float = 0.9,
        minP: Float = 0,
        typicalP: Float = 1,
        repetitionPenalty: Float = 1,
        repeatLastN: Int32 = 64,
        presencePenalty: Float = 0,
        frequencyPenalty: Float = 0,
        seed: UInt64 = SamplingParams.randomSeed,
        logitBias: [LogitBias] = []
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.typicalP = typicalP
        self.repetitionPenalty = repetitionPenalty
        self.repeatLastN = repeatLastN
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
        self.logitBias = logitBias
    }

    // MARK: - Presets

    /// Greedy decoding: deterministic, the cheapest per token.
    public static let fast = SamplingParams(temperature: 0, topK: 0, topP: 1)
    /// Temperature 0.7, top-k 50, top-p 0.9 (also the default).
    public static let balanced = SamplingParams(temperature: 0.7, topK: 50, topP: 0.9)
    /// Temperature 0.8, top-k 100, top-p 0.95, repetition penalty 1.1 over the last 64 tokens.
    public static let quality = SamplingParams(
        temperature: 0.8, topK: 100, topP: 0.95, repetitionPenalty: 1.1, repeatLastN: 64)

    /// Whether the chain picks the argmax instead of drawing.
    public var isGreedy: Bool { temperature == 0 }

    package var penaltiesAreActive: Bool {
        repeatLastN != 0 && (repetitionPenalty != 1 || presencePenalty != 0 || frequencyPenalty != 0)
    }

    // MARK: - Validation

    /// Checks every value a caller could get wrong; the message names the field.
    package func validate() throws(BitNetError) {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(BitNetError) {
            if !ok { throw .invalidArgument(message()) }
        }
        try check(temperature.isFinite && temperature >= 0,
                  "temperature must be finite and >= 0 (0 = greedy), got \(temperature)")
        try check(topK >= 0, "top_k must be >= 0 (0 = off), got \(topK)")
        try check(topP >= 0 && topP <= 1, "top_p must be in [0, 1] (1 = off), got \(topP)")
        try check(minP >= 0 && minP <= 1, "min_p must be in [0, 1] (0 = off), got \(minP)")
        try check(typicalP >= 0 && typicalP <= 1, "typical_p must be in [0, 1] (1 = off), got \(typicalP)")
        try check(repetitionPenalty.isFinite && repetitionPenalty > 0,
                  "repetition_penalty must be finite and > 0 (1 = off), got \(repetitionPenalty)")
        try check(repeatLastN >= -1, "repeat_last_n must be >= -1 (0 = off, -1 = all), got \(repeatLastN)")
        try check(presencePenalty.isFinite, "presence_penalty must be finite, got \(presencePenalty)")
        try check(frequencyPenalty.isFinite, "frequency_penalty must be finite, got \(frequencyPenalty)")
        for (index, entry) in logitBias.enumerated() {
            try check(entry.token >= 0, "logit_bias[\(index)]: token must be >= 0, got \(entry.token)")
            // -inf bans a token; +inf or NaN would make every probability NaN.
            try check(!entry.bias.isNaN && entry.bias != .infinity,
                      "logit_bias[\(index)]: bias must be a number < +inf, got \(entry.bias)")
        }
    }
}

/// One entry of `SamplingParams.logitBias`.
public struct LogitBias: Sendable, Hashable {
    /// The token whose logit is shifted.
    public var token: Int32
    /// Added to the token's logit; `-infinity` bans the token.
    public var bias: Float

    /// Shifts `token`'s logit by `bias`.
    public init(token: Int32, bias: Float) {
        self.token = token
        self.bias = bias
    }
}

/// What the chain returns: the token and its log-probability.
package struct SampledToken: Sendable, Hashable {
    package var token: Int32
    /// Natural log of the token's probability under the softmax of the full
    /// vocabulary's logits *after* logit bias and penalties, *before*
    /// temperature and truncation (top-k/p, min-p, typical) — i.e. what the
    /// model, as adjusted by the caller, thinks of the token.
    package var logprob: Float

    package init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}
