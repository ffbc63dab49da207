/// What a loaded model is, for Swift callers (its internals stay in the package).
extension Model {
    /// Token ids the model computes logits for (its embedding rows; at
    /// least the tokenizer's ``Tokenizer/vocabularySize``). Valid ids are `0..<vocabularySize`.
    public var vocabularySize: Int { hparams.nVocab }

    /// The context length the model was trained with (`{arch}.context_length`);
    /// ``ContextOptions/contextLength`` 0 uses it, capped at 4096.
    public var trainingContextLength: Int { hparams.nCtxTrain }

    /// The architecture named in the file (`general.architecture`, e.g. `bitnet-b1.58`).
    public var architecture: String { hparams.architectureName }

    /// The chat format prompts for this model use: the file's template when it
    /// names one this engine renders, or the architecture's usual one when the
    /// vocabulary has an end-of-turn token. nil for a plain text-completion
    /// model (such as the shipped `bitnet-kjv-tiny`).
    public var chatTemplate: ChatTemplate? {
        guard let tokenizer, let template = tokenizer.chatTemplate,
              metadata["tokenizer.chat_template"] != nil || tokenizer.eot != nil else { return nil }
        return template
    }
}
