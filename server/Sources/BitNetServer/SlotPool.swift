import BitNet

/// `--parallel N` generation slots (one context of the shared model each)
/// and a queue of at most `--queue` requests waiting for one.
///
/// With more than one slot the contexts share a `Batch` (ServeCommand), so
/// their steps run as one forward pass; this pool only hands the contexts
/// out. A context keeps its tokens between requests, and free slots go out
/// last freed first, so a client's follow-up turn that gets its slot back
/// reuses the prefix it shares with the last prompt.
actor SlotPool {
    private var free: [Context]
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Context, Error>)] = []
    private var nextWaiter: UInt64 = 0
    private let queueLimit: Int
    private let metrics: Metrics
    private var streams: [UInt64: GenerationStream] = [:]
    private var nextStream: UInt64 = 0
    private(set) var isShuttingDown = false

    init(contexts: [Context], queueLimit: Int, metrics: Metrics) {
        free = contexts
        self.queueLimit = queueLimit
        self.metrics = metrics
    }

    /// A free context, waiting in the queue if there is room in it.
    func acquire() async throws -> Context {
        if isShuttingDown { throw Self.shuttingDown }
        if let context = free.popLast() { return context }
        guard waiters.count < queueLimit else {
            var error = APIError(status: .tooManyRequests,
                                 message: "all \(metrics.slots) generation slots are busy and the queue is full; retry later",
                                 type: "rate_limit_error", param: nil, code: "rate_limit_exceeded")
            error.headers[.retryAfter] = "1"
            throw error
        }
        nextWaiter += 1
        let id = nextWaiter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
                metrics.queueDepth(waiters.count)
            }
        } onCancel: {
            Task { await self.leaveQueue(id) }
        }
    }

    private func leaveQueue(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        metrics.queueDepth(waiters.count)
    }

    /// Hands the context to the first waiter, or back to the free list.
    func release(_ context: Context) {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            metrics.queueDepth(waiters.count)
            waiter.continuation.resume(returning: context)
        } else {
            free.append(context)
        }
    }

    /// Streams in flight, so a shutdown can cancel them.
    func register(_ stream: GenerationStream) -> UInt64 {
        nextStream += 1
        streams[nextStream] = stream
        if isShuttingDown { stream.cancel() }
        return nextStream
    }

    func unregister(_ id: UInt64) { streams[id] = nil }

    /// SIGINT/SIGTERM: refuse new work, empty the queue, cancel every generation.
    func shutDown() {
        isShuttingDown = true
        for waiter in waiters { waiter.continuation.resume(throwing: Self.shuttingDown) }
        waiters.removeAll()
        metrics.queueDepth(0)
        for stream in streams.values { stream.cancel() }
    }

    static let shuttingDown = APIError(status: .serviceUnavailable, message: "the server is shutting down",
                                       type: "server_error", param: nil, code: "shutting_down")
}
