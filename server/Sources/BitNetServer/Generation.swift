import BitNet

/// A slot on loan to one request. Whoever drops the last reference returns
/// it, so a response that is never written (client gone before the headers)
/// cannot leak a slot.
final class SlotLease: Sendable {
    let context: Context
    private let pool: SlotPool

    init(_ context: Context, pool: SlotPool) {
        self.context = context
        self.pool = pool
    }

    deinit {
        let context = context, pool = pool
        Task { await pool.release(context) }
    }
}

/// Why generations end, in OpenAI's words.
func finishReason(_ stats: GenerationStats) -> String {
    switch stats.stopReason {
    case .maxTokens, .contextFull: "length"
    default: "stop"
    }
}

/// Runs one generation on the leased context and hands each chunk of text to
/// `emit` as it comes.
///
/// The generation runs on its own thread (`GenerationStream`) into a queue of
/// at most `bufferChunks` chunks: when `emit` is slow (it awaits the client's
/// socket), the queue fills and that generation alone pauses. When `emit`
/// throws (client gone) or the task is cancelled, the stream is cancelled,
/// which stops it before its next token.
func runGeneration(
    _ request: CompletionRequest, prompt: [Int32], lease: SlotLease, pool: SlotPool, metrics: Metrics,
    arrived: ContinuousClock.Instant, emit: (String) async throws -> Void
) async throws -> GenerationStats {
    let generator = try Generator(context: lease.context, prompt: .tokens(prompt), params: request.params)
    let stream = try GenerationStream(generator: generator, capacity: bufferChunks)
    let id = await pool.register(stream)
    metrics.sequenceStarted()
    var sawFirstToken = false
    var counted = 0
    var failure: Error?
    do {
        loop: while true {
            let chunk: GenerationChunk
            switch try poll(stream) {
            case .chunk(let next): chunk = next
            case .finished: break loop
            case .pending:
                // Polling keeps the event loop free; 1 ms is far below a token's time.
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            // Counted as they come, so /metrics shows a paused generation standing still.
            metrics.generated(chunk.tokens.count)
            counted += chunk.tokens.count
            if !sawFirstToken && !chunk.tokens.isEmpty {
                sawFirstToken = true
                metrics.timeToFirstToken(seconds(ContinuousClock.now - arrived))
            }
            try await emit(String(decoding: chunk.text, as: UTF8.self))
        }
    } catch {
        failure = error
        stream.cancel()
    }
    stream.join()
    await pool.unregister(id)
    let stats = stream.stats
    metrics.generated(max(0, stats.generated - counted))  // tokens whose text never went out
    metrics.sequenceEnded(cancelled: failure != nil)
    if let failure { throw failure }
    return stats
}

private enum Poll {
    case chunk(GenerationChunk)
    case pending
    case finished
}

/// The stream's next chunk without waiting.
private func poll(_ stream: GenerationStream) throws -> Poll {
    do {
        guard let chunk = try stream.next(timeoutMilliseconds: 0) else { return .finished }
        return .chunk(chunk)
    } catch {
        if error.status == .timeout { return .pending }
        throw error
    }
}

/// Chunks a generation may run ahead of its client.
let bufferChunks = 4

/// A duration in seconds, for metrics.
func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) * 1e-18
}
