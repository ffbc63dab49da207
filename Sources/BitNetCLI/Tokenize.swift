import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text with a model's tokenizer and print ids and pieces (or benchmark it).",
        discussion: """
            The model may be a vocabulary-only GGUF file. Text must be valid UTF-8: invalid \
            bytes are rejected with their byte offset (as in every subcommand).
            """)

    @OptionGroup var modelOption: ModelOption

    @Argument(help: "The text to tokenize (omit when using --file or --bench).")
    var text: String?

    @Option(name: .shortAndLong, help: "Read the text from this file (- = standard input).")
    var file: String?

    @Flag(help: "Put the BOS token first.")
    var bos = false

    @Flag(help: "Map special-token text such as <|eot_id|> to its id.")
    var parseSpecial = false

    @Flag(help: "Print only the ids, space separated.")
    var idsOnly = false

    @Option(help: "Benchmark: encode this file repeatedly and report tokens/s and MB/s.")
    var bench: String?

    @Option(help: "Benchmark repetitions.")
    var repeats = 5

    func run() throws {
        let loaded: Tokenizer?
        let clock = ContinuousClock()
        var parseTime = Duration.zero, buildTime = Duration.zero
        let model = try modelOption.path()
        do throws(BitNetError) {
            let start = clock.now
            let gguf = try GGUFFile(path: model)
            parseTime = clock.now - start
            loaded = try Tokenizer(gguf: gguf)
            buildTime = clock.now - start - parseTime
        } catch {
            throw CLIError(error)
        }
        guard let tokenizer = loaded else {
            throw CLIError(BitNetError(.unsupported, "\(model) has no tokenizer metadata"))
        }
        if let bench {
            print("GGUF parse: \(parseTime), tokenizer build: \(buildTime)")
            try benchmark(tokenizer, path: bench)
            return
        }
        let bytes: [UInt8]
        if let file {
            bytes = try readInput(file)
            _ = try validatedText(bytes, source: inputName(file))
        } else if let text {
            bytes = Array(text.utf8)
        } else {
            throw ValidationError("give the text as an argument or with --file")
        }
        let ids: [Int32]
        do throws(BitNetError) {
            ids = try bytes.withUnsafeBufferPointer { buffer throws(BitNetError) in
                try tokenizer.encode(utf8: buffer, addBOS: bos, parseSpecial: parseSpecial)
            }
        } catch {
            throw CLIError(error)
        }
        if idsOnly {
            print(ids.map(String.init).joined(separator: " "))
            return
        }
        for id in ids {
            let piece = tokenizer.piece(id) ?? []
            print("\(id)\t\(escaped(piece))")
        }
        print("\(ids.count) tokens, \(bytes.count) bytes")
    }

    private func benchmark(_ tokenizer: Tokenizer, path: String) throws {
        let bytes = try readInput(path)
        let text = try validatedText(bytes, source: inputName(path))
        let clock = ContinuousClock()
        let warmStart = clock.now
        _ = tokenizer.encode("warm up: é")
        print("first call (builds the 64K character class table): \(clock.now - warmStart)")
        _ = tokenizer.encode(text)
        var best = Duration.seconds(1_000_000)
        var count = 0
        for _ in 0..<max(1, repeats) {
            let start = clock.now
            count = tokenizer.encode(text).count
            let elapsed = clock.now - start
            if elapsed < best { best = elapsed }
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
        let mb = Double(bytes.count) / 1_000_000
        print("file: \(path)  bytes: \(bytes.count)  tokens: \(count)  bytes/token: \(fixed(Double(bytes.count) / Double(max(count, 1)), 2))")
        print("best of \(max(1, repeats)): \(fixed(seconds * 1000, 1)) ms  \(fixed(Double(count) / seconds / 1e6, 2)) M tokens/s  \(fixed(mb / seconds, 2)) MB/s")
    }
}

private func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

/// Piece bytes made printable: control characters and invalid UTF-8 escaped.
private func escaped(_ bytes: [UInt8]) -> String {
    var out = "'"
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "'": out += "\\'"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    if String(validating: bytes, as: UTF8.self) == nil {
        out += "' (bytes " + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ") + ")"
        return out
    }
    return out + "'"
}

