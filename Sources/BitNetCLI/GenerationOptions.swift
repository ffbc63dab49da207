import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Flags shared by `run` and `chat`: the model, the context and sampling.
struct GenerationOptions: ParsableArguments {
    @OptionGroup var modelOption: ModelOption

    @OptionGroup var storage: WeightStorageOptions

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

    @Option(help: "Context length in tokens (0 = the model's training context, at most 4096). More than the model was trained on works but warns.")
    var ctx = 0

    @Flag(help: "Print the settings used and timings to stderr.")
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
        // The same reading and UTF-8 rule as every other text input (byte offset on failure).
        let text = try validatedText(try readInput(path), source: inputName(path))
        do {
            return grammarFile != nil ? try Grammar(gbnf: text) : try Grammar(jsonSchema: text)
        } catch {
            throw ValidationError("\(path): \(error.message)")
        }
    }

    /// Loads the model (progress bar on a terminal) and makes the context;
    /// warns when --ctx goes past the training context. Install
    /// `InterruptOnSIGINT` first so Ctrl-C can cancel the load.
    func makeContext() throws -> Context {
        let path = try modelOption.path()
        let loaded = try loadModel(path, options: try storage.modelLoadOptions())
        var options = ContextOptions()
        options.threads = threads
        options.contextLength = ctx
        let context: Context
        do {
            context = try Context(model: loaded, options: options)
        } catch {
            throw CLIError(error)
        }
        warnIfBeyondTraining(contextLength: context.capacity, loaded)
        if verbose { printSettings(path: path, context) }
        return context
    }

    /// The settings in the words of the flags that set them.
    private func printSettings(path: String, _ context: Context) {
        let s = sampling
        let seedText = seed.map(String.init) ?? "random"
        let lastN = s.repeatLastN < 0 ? "all tokens" : "last \(s.repeatLastN) tokens"
        writeErr("model: \(path)\n"
                 + "context: \(context.capacity) tokens (trained on \(context.model.hparams.nCtxTrain)), "
                 + "threads: \(context.threadCount), max tokens: \(n == 0 ? "until a stop" : String(n))\n"
                 + "sampling: preset \(preset.rawValue), temperature \(s.temperature), top-k \(s.topK), "
                 + "top-p \(s.topP), min-p \(s.minP), repeat penalty \(s.repetitionPenalty) over the \(lastN), "
                 + "seed \(seedText)\n")
    }
}

/// How a streamed generation ended, for the caller's message.
enum GenerationOutcome {
    case finished
    /// Ctrl-C: while reading the prompt (with the tokens evaluated so far) or after generating.
    case interrupted(promptDone: Int?, promptTotal: Int)
}

/// Runs one generation inside the context's exclusive section: evaluates the
/// prompt with a progress line (on a terminal, once it takes 0.5 s), then
/// hands each chunk of text to `output` as it comes. Ctrl-C (through
/// `InterruptOnSIGINT`) ends it as `.interrupted`; other failures are thrown
/// as the core's error so callers can react to a full context.
func streamGeneration(_ generator: Generator, output: ([UInt8]) -> Void) throws(BitNetError) -> GenerationOutcome {
    let cancelled = { InterruptOnSIGINT.isRequested }
    var promptDone = 0, promptTotal = generator.promptTokenIDs.count
    var inPrompt = true
    do {
        try generator.context.exclusive { () throws(BitNetError) in
            let progress = ProgressLine("prompt")
            defer { progress.finish() }
            try generator.prepare(progress: { done, total in
                promptDone = done
                promptTotal = total
                progress.update(fraction: Double(done) / Double(max(total, 1)), detail: "\(done)/\(total) tokens")
                return true
            }, isCancelled: cancelled)
            progress.finish()
            inPrompt = false
            while let chunk = try generator.next(isCancelled: cancelled) {
                output(chunk.text)
            }
        }
    } catch where error.status == .cancelled {
        return .interrupted(promptDone: inPrompt ? promptDone : nil, promptTotal: promptTotal)
    }
    return .finished
}

/// "[interrupted after N tokens]", or where in the prompt it stopped.
func interruptionMessage(_ outcome: GenerationOutcome, generated: Int) -> String {
    guard case .interrupted(let promptDone, let promptTotal) = outcome else { return "" }
    if let promptDone {
        return "[interrupted while reading the prompt, after \(promptDone) of \(promptTotal) tokens]"
    }
    return "[interrupted after \(generated) token\(generated == 1 ? "" : "s")]"
}

/// The prompt did not fit: which flag to change.
func promptDoesNotFit(promptTokens: Int, context: Context, maxTokens: Int) -> CLIError {
    let trained = context.model.hparams.nCtxTrain
    let needed = promptTokens + max(maxTokens, 1)
    var message = "the prompt has \(promptTokens) tokens and the context holds \(context.capacity): "
        + "raise --ctx (to at least \(needed) for the prompt plus -n \(maxTokens)) or shorten the prompt"
    if trained > 0 && needed > trained {
        message += "; the model was trained on \(trained) tokens, so text past that is likely to degrade"
    }
    return CLIError(BitNetError(.contextFull, message))
}

/// The --verbose summary of a generation, in the words of the flags.
func printStats(_ stats: GenerationStats) {
    func ms(_ d: Duration) -> String { String(Int((d.secondsDouble * 1000).rounded())) + " ms" }
    func rate(_ r: Double) -> String { String(Double(Int(r * 10)) / 10) }
    let line = "stopped: \(stats.stopReason.words); prompt: \(stats.promptTokens) tokens "
        + "(\(stats.promptTokensReused) reused) at \(rate(stats.promptTokensPerSecond)) tokens/s; "
        + "first token after \(ms(stats.timeToFirstToken)); "
        + "generated: \(stats.generated) tokens at \(rate(stats.generationTokensPerSecond)) tokens/s\n"
    writeErr(line)
}

extension StopReason {
    /// Why a generation stopped, as the user would say it (and the flag involved).
    var words: String {
        switch self {
        case .none: "error"
        case .maxTokens: "max tokens (-n)"
        case .endOfText: "end of text"
        case .stopSequence: "stop text (--stop)"
        case .cancelled: "interrupted"
        case .contextFull: "context full (--ctx)"
        }
    }
}

/// Unbuffered output through the file descriptors: chunks appear as they are
/// generated, and nothing touches the C `stdout` global (not concurrency-safe).
func writeOut(_ bytes: [UInt8]) { writeAll(fd: 1, bytes) }
func writeOut(_ text: String) { writeAll(fd: 1, Array(text.utf8)) }
func writeErr(_ text: String) { writeAll(fd: 2, Array(text.utf8)) }

/// A failed write (a closed pipe) drops the output: there is nowhere to report it.
private func writeAll(fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        if let base = buffer.baseAddress { _ = writeFully(fd, base, buffer.count) }
    }
}
