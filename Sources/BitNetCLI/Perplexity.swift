import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#endif

/// Perplexity of a model on a text file.
///
/// The text is tokenized once (with BOS when the tokenizer adds one) and cut
/// into consecutive windows of `ctx` tokens. Each window is evaluated from an
/// empty context; every token after the window's first is scored by the
/// log-softmax of the logits before it. Perplexity = exp(mean negative
/// log-likelihood) over all scored tokens.
struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compute a model's perplexity on a text file.")

    @Option(name: .shortAndLong, help: "Path to a GGUF model file.")
    var model: String

    @Option(name: .shortAndLong, help: "UTF-8 text file to score.")
    var file: String

    @Option(name: [.short, .customLong("ctx")], help: "Window length in tokens.")
    var ctx: Int = 512

    @Option(name: .shortAndLong, help: "Threads (0 = one per CPU).")
    var threads: Int = 0

    @OptionGroup var storage: WeightStorageOptions

    @Option(help: "KV cache type: f16 or f32.")
    var kv: String = "f16"

    func run() throws {
        guard ctx >= 2 else { throw ValidationError("--ctx must be at least 2") }
        let loaded = try Model.load(path: model, options: try storage.modelLoadOptions())
        guard let tokenizer = loaded.tokenizer else { throw ValidationError("\(model) has no tokenizer") }
        let text = String(decoding: try readAll(file), as: UTF8.self)
        let tokens = tokenizer.encode(text, addBOS: tokenizer.addsBOS, parseSpecial: false)
        guard tokens.count >= 2 else { throw ValidationError("\(file) has fewer than 2 tokens") }
        var options = ContextOptions()
        options.contextLength = ctx
        options.threads = threads
        options.batchSize = min(ctx, 128)
        options.kvType = kv == "f32" ? .f32 : .f16
        options.allLogits = true
        let context = try Context(model: loaded, options: options)

        let windows = stride(from: 0, to: tokens.count - 1, by: ctx).map { $0..<min($0 + ctx, tokens.count) }
        var totalNLL = 0.0
        var scored = 0
        for (index, window) in windows.enumerated() where window.count >= 2 {
            context.reset()
            try tokens[window].withUnsafeBufferPointer { try context.eval($0) }
            for i in 0..<(window.count - 1) {
                let logits = try unwrap(context.logits(row: i))
                totalNLL -= logSoftmax(logits, at: Int(tokens[window.lowerBound + i + 1]))
                scored += 1
            }
            let running = (totalNLL / Double(scored)).exp
            printToStandardError("\r[\(index + 1)/\(windows.count)] \(scored) tokens, perplexity \(format(running))   ")
        }
        printToStandardError("\n")
        print("perplexity: \((totalNLL / Double(scored)).exp) over \(scored) tokens (\(windows.count) windows of \(ctx))")
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
    for value in logits { sum += (Double(value) - maxValue).exp }
    return Double(logits[target]) - maxValue - sum.log
}

extension Double {
    var exp: Double { Glibc.exp(self) }
    var log: Double { Glibc.log(self) }
}
