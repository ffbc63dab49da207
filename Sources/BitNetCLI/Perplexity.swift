import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Perplexity of a model on a text file.
///
/// The text is tokenized once (with BOS when the tokenizer adds one) and cut
/// into consecutive windows of `ctx` tokens. Each window is evaluated from an
/// empty context; every token after the window's first is scored by the
/// log-softmax of the logits before it. Perplexity = exp(mean negative
/// log-likelihood) over all scored tokens.
struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute a model's perplexity on a text file.",
        discussion: """
            The file must be text: a NUL byte means a binary file and is refused, and \
            invalid UTF-8 is rejected with its byte offset (as in every subcommand). \
            Ctrl-C stops the run, prints the perplexity so far and exits with status 130.
            """)

    @OptionGroup var modelOption: ModelOption

    @Option(name: .shortAndLong, help: "UTF-8 text file to score (- = standard input).")
    var file: String

    @Option(name: [.short, .customLong("ctx")], help: "Window length in tokens (more than the model was trained on works but warns).")
    var ctx: Int = 512

    @Option(name: .shortAndLong, help: "Threads (0 = one per CPU).")
    var threads: Int = 0

    @OptionGroup var storage: WeightStorageOptions

    @Option(help: "KV cache type: f16 or f32.")
    var kv: String = "f16"

    func run() throws {
        guard ctx >= 2 else { throw ValidationError("--ctx must be at least 2") }
        let text = try scoredText()  // before the handler: Ctrl-C still ends reading standard input
        InterruptOnSIGINT.install()
        let path = try modelOption.path()
        let loaded = try loadModel(path, options: try storage.modelLoadOptions())
        guard let tokenizer = loaded.tokenizer else { throw ValidationError("\(path) has no tokenizer") }
        warnIfBeyondTraining(contextLength: ctx, loaded)
        let tokens = tokenizer.encode(text, addBOS: tokenizer.addsBOS, parseSpecial: false)
        guard tokens.count >= 2 else { throw ValidationError("\(inputName(file)) has fewer than 2 tokens") }
        var options = ContextOptions()
        options.contextLength = ctx
        options.threads = threads
        options.batchSize = min(ctx, 128)
        options.kvType = kv == "f32" ? .f32 : .f16
        options.allLogits = true
        let context: Context
        do {
            context = try Context(model: loaded, options: options)
        } catch {
            throw CLIError(error)
        }
        InterruptOnSIGINT.setContext(context)

        let windows = stride(from: 0, to: tokens.count - 1, by: ctx).map { $0..<min($0 + ctx, tokens.count) }
        var totalNLL = 0.0
        var scored = 0
        let progress = ProgressLine("perplexity", delay: .zero)
        defer { progress.finish() }
        for (index, window) in windows.enumerated() where window.count >= 2 {
            context.reset()
            do throws(BitNetError) {
                try tokens[window].withUnsafeBufferPointer { (slice) throws(BitNetError) in try context.eval(slice) }
            } catch where error.status == .cancelled {
                progress.finish()
                let sofar = scored > 0 ? ", perplexity so far \(format(exp(totalNLL / Double(scored))))" : ""
                writeErr("[interrupted after \(index) of \(windows.count) windows, \(scored) tokens scored\(sofar)]\n")
                throw ExitCode(interruptedExitCode)
            } catch {
                throw CLIError(error)
            }
            for i in 0..<(window.count - 1) {
                let logits = try unwrap(context.logits(row: i))
                totalNLL -= logSoftmax(logits, at: Int(tokens[window.lowerBound + i + 1]))
                scored += 1
            }
            let running = exp(totalNLL / Double(scored))
            progress.update(fraction: Double(index + 1) / Double(windows.count),
                            detail: "window \(index + 1)/\(windows.count), \(scored) tokens, perplexity \(format(running))")
        }
        progress.finish()
        print("perplexity: \(exp(totalNLL / Double(scored))) over \(scored) tokens (\(windows.count) windows of \(ctx))")
    }

    /// The file as text; a binary file (a NUL byte) is refused before the
    /// UTF-8 check so the message says what is really wrong.
    private func scoredText() throws -> String {
        let bytes = try readInput(file)
        if let nul = bytes.firstIndex(of: 0) {
            throw CLIError(.invalidArgument("\(inputName(file)) looks like a binary file (NUL byte at offset \(nul)); "
                                            + "perplexity scores UTF-8 text"))
        }
        return try validatedText(bytes, source: inputName(file))
    }
}

private func unwrap<T>(_ value: T?) throws -> T {
    guard let value else { throw ValidationError("internal error: logits missing") }
    return value
}

/// log p(target) under softmax(logits), in Double.
func logSoftmax(_ logits: UnsafeBufferPointer<Float>, at target: Int) -> Double {
    var maxValue = -Double.infinity
    for value in logits { maxValue = max(maxValue, Double(value)) }
    var sum = 0.0
    for value in logits { sum += exp(Double(value) - maxValue) }
    return Double(logits[target]) - maxValue - log(sum)
}
