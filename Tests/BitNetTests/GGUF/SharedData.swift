/// Paths of the test data in the repository (`<repo>/Tests/Fixtures`: golden models and
/// logits, tokenizer vocabularies; see its README), found from this file's location.
enum SharedData {
    static let root: String = {
        var path = #filePath  // <repo>/Tests/BitNetTests/GGUF/SharedData.swift
        for _ in 0..<4 {
            guard let slash = path.lastIndex(of: "/") else { break }
            path = String(path[..<slash])
        }
        return path + "/Tests/Fixtures"
    }()

    static func golden(_ name: String) -> String { root + "/golden/" + name }
    static func vocab(_ name: String) -> String { root + "/vocab/" + name }

    static let goldenModels = [
        "m1-b158-relu2-i2_s.gguf",
        "m1-bitnet-relu2-tq2_0.gguf",
        "m1-bitnet-relu2-tq1_0.gguf",
        "m1-bitnet-relu2-f16.gguf",
        "m2-bitnet-silu-tq2_0.gguf",
    ]
    static let vocabFiles = ["ggml-vocab-llama-bpe.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"]
}
