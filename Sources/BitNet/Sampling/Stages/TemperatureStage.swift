/// Divides the candidates' logits by the temperature (> 0; 0 is greedy and
/// handled by `GreedyStage`), after shifting them so the best is 0 (same
/// distribution, no overflow; see `TokenCandidates.applyTemperature`). Last before the draw, as in llama.cpp, so the
/// filters above see the model's own distribution.
struct TemperatureStage: SamplerStage {
    let name = "temperature"
    let temperature: Float

    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator) {
        guard temperature > 0, temperature != 1 else { return }
        candidates.applyTemperature(temperature)
    }
}
