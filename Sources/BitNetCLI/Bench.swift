import ArgumentParser
import BitNet

/// Prompt and generation speed, reported like llama-bench: mean ± sd over runs.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt (pp) and generation (tg) speed in tokens/s.")

    @Option(name: .shortAndLong, help: "Path to a GGUF model file.")
    var model: String

    @Option(name: .shortAndLong, help: "Threads (0 = one per CPU).")
    var threads: Int = 0

    @Option(name: .shortAndLong, help: "Prompt tokens per run (0 skips the prompt test).")
    var prompt: Int = 128

    @Flag(help: "Skip the untimed warm-up pass.")
    var noWarmup = false

    @Option(name: [.short, .customLong("gen")], help: "Generated tokens per run (0 skips the generation test).")
    var n: Int = 64

    @Option(name: .shortAndLong, help: "Repetitions.")
    var repetitions: Int = 3

    @Option(name: .customLong("batch"), help: "Prompt batch size.")
    var batch: Int = 64

    @Option(name: .customLong("lm-head"), help: "LM head storage: auto (q8_0 where it can encode the head), stored (as in the file) or q8_0 (requantized at load).")
    var lmHead: String = "auto"

    @Flag(help: "Keep the weights on 4 KB pages (faster load on VMs where huge pages are slow to fault in).")
    var noHugePages = false

    @Option(help: "KV cache type: f16, f32 or q8.")
    var kv: String = "f16"

    @Flag(help: "Skip the memory bandwidth probe.")
    var noProbe = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let loaded = try Model.load(path: model, options: try lmHeadOptions(lmHead, hugePages: !noHugePages))
        var options = ContextOptions()
        options.threads = threads
        options.batchSize = batch
        options.kvType = kv == "f32" ? .f32 : kv == "q8" ? .q8 : .f16
        options.contextLength = max(prompt + n, 1)
        let context = try Context(model: loaded, options: options)
        let vocab = loaded.hparams.nVocab
        var rng = SplitMix64(seed: 42)
        let promptTokens = (0..<prompt).map { _ in Int32(rng.next() % UInt64(vocab)) }

        if !noWarmup {
        // One untimed pass touches every weight page once (mmap faults), like llama-bench's warm-up.
        try promptTokens.prefix(max(1, min(prompt, 8))).withUnsafeBufferPointer { try context.eval($0) }
        try [Int32(1)].withUnsafeBufferPointer { try context.eval($0) }
        }

        var results: [(String, [Double])] = []
        if prompt > 0 {
            var speeds: [Double] = []
            for _ in 0..<repetitions {
                context.reset()
                let start = ContinuousClock.now
                try promptTokens.withUnsafeBufferPointer { try context.eval($0) }
                speeds.append(Double(prompt) / seconds(since: start))
            }
            results.append(("pp\(prompt)", speeds))
        }
        if n > 0 {
            var speeds: [Double] = []
            for _ in 0..<repetitions {
                context.reset()
                var token: [Int32] = [Int32(rng.next() % UInt64(vocab))]
                let start = ContinuousClock.now
                for _ in 0..<n {
                    try token.withUnsafeBufferPointer { try context.eval($0) }
                    token[0] = Int32(rng.next() % UInt64(vocab))
                }
                speeds.append(Double(n) / seconds(since: start))
            }
            results.append(("tg\(n)", speeds))
        }
        let threadCount = context.threadCount
        // The memory floor beside the measurement: how fast could decode go if
        // it did nothing but stream its weights once per token?
        var floor: (gbps: Double, bytesPerToken: Int, tokensPerSecond: Double)?
        if n > 0, !noProbe, let weights = loaded.weights {
            let pool = try ThreadPool(threadCount: threadCount)
            let gbps = try BandwidthProbe.readGigabytesPerSecond(pool: pool)
            floor = (gbps, weights.bytesPerToken, gbps * 1e9 / Double(weights.bytesPerToken))
        }
        if json {
            let entries = results.map { name, speeds in
                let (mean, sd) = meanAndDeviation(speeds)
                return "{\"test\":\"\(name)\",\"threads\":\(threadCount),\"mean_tps\":\(mean),\"sd_tps\":\(sd),"
                    + "\"samples\":[\(speeds.map { "\($0)" }.joined(separator: ","))]}"
            }
            let floorJSON = floor.map { ",\"read_gbps\":\($0.gbps),\"bytes_per_token\":\($0.bytesPerToken),\"floor_tps\":\($0.tokensPerSecond)" } ?? ""
            print("{\"model\":\"\(model)\",\"kernels\":\"\(KernelSet.selected.rawValue)\"\(floorJSON),\"results\":[\(entries.joined(separator: ","))]}")
        } else {
            print("| model | kernels | threads | test | t/s |")
            print("| --- | --- | ---: | --- | ---: |")
            for (name, speeds) in results {
                let (mean, sd) = meanAndDeviation(speeds)
                print("| \(model.split(separator: "/").last ?? "") | \(KernelSet.selected.rawValue) | \(threadCount) | \(name) | \(format(mean)) ± \(format(sd)) |")
            }
            if let floor, let tg = results.first(where: { $0.0.hasPrefix("tg") }) {
                let share = meanAndDeviation(tg.1).0 / floor.tokensPerSecond * 100
                print("memory read \(format(floor.gbps)) GB/s (\(threadCount) threads), \(format(Double(floor.bytesPerToken) / 1e6)) MB "
                      + "per token: floor \(format(floor.tokensPerSecond)) tok/s; \(tg.0) reaches \(format(share))% of it")
            }
        }
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func meanAndDeviation(_ values: [Double]) -> (Double, Double) {
    guard !values.isEmpty else { return (0, 0) }
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (mean, 0) }
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
    return (mean, variance.squareRoot())
}

func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}
