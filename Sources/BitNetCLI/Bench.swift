import ArgumentParser
import BitNet

/// A comma-separated list of non-negative integers ("32,128,512"), as llama-bench takes.
struct CountList: ExpressibleByArgument {
    let values: [Int]

    init?(argument: String) {
        var values: [Int] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Int(part.trimmingSpaces), value >= 0 else { return nil }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    init(_ values: [Int]) { self.values = values }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Prompt and generation speed, reported like llama-bench: mean ± sd over runs,
/// one row per (threads, test) combination.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt (pp) and generation (tg) speed in tokens/s.",
        discussion: """
            -p, -n and -t take comma-separated lists (-p 32,128,512 -t 1,2); every \
            combination gets a row. Prompt rows also report the time to first token \
            (ttft): the wall time from the start of evaluating the prompt until the \
            logits of its last position are available, which is what a caller that \
            then samples the first generated token waits for (prefix cache unused).
            """)

    @OptionGroup var modelOption: ModelOption

    @Option(name: .shortAndLong, help: "Threads, comma-separated list (0 = one per CPU).")
    var threads = CountList([0])

    @Option(name: .shortAndLong, help: "Prompt tokens per run, comma-separated list (0 skips the prompt test).")
    var prompt = CountList([128])

    @Flag(help: "Skip the untimed warm-up pass.")
    var noWarmup = false

    @Option(name: [.short, .customLong("gen")],
            help: "Generated tokens per run, comma-separated list (0 skips the generation test).")
    var n = CountList([64])

    @Option(name: .shortAndLong, help: "Repetitions.")
    var repetitions: Int = 3

    @Option(name: .customLong("batch"), help: "Prompt batch size.")
    var batch: Int = 64

    @OptionGroup var storage: WeightStorageOptions

    @Option(help: "KV cache type: f16, f32 or q8.")
    var kv: String = "f16"

    @Flag(help: "Skip the memory bandwidth probe.")
    var noProbe = false

    @Option(help: "Context depths, comma-separated list: tokens evaluated (untimed, once per depth) before each timed prompt and generation run, like llama-bench's -d; a test at depth D > 0 is named ppN@dD or tgN@dD. Batched tests (--sequences) read it as each sequence's prompt: tgN×S@dD.")
    var depth = CountList([0])

    @Option(help: "Concurrent sequences for batched generation tests, comma-separated list: S contexts in one batch, each on its own thread, each generating -n tokens after a prompt of 16 tokens, or of each --depth (like llama-batched-bench -npl and -npp). The row tgN×S gives the aggregate t/s; per-stream t/s and the mean batch size follow the table.")
    var sequences = CountList([])

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// One table row: a test at one thread count.
    struct Result {
        let name: String
        let threads: Int
        var speeds: [Double]
        /// Prompt tests: milliseconds until the last position's logits, per run.
        let firstTokenMilliseconds: [Double]?
        /// Generation tests: the generated tokens (0 for prompt tests).
        var generated = 0
        /// Tokens already in the context when the timed part started.
        var depth = 0
        /// Batched tests: concurrent sequences, each one's rate, sequences per step.
        var sequences = 1
        var perStream: [Double] = []
        var meanBatchSize: [Double] = []
    }

    /// The memory floor beside the measurement: how fast could decode go if
    /// it did nothing but read its weights, and the KV cache so far, once per
    /// token? At depth 0 only the weights count.
    struct Floor {
        let threads: Int
        let gbps: Double
        let bytesPerToken: Int
        /// KV bytes one position adds to every later token's read (q8: its 8-bit rows).
        let kvBytesPerPosition: Int
        var tokensPerSecond: Double { gbps * 1e9 / Double(bytesPerToken) }
        /// Bytes per token of a generation test: the weights plus the KV of
        /// the positions before the average token (depth + half the run).
        func bytesPerToken(_ result: Result) -> Int {
            bytesPerToken + kvBytesPerPosition * (result.depth + result.generated / 2)
        }
        func tokensPerSecond(_ result: Result) -> Double { gbps * 1e9 / Double(bytesPerToken(result)) }
    }

    func run() throws {
        let model = try modelOption.path()
        let loaded = try loadModel(model, options: try storage.modelLoadOptions())
        let vocab = loaded.hparams.nVocab
        let longestPrompt = prompt.values.max() ?? 0, longestGeneration = n.values.max() ?? 0
        var rng = SplitMix64(seed: 42)
        let deepest = depth.values.max() ?? 0
        // The depth's tokens come first, then the timed prompt's (a new turn after a long chat).
        let promptTokens = (0..<(longestPrompt + deepest)).map { _ in Int32(rng.next() % UInt64(vocab)) }
        let warmupLength = max(1, min(longestPrompt, 8))

        var results: [Result] = []
        var floors: [Floor] = []
        for threadRequest in threads.values {
            var options = ContextOptions()
            options.threads = threadRequest
            options.batchSize = batch
            options.kvType = kv == "f32" ? .f32 : kv == "q8" ? .q8 : .f16
            // Room for the longest prompt + generation, and for the warm-up's tokens.
            options.contextLength = max(deepest + max(longestPrompt, longestGeneration), warmupLength + 1)
            let context = try Context(model: loaded, options: options)
            let threadCount = context.threadCount

            if !noWarmup {
                // One untimed pass touches every weight page once (mmap faults), like llama-bench's warm-up.
                try promptTokens.prefix(warmupLength).withUnsafeBufferPointer { try context.eval($0) }
                try [Int32(1)].withUnsafeBufferPointer { try context.eval($0) }
            }
            // The depth's tokens are evaluated once per depth; each timed run then
            // starts from them again (the cache past them is overwritten), so a
            // deep table costs one fill per depth, not one per run.
            var promptResults: [Result] = [], generationResults: [Result] = []
            for depth in depth.values {
                context.reset()
                if depth > 0 { try promptTokens[..<depth].withUnsafeBufferPointer { try context.eval($0) } }
                for length in prompt.values where length > 0 {
                    var speeds: [Double] = [], firstToken: [Double] = []
                    for _ in 0..<repetitions {
                        try context.truncate(to: depth)
                        let start = ContinuousClock.now
                        try promptTokens[depth..<(depth + length)].withUnsafeBufferPointer { try context.eval($0) }
                        let elapsed = seconds(since: start)  // eval returns with the last position's logits
                        speeds.append(Double(length) / elapsed)
                        firstToken.append(elapsed * 1000)
                    }
                    promptResults.append(Result(name: Self.testName("pp", length, depth: depth), threads: threadCount,
                                                speeds: speeds, firstTokenMilliseconds: firstToken, depth: depth))
                }
                for count in n.values where count > 0 {
                    var speeds: [Double] = []
                    for _ in 0..<repetitions {
                        try context.truncate(to: depth)
                        var token: [Int32] = [Int32(rng.next() % UInt64(vocab))]
                        let start = ContinuousClock.now
                        for _ in 0..<count {
                            try token.withUnsafeBufferPointer { try context.eval($0) }
                            token[0] = Int32(rng.next() % UInt64(vocab))
                        }
                        speeds.append(Double(count) / seconds(since: start))
                    }
                    generationResults.append(Result(name: Self.testName("tg", count, depth: depth), threads: threadCount,
                                                    speeds: speeds, firstTokenMilliseconds: nil, generated: count,
                                                    depth: depth))
                }
            }
            results += promptResults + generationResults
            for depth in depth.values {
                // Every sequence reads a prompt of max(depth, 16) tokens first (untimed), like
                // llama-batched-bench's -npp; at depth 0 the rows keep their plain names.
                let promptLength = Swift.max(depth, Self.batchedPromptLength)
                for count in sequences.values where count > 0 {
                    for generatedCount in n.values where generatedCount > 0 {
                        let test = BatchedGenerationTest(model: loaded, threads: threadCount, kvType: options.kvType,
                                                         promptLength: promptLength, generated: generatedCount)
                        var result = Result(name: Self.testName("tg\(generatedCount)×\(count)", depth: depth),
                                            threads: threadCount, speeds: [], firstTokenMilliseconds: nil,
                                            generated: generatedCount, depth: promptLength)
                        result.sequences = count
                        for repetition in 0..<repetitions {
                            let outcome = try test.run(sequences: count, vocabulary: vocab,
                                                       seed: UInt64(repetition) &* 7919)
                            result.speeds.append(outcome.aggregate)
                            result.perStream.append(outcome.perStream)
                            result.meanBatchSize.append(outcome.meanBatchSize)
                        }
                        results.append(result)
                    }
                }
            }
            if longestGeneration > 0, !noProbe, let weights = loaded.weights {
                let pool = try ThreadPool(threadCount: threadCount)
                let gbps = try BandwidthProbe.readGigabytesPerSecond(pool: pool)
                let hp = loaded.hparams
                let kvPerPosition = try KVCache.bytesPerToken(layers: hp.nLayer, heads: hp.nHeadKV, headDim: hp.headDim,
                                                              type: options.kvType)
                floors.append(Floor(threads: threadCount, gbps: gbps, bytesPerToken: weights.bytesPerToken,
                                    kvBytesPerPosition: kvPerPosition))
            }
        }
        if json { printJSON(results, floors, model: model) } else { printTable(results, floors, model: model) }
    }

    /// llama-bench's names: pp512, tg128, and pp512@d4096 at a depth.
    static func testName(_ kind: String, _ count: Int, depth: Int) -> String {
        testName("\(kind)\(count)", depth: depth)
    }

    static func testName(_ base: String, depth: Int) -> String {
        depth > 0 ? "\(base)@d\(depth)" : base
    }

    /// The prompt each batched test's sequences read before decoding, at depth 0.
    static let batchedPromptLength = 16

    private func printJSON(_ results: [Result], _ floors: [Floor], model: String) {
        let entries = results.map { result in
            let (mean, sd) = meanAndDeviation(result.speeds)
            var entry = "{\"test\":\"\(result.name)\",\"threads\":\(result.threads),\"mean_tps\":\(mean),\"sd_tps\":\(sd),"
                + "\"samples\":[\(result.speeds.map { "\($0)" }.joined(separator: ","))]"
            if result.generated > 0, let floor = floors.first(where: { $0.threads == result.threads }) {
                entry += ",\"depth\":\(result.depth),\"bytes_per_token\":\(floor.bytesPerToken(result)),"
                    + "\"floor_tps\":\(floor.tokensPerSecond(result))"
            }
            if result.sequences > 1 || !result.perStream.isEmpty {
                entry += ",\"sequences\":\(result.sequences),\"per_stream_tps\":\(meanAndDeviation(result.perStream).0),"
                    + "\"mean_batch_size\":\(meanAndDeviation(result.meanBatchSize).0)"
            }
            if let ttft = result.firstTokenMilliseconds {
                if result.depth > 0 { entry += ",\"depth\":\(result.depth)" }
                let (mean, sd) = meanAndDeviation(ttft)
                entry += ",\"mean_ttft_ms\":\(mean),\"sd_ttft_ms\":\(sd),"
                    + "\"ttft_ms_samples\":[\(ttft.map { "\($0)" }.joined(separator: ","))]"
            }
            return entry + "}"
        }
        func floorFields(_ floor: Floor) -> String {
            "\"read_gbps\":\(floor.gbps),\"bytes_per_token\":\(floor.bytesPerToken),\"floor_tps\":\(floor.tokensPerSecond)"
        }
        // One probe: its fields at the top level (as always); several: a list, one per thread count.
        var floorJSON = ""
        if floors.count == 1 {
            floorJSON = "," + floorFields(floors[0])
        } else if floors.count > 1 {
            floorJSON = ",\"probes\":[" + floors.map { "{\"threads\":\($0.threads)," + floorFields($0) + "}" }
                .joined(separator: ",") + "]"
        }
        // The bench's contexts and batches keep the default kernel set
        // (`ContextOptions.kernels` = `KernelSet.selected`), so that is the set measured.
        print("{\"model\":\"\(model)\",\"kernels\":\"\(KernelSet.selected.rawValue)\"\(floorJSON),\"results\":[\(entries.joined(separator: ","))]}")
    }

    private func printTable(_ results: [Result], _ floors: [Floor], model: String) {
        let hasPrompt = results.contains { $0.firstTokenMilliseconds != nil }
        let modelName = model.split(separator: "/").last ?? ""
        print("| model | kernels | threads | test | t/s |" + (hasPrompt ? " ttft ms |" : ""))
        print("| --- | --- | ---: | --- | ---: |" + (hasPrompt ? " ---: |" : ""))
        for result in results {
            let (mean, sd) = meanAndDeviation(result.speeds)
            var row = "| \(modelName) | \(KernelSet.selected.rawValue) | \(result.threads) | \(result.name) | \(format(mean)) ± \(format(sd)) |"
            if hasPrompt {
                if let ttft = result.firstTokenMilliseconds {
                    let (mean, sd) = meanAndDeviation(ttft)
                    row += " \(format(mean)) ± \(format(sd)) |"
                } else {
                    row += " |"
                }
            }
            print(row)
        }
        for result in results where !result.perStream.isEmpty {
            print("  \(result.name) (\(result.threads) threads): \(format(meanAndDeviation(result.perStream).0)) t/s per stream, "
                  + "\(format(meanAndDeviation(result.meanBatchSize).0)) sequences per step on average")
        }
        for floor in floors {
            let generation = results.filter { $0.threads == floor.threads && $0.name.hasPrefix("tg") && $0.perStream.isEmpty }
            guard !generation.isEmpty else { continue }
            print("memory read \(format(floor.gbps)) GB/s (\(floor.threads) threads), \(format(Double(floor.bytesPerToken) / 1e6)) MB "
                  + "of weights per token, \(format(Double(floor.kvBytesPerPosition) / 1e3)) KB of KV per position before it:")
            for result in generation {
                let share = meanAndDeviation(result.speeds).0 / floor.tokensPerSecond(result) * 100
                print("  \(result.name): floor \(format(floor.tokensPerSecond(result))) tok/s "
                      + "(\(format(Double(floor.bytesPerToken(result)) / 1e6)) MB per token), reaches \(format(share))%")
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
