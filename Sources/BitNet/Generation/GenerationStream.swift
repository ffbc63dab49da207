import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pull mode: a worker thread runs a `Generator` into a bounded queue of
/// chunks that a consumer takes with `next(timeoutMilliseconds:)`.
///
/// Backpressure: with `capacity` chunks queued the producer sleeps on a
/// condition variable until the consumer takes one, so it is never more than
/// `capacity` chunks plus the one in its hands ahead. The worker holds the
/// context exclusively (`Context.exclusive`) for the whole generation;
/// `init` returns only once it does (or throws BITNET_E_BUSY), so a caller
/// cannot slip a call in between. pthreads, not Dispatch: the library links
/// no Foundation/Dispatch.
///
/// Lifetime: the worker keeps the stream alive until the generation ends, so
/// drain it or call `cancel()` before dropping it (a producer waiting for
/// room would otherwise wait forever); `join()` waits for the worker.
public final class GenerationStream: @unchecked Sendable {
    public let capacity: Int
    private let generator: Generator
    private let progress: ((Int, Int) -> Bool)?

    // Everything below is guarded by `mutex`, except `cancelRequested`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>  // consumer waits: a chunk or the end arrived
    private let roomFreed: UnsafeMutablePointer<pthread_cond_t>  // producer waits: a chunk was taken
    private var queue: [GenerationChunk] = []
    private var head = 0
    private enum Phase { case starting, running, finished }
    private var phase = Phase.starting
    /// The worker left the generation loop: interrupting the context now could hit someone else's call.
    private var workerDone = false
    private var failure: BitNetError?
    private var snapshot = GenerationStats()
    private var deliveredTokens = 0
    public private(set) var maxTokensAhead = 0
    private var thread: JoinableThread?
    private let cancelRequested = Atomic<Bool>(false)

    /// The one check of a stream's capacity (chunks buffered ahead), which the
    /// C API also runs before it prepares a generation.
    package static func check(capacity: Int) throws(BitNetError) {
        guard capacity >= 1 else { throw .invalidArgument("stream capacity must be at least 1, got \(capacity)") }
        guard capacity <= 1 << 20 else { throw .invalidArgument("stream capacity \(capacity) is absurd (at most 1048576)") }
    }

    /// Starts the worker; returns once it holds the context.
    public init(generator: Generator, capacity: Int,
                progress: ((Int, Int) -> Bool)? = nil) throws(BitNetError) {
        try Self.check(capacity: capacity)
        self.capacity = capacity
        self.generator = generator
        self.progress = progress
        mutex = .allocate(capacity: 1)
        changed = .allocate(capacity: 1)
        roomFreed = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        TimedCondition.initialize(changed)
        TimedCondition.initialize(roomFreed)

        // The worker holds the stream until it ends (so a stream dropped
        // mid-generation is freed by the worker, on its own thread). A throw
        // here leaves the object fully initialized: deinit frees the rest.
        thread = try JoinableThread.start("the stream's thread") { [self] in work() }
        lock()
        while phase == .starting { pthread_cond_wait(changed, mutex) }
        let startFailure = phase == .finished ? failure : nil
        unlock()
        if let startFailure, startFailure.status == .busy {
            join()
            throw startFailure
        }
    }

    deinit {
        // The last reference can be the worker's own, dropped on its thread
        // when nobody joined: JoinableThread.join detaches it then.
        join()
        pthread_cond_destroy(changed)
        pthread_cond_destroy(roomFreed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        roomFreed.deallocate()
        mutex.deallocate()
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    // MARK: - Producer

    private func work() {
        var outcome: BitNetError?
        do {
            try generator.context.exclusive { () throws(BitNetError) in
                lock()
                phase = .running
                pthread_cond_broadcast(changed)
                unlock()
                defer {
                    lock()
                    workerDone = true
                    unlock()
                }
                try produce()
            }
        } catch {
            outcome = error
        }
        lock()
        failure = outcome
        snapshot = generator.stats
        phase = .finished
        pthread_cond_broadcast(changed)
        unlock()
    }

    private func produce() throws(BitNetError) {
        let isCancelled = { self.cancelRequested.load(ordering: .relaxed) }
        try generator.prepare(progress: progress, isCancelled: isCancelled)
        while let chunk = try generator.next(isCancelled: isCancelled) {
            lock()
            snapshot = generator.stats
            maxTokensAhead = max(maxTokensAhead, chunk.generatedCount - deliveredTokens)
            if queue.count - head >= capacity && !isCancelled() {
                generator.context.willIdle()  // a batch's steps go on without this paused sequence
            }
            while queue.count - head >= capacity && !isCancelled() { pthread_cond_wait(roomFreed, mutex) }
            if isCancelled() {
                unlock()
                generator.cancel()
                throw BitNetError(.cancelled, "stream cancelled")
            }
            queue.append(chunk)
            pthread_cond_broadcast(changed)
            unlock()
        }
    }

    // MARK: - Consumer

    /// Hands the next chunk to `take`, which returns false to leave it queued
    /// (e.g. the caller's buffer is too small). Returns nil when the
    /// generation finished normally; throws BITNET_E_TIMEOUT when nothing
    /// arrived in time (timeout < 0 waits forever), or the generation's error.
    public func next(timeoutMilliseconds timeout: Int, take: (GenerationChunk) -> Bool = { _ in true })
        throws(BitNetError) -> GenerationChunk? {
        lock()
        defer { unlock() }
        // Clamped: a huge timeout from a caller must not overflow into a trap.
        var deadline = timeout > 0
            ? TimedCondition.deadline(afterNanoseconds: min(timeout, Int.max / 2_000_000) * 1_000_000) : timespec()
        while head == queue.count && phase != .finished && !cancelRequested.load(ordering: .relaxed) {
            if timeout == 0 { throw BitNetError(.timeout, "no chunk ready yet") }
            if timeout < 0 {
                pthread_cond_wait(changed, mutex)
            } else if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT, head == queue.count,
                      phase != .finished {
                throw BitNetError(.timeout, "no chunk within \(timeout) ms")
            }
        }
        if head < queue.count {
            let chunk = queue[head]
            guard take(chunk) else { return chunk }
            head += 1
            deliveredTokens = chunk.generatedCount
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            pthread_cond_signal(roomFreed)
            return chunk
        }
        if let failure { throw failure }
        if cancelRequested.load(ordering: .relaxed) { throw BitNetError(.cancelled, "stream cancelled") }
        return nil
    }

    /// Stops the producer (waking it if it waits for room) and drops queued
    /// chunks. Any thread.
    public func cancel() {
        cancelRequested.store(true, ordering: .relaxed)
        lock()
        queue.removeAll()
        head = 0
        if !workerDone && phase != .finished {
            generator.context.interrupt()  // stops a long prompt within a layer
        }
        pthread_cond_broadcast(roomFreed)
        pthread_cond_broadcast(changed)
        unlock()
    }

    /// Waits for the worker thread to end (after a cancel: promptly).
    public func join() {
        lock()
        let joinable = thread
        thread = nil
        unlock()
        // From its own progress callback this detaches (JoinableThread.join).
        joinable?.join()
    }

    /// Counters so far (final once `next` returned nil or threw the end).
    public var stats: GenerationStats {
        lock()
        defer { unlock() }
        return snapshot
    }

    public var isFinished: Bool {
        lock()
        defer { unlock() }
        return phase == .finished
    }
}
