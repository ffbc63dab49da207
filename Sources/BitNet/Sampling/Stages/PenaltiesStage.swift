/// Repetition, presence and frequency penalties over the last `window`
/// accepted tokens (the definitions of llama.cpp's penalties sampler).
///
/// For each distinct token seen `count` > 0 times in the window:
/// `logit = logit <= 0 ? logit * repetition : logit / repetition`, then
/// `logit -= count * frequency + presence`. Multiplying negative logits
/// (instead of dividing them) keeps the penalty a penalty.
struct PenaltiesStage: SamplerStage {
    let name = "penalties"
    /// Tokens remembered; -1 = every token since the last reset.
    let window: Int
    let repetition: Float
    let presence: Float
    let frequency: Float

    /// Ring buffer of the window (plain growing list when `window` is -1).
    private var history: [Int32] = []
    private var oldestSlot = 0
    /// Per-token occurrence counts, all zero between calls: O(window) per
    /// sample instead of a hash map, at V × 4 bytes allocated once.
    private var counts: [Int32] = []

    init(window: Int, repetition: Float, presence: Float, frequency: Float) {
        self.window = window
        self.repetition = repetition
        self.presence = presence
        self.frequency = frequency
    }

    /// The remembered tokens, oldest first.
    var recentTokens: [Int32] {
        Array(history[oldestSlot...] + history[..<oldestSlot])
    }

    mutating func accept(_ token: Int32) {
        if window < 0 || history.count < window {
            history.append(token)
        } else if window > 0 {
            history[oldestSlot] = token
            oldestSlot = oldestSlot + 1 == window ? 0 : oldestSlot + 1
        }
    }

    mutating func reset() {
        history.removeAll(keepingCapacity: true)
        oldestSlot = 0
    }

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        let vocabularySize = candidates.vocabulary.count
        if counts.count != vocabularySize {
            counts = Array(repeating: 0, count: vocabularySize)
        }
        let (repetition, presence, frequency) = (self.repetition, self.presence, self.frequency)
        let history = self.history
        counts.withUnsafeMutableBufferPointer { counts in
            for token in history where token >= 0 && Int(token) < vocabularySize {
                counts[Int(token)] &+= 1
            }
            // Second pass: apply once per distinct token, zeroing as we go so
            // the buffer is clean for the next call.
            for token in history where token >= 0 && Int(token) < vocabularySize {
                let count = counts[Int(token)]
                if count == 0 { continue }
                counts[Int(token)] = 0
                candidates.modifyLogit(of: token) { logit in
                    let repeated = logit <= 0 ? logit * repetition : logit / repetition
                    return repeated - (Float(count) * frequency + presence)
                }
            }
        }
    }
}
