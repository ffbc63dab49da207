@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loading of the shared tokenizer test vocabularies and their vectors.
enum VocabFixtures {
    static let vocabDirectory = SharedData.root + "/vocab"
    static let goldenDirectory = SharedData.root + "/golden"

    /// Tokenizers are expensive to build (128K tokens, 280K merges): build each once.
    private static let cache = Locked<[String: Tokenizer]>([:])

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try cache.withLock { cache throws -> Tokenizer in
            if let cached = cache[name] { return cached }
            let path = name.hasPrefix("/") ? name : "\(vocabDirectory)/ggml-vocab-\(name).gguf"
            let file = try GGUFFile(path: path)
            guard let tokenizer = try Tokenizer(gguf: file) else { throw BitNetError(.format, "\(path): no tokenizer") }
            cache[name] = tokenizer
            return tokenizer
        }
    }

    struct Case {
        var text: [UInt8]
        var expected: [Int32]
    }

    /// The `.inp`/`.out` pairs of one vocabulary, read as bytes.
    static func cases(_ name: String) throws -> [Case] {
        let input = try readFile("\(vocabDirectory)/ggml-vocab-\(name).gguf.inp")
        let output = try readFile("\(vocabDirectory)/ggml-vocab-\(name).gguf.out")
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [[UInt8]] = []
        var start = 0
        var i = 0
        while i + separator.count <= input.count {
            if Array(input[i..<i + separator.count]) == separator {
                texts.append(Array(input[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        let lines = output.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line, as: UTF8.self).split(separator: " ").compactMap { Int32($0) }
        }
        guard lines.count >= texts.count else { throw BitNetError(.format, "\(name): \(texts.count) inputs, \(lines.count) output lines") }
        return texts.indices.map { Case(text: texts[$0], expected: lines[$0]) }
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let file = try GGUFFileBytes.read(path)
        return file
    }
}

/// Reads a whole file with stdio (tests may not use Foundation either).
enum GGUFFileBytes {
    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw BitNetError(.io, "cannot open \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return bytes
    }
}
