extension TokenizerData {
    /// Reads the `tokenizer.*` keys of a GGUF file; nil when the file has no
    /// tokenizer (`tokenizer.ggml.model` absent). Wrong value types throw.
    package init?(metadata: [String: GGUFValue]) throws(BitNetError) {
        guard let modelValue = metadata["tokenizer.ggml.model"] else { return nil }
        func string(_ key: String) throws(BitNetError) -> String? {
            guard let value = metadata[key] else { return nil }
            guard let s = value.asString else { throw .format("\(key): expected a string, found \(value.typeDescription)") }
            return s
        }
        func int(_ key: String) throws(BitNetError) -> Int? {
            guard let value = metadata[key] else { return nil }
            guard let i = value.asInt else { throw .format("\(key): expected an integer, found \(value.typeDescription)") }
            return i
        }
        func bool(_ key: String) throws(BitNetError) -> Bool? {
            guard let value = metadata[key] else { return nil }
            guard let b = value.asBool else { throw .format("\(key): expected a bool, found \(value.typeDescription)") }
            return b
        }
        guard let model = modelValue.asString else {
            throw .format("tokenizer.ggml.model: expected a string, found \(modelValue.typeDescription)")
        }
        guard let tokensValue = metadata["tokenizer.ggml.tokens"] else { throw .format("tokenizer.ggml.tokens is missing") }
        guard let tokens = tokensValue.asStrings else {
            throw .format("tokenizer.ggml.tokens: expected an array of strings, found \(tokensValue.typeDescription)")
        }
        var types: [Int32] = []
        if let value = metadata["tokenizer.ggml.token_type"] {
            guard let ints = value.asInts else { throw .format("tokenizer.ggml.token_type: expected an integer array, found \(value.typeDescription)") }
            types = ints.map { Int32(clamping: $0) }
        }
        var scores: [Float] = []
        if let value = metadata["tokenizer.ggml.scores"] {
            guard let floats = value.asFloats else { throw .format("tokenizer.ggml.scores: expected a float array, found \(value.typeDescription)") }
            scores = floats
        }
        var merges: [String] = []
        if let value = metadata["tokenizer.ggml.merges"] {
            guard let strings = value.asStrings else { throw .format("tokenizer.ggml.merges: expected an array of strings, found \(value.typeDescription)") }
            merges = strings
        }
        self.init(model: model,
                  pre: try string("tokenizer.ggml.pre"),
                  architecture: try string("general.architecture"),
                  tokens: tokens, tokenTypes: types, scores: scores, merges: merges,
                  bosID: try int("tokenizer.ggml.bos_token_id"),
                  eosID: try int("tokenizer.ggml.eos_token_id"),
                  eotID: try int("tokenizer.ggml.eot_token_id"),
                  padID: try int("tokenizer.ggml.padding_token_id"),
                  unknownID: try int("tokenizer.ggml.unknown_token_id"),
                  addBOS: try bool("tokenizer.ggml.add_bos_token"),
                  addSpacePrefix: try bool("tokenizer.ggml.add_space_prefix"),
                  chatTemplate: try string("tokenizer.chat_template"))
    }
}

extension Tokenizer {
    /// The tokenizer of a GGUF file, or nil when it has none.
    package convenience init?(gguf: GGUFFile) throws(BitNetError) {
        guard let data = try TokenizerData(metadata: gguf.metadata) else { return nil }
        try self.init(data)
    }
}
