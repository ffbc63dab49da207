/// One step of the sampler chain (llama.cpp's `llama_sampler`): a tiny unit
/// with a name, an `apply` that narrows or reshapes the candidates (or, for
/// the last stage, selects one), and optional history through `accept`/`reset`.
/// Adding a sampler is writing one of these.
protocol SamplerStage: Sendable {
    var name: String { get }
    mutating func apply(to candidates: inout TokenCandidates, random: inout RandomGenerator)
    /// Called with every token that becomes part of the sequence (prompt and generated).
    mutating func accept(_ token: Int32)
    /// Forget all history, as for a new sequence.
    mutating func reset()
}

extension SamplerStage {
    mutating func accept(_ token: Int32) {}
    mutating func reset() {}
}
