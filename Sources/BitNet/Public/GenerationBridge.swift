/// Bridges a `GenerationStream` (a worker thread filling a bounded queue) to
/// `async` callers: the generation starts on the first `next()`, each
/// `next()` takes one chunk, and a chunk that is not ready yet is waited for
/// by polling, the same way the HTTP server does (1 ms sleeps, far below a
/// token's time), so no cooperative thread ever blocks on the queue.
///
/// Backpressure comes from the stream: with `capacity` chunks queued its
/// worker sleeps until one is taken. Cancelling the awaiting task, or
/// dropping the bridge, cancels the generation and waits for the worker, so
/// the context is free again afterwards.
final class GenerationBridge: Sendable {
    private let context: Context
    private let prompt: GenerationPrompt
    private let params: GenerationParams
    private let capacity: Int
    private let stream = Locked<GenerationStream?>(nil)

    init(context: Context, prompt: GenerationPrompt, params: GenerationParams, capacity: Int) {
        self.context = context
        self.prompt = prompt
        self.params = params
        self.capacity = capacity
    }

    deinit {
        stream.withLock { stream in
            stream?.cancel()
            stream?.join()
        }
    }

    /// The stream, started on first use.
    private func started() throws(BitNetError) -> GenerationStream {
        try stream.withLock { (stream: inout GenerationStream?) throws(BitNetError) -> GenerationStream in
            if let stream { return stream }
            let generator = try Generator(context: context, prompt: prompt, params: params)
            let started = try GenerationStream(generator: generator, capacity: capacity)
            stream = started
            return started
        }
    }

    /// The next chunk, or nil when the generation ended normally.
    func next() async throws(BitNetError) -> GenerationChunk? {
        if Task.isCancelled {
            cancel()
            throw BitNetError(.cancelled, "generation cancelled")
        }
        let stream = try started()
        let outcome: Result<GenerationChunk?, BitNetError> = await withTaskCancellationHandler {
            while true {
                do throws(BitNetError) {
                    return .success(try stream.next(timeoutMilliseconds: 0))
                } catch where error.status == .timeout {
                    do {
                        try await Task.sleep(for: .milliseconds(1))
                    } catch {
                        return .failure(BitNetError(.cancelled, "generation cancelled"))
                    }
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            stream.cancel()
        }
        return try outcome.get()
    }

    /// Stops the generation (if it started) and waits until its worker let go of the context.
    func cancel() {
        let running = stream.withLock { $0 }
        running?.cancel()
        running?.join()
    }

    /// The counters of the generation so far (final after `next()` returned nil).
    var stats: GenerationStats { stream.withLock { $0?.stats } ?? GenerationStats() }
}
