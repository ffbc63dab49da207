import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#endif

/// Flags shared by `run` and `chat`: the model, the context and sampling.
struct GenerationOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path to a GGUF model file (default: the shipped bitnet-kjv-tiny model; $BITNET_MODEL overrides).")
    var model: String?

    @Option(help: "Sampling preset: fast (greedy), balanced, quality. Other flags override it.")
    var preset: Preset = .balanced

    @Option(help: "Temperature (0 = greedy).")
    var temp: Float?

    @Option(help: "Top-k (0 = off).")
    var topK: Int32?

    @Option(help: "Top-p (1 = off).")
    var topP: Float?

    @Option(help: "Min-p (0 = off).")
    var minP: Float?

    @Option(help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float?

    @Option(help: "Tokens the repetition penalty looks back on (-1 = all).")
    var repeatLastN: Int32?

    @Option(help: "Random seed (default: random).")
    var seed: UInt64?

    @Option(name: .short, help: "Most tokens to generate (0 = until a stop or a full context).")
    var n: Int = 256

    @Option(help: "Stop when this text appears (repeatable); it is not printed.")
    var stop: [String] = []

    @Flag(help: "Keep going past end-of-text tokens.")
    var ignoreEOS = false

    @Option(name: .shortAndLong, help: "Threads (0 = one per CPU).")
    var threads = 0

    @Option(help: "Context length in tokens (0 = the model's, at most 4096).")
    var ctx = 0

    @Flag(help: "Print timings to stderr at the end.")
    var verbose = false

    @Option(help: "Constrain the output to the GBNF grammar in this file.")
    var grammarFile: String?

    @Option(help: "Constrain the output to an instance of the JSON Schema in this file.")
    var jsonSchema: String?

    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case fast, balanced, quality
    }

    var sampling: SamplingParams {
        var s: SamplingParams
        switch preset {
        case .fast: s = .fast
        case .balanced: s = .balanced
        case .quality: s = .quality
        }
        if let temp { s.temperature = temp }
        if let topK { s.topK = topK }
        if let topP { s.topP = topP }
        if let minP { s.minP = minP }
        if let repeatPenalty { s.repetitionPenalty = repeatPenalty }
        if let repeatLastN { s.repeatLastN = repeatLastN }
        if let seed { s.seed = seed }
        return s
    }

    func generationParams(parseSpecial: Bool) -> GenerationParams {
        var grammar: Grammar?
        do {
            grammar = try constraint()
        } catch {
            // validate() compiled it already; only a file changed since can fail here.
            Self.exit(withError: error)
        }
        return GenerationParams(sampling: sampling, maxNewTokens: n, stopSequences: stop, ignoreEOS: ignoreEOS,
                                addBOS: true, parseSpecial: parseSpecial, grammar: grammar)
    }

    mutating func validate() throws {
        _ = try constraint()
    }

    /// The grammar of --grammar-file or --json-schema, compiled (nil: neither given).
    func constraint() throws -> Grammar? {
        guard grammarFile == nil || jsonSchema == nil else {
            throw ValidationError("--grammar-file and --json-schema are mutually exclusive")
        }
        guard let path = grammarFile ?? jsonSchema else { return nil }
        guard let text = String(validating: try readAll(path), as: UTF8.self) else {
            throw ValidationError("\(path) is not valid UTF-8")
        }
        do {
            return grammarFile != nil ? try Grammar(gbnf: text) : try Grammar(jsonSchema: text)
        } catch {
            throw ValidationError("\(path): \(error.message)")
        }
    }

    func makeContext() throws -> Context {
        let path = try model ?? DefaultModel.path()
        do {
            let loaded = try Model.load(path: path)
            var options = ContextOptions()
            options.threads = threads
            options.contextLength = ctx
            return try Context(model: loaded, options: options)
        } catch {
            throw CLIError(error)
        }
    }
}

/// Runs one generation, writing chunks to stdout as they come. Ctrl-C (via
/// `InterruptOnSIGINT`) ends it with `.cancelled` instead of killing the program.
func streamToStdout(_ generator: Generator) throws -> GenerationStats {
    do {
        try generator.context.exclusive { () throws(BitNetError) in
            while let chunk = try generator.next() {
                writeOut(chunk.text)
            }
        }
    } catch where error.status == .cancelled {
        // Interrupted by Ctrl-C: the context stays usable.
    } catch {
        throw CLIError(error)
    }
    return generator.stats
}

func printStats(_ stats: GenerationStats) {
    func ms(_ d: Duration) -> String { String(Int((d.secondsDouble * 1000).rounded())) + " ms" }
    func rate(_ r: Double) -> String { String(Double(Int(r * 10)) / 10) }
    let line = "\n[\(stats.stopReason)] prompt \(stats.promptTokens) tokens (\(stats.promptTokensReused) reused) "
        + "at \(rate(stats.promptTokensPerSecond)) tok/s, first token \(ms(stats.timeToFirstToken)), "
        + "\(stats.generated) generated at \(rate(stats.generationTokensPerSecond)) tok/s\n"
    writeErr(line)
}

/// Ctrl-C interrupts the running generation of one context instead of ending
/// the process. The handler only stores to an atomic flag (`interrupt()`),
/// which is async-signal-safe; the context is published before the handler
/// is installed so the handler never triggers lazy initialisation.
enum InterruptOnSIGINT {
    nonisolated(unsafe) private static var target: Unmanaged<Context>?

    static func install(for context: Context) {
        target = Unmanaged.passRetained(context)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            InterruptOnSIGINT.target?.takeUnretainedValue().interrupt()
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART  // a Ctrl-C at the input prompt does not end readLine
        sigaction(SIGINT, &action, nil)
    }
}

/// Unbuffered output through the file descriptors: chunks appear as they are
/// generated, and nothing touches the C `stdout` global (not concurrency-safe).
func writeOut(_ bytes: [UInt8]) { write(fd: 1, bytes) }
func writeOut(_ text: String) { write(fd: 1, Array(text.utf8)) }
func writeErr(_ text: String) { write(fd: 2, Array(text.utf8)) }

private func write(fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
