/// Adds fixed per-token offsets to the logits (first in the chain, as in
/// llama.cpp). Ids outside the vocabulary are skipped; `SamplingParams.validate(vocabularySize:)`
/// reports them up front.
struct LogitBiasStage: SamplerStage {
    let name = "logit-bias"
    let biases: [LogitBias]

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        for entry in biases {
            candidates.modifyLogit(of: entry.token) { $0 + entry.bias }
        }
    }
}
