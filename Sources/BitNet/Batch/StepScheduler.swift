#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The step loop of a `Batch`: contexts' threads submit segments (a decode
/// token, a prompt chunk) and sleep; one thread gathers what is pending, runs
/// it as one forward pass on the batch's pool and wakes the submitters.
///
/// Gathering: after a step, the sequences that took part usually come back
/// within a sampling step's time, so the next step waits — at most
/// `gatherWindow(after:)` — until each of them has submitted again; one that
/// paused, finished or was cancelled costs the others that window once, then
/// it is no longer expected. A context's interrupt withdraws its pending
/// segment at once.
///
/// Selection: every pending single-token segment (decode), then prompt chunks
/// in arrival order while rows remain. The rows are sized so that all members'
/// decode tokens and one prompt chunk always fit.
final class StepScheduler: @unchecked Sendable {
    /// How long a step waits for the previous step's sequences to come back:
    /// an eighth of the last step, from 2 to 10 ms. A sequence that misses a
    /// step waits a whole step, so a wait proportional to the step pays: 8
    /// sampling streams on 2 cores came back in about 2 ms, and with a fixed
    /// 2 ms window a 2B4T server step held 5.9 of its 8 sequences on
    /// average (100 t/s through `bitnet serve`); with 7.5 ms, 7.2–7.6 (114
    /// t/s). Sequences that pause, finish or are cancelled say so
    /// (`forget`), so only a silent caller costs the window, once.
    static func gatherWindow(after step: Duration) -> Duration {
        min(max(step / 8, .milliseconds(2)), .milliseconds(10))
    }

    /// The duration of the last step (step thread only).
    private var lastStep: Duration = .zero

    final class Request {
        let context: ObjectIdentifier
        let segment: SequenceSegment
        var isDone = false

        init(context: ObjectIdentifier, segment: SequenceSegment) {
            self.context = context
            self.segment = segment
        }
    }

    private let forward: ForwardPass
    private let pool: ThreadPool
    private let rows: Int

    // Guarded by `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workArrived: UnsafeMutablePointer<pthread_cond_t>  // the step thread waits
    private let stepDone: UnsafeMutablePointer<pthread_cond_t>     // submitters wait
    private var pending: [Request] = []
    /// Sequences of the last step not yet back with new work.
    private var expected: Set<ObjectIdentifier> = []
    private var stopping = false
    private var counters = BatchStatistics()
    private var thread: JoinableThread?
    private let clock = ContinuousClock()

    init(hparams: HyperParameters, weights: ModelWeights, threads: Int, rows: Int,
         kernels: KernelSet) throws(BitNetError) {
        pool = try ThreadPool(threadCount: threads)
        forward = try ForwardPass(hparams: hparams, weights: weights, pool: pool, batchSize: rows, kernels: kernels)
        self.rows = rows
        mutex = .allocate(capacity: 1)
        workArrived = .allocate(capacity: 1)
        stepDone = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        TimedCondition.initialize(workArrived)
        TimedCondition.initialize(stepDone)

        // The step thread holds no strong reference, not even for the call
        // (deinit joins it first). A throw here leaves the object fully
        // initialized, so deinit runs and frees the synchronization (with no
        // thread to join).
        let scheduler = Unmanaged.passUnretained(self)
        thread = try JoinableThread.start("the batch's step thread") {
            scheduler._withUnsafeGuaranteedRef { $0.loop() }
        }
    }

    deinit {
        lock()
        stopping = true
        pthread_cond_broadcast(workArrived)
        unlock()
        thread?.join()
        pthread_cond_destroy(workArrived)
        pthread_cond_destroy(stepDone)
        pthread_mutex_destroy(mutex)
        workArrived.deallocate()
        stepDone.deallocate()
        mutex.deallocate()
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    var threadCount: Int { pool.threadCount }

    var statistics: BatchStatistics {
        lock()
        defer { unlock() }
        return counters
    }

    // MARK: - Submitters

    /// Runs `segment` in the next step that has room and returns when it is
    /// done. Throws BITNET_E_CANCELLED when `isInterrupted` turns true while it
    /// still waits (nothing of it was computed then).
    func evaluate(_ segment: SequenceSegment, for context: ObjectIdentifier,
                  isInterrupted: () -> Bool) throws(BitNetError) {
        precondition(segment.tokens.count <= rows, "batch: a segment larger than a step")
        let request = Request(context: context, segment: segment)
        lock()
        defer { unlock() }
        if isInterrupted() { throw BitNetError(.cancelled, "interrupted") }
        pending.append(request)
        pthread_cond_signal(workArrived)
        while !request.isDone {
            if isInterrupted(), let index = pending.firstIndex(where: { $0 === request }) {
                pending.remove(at: index)
                expected.remove(context)
                pthread_cond_signal(workArrived)
                throw BitNetError(.cancelled, "interrupted")
            }
            pthread_cond_wait(stepDone, mutex)
        }
    }

    /// Wakes submitters so they look at their interrupt flags.
    func wake() {
        lock()
        pthread_cond_broadcast(stepDone)
        unlock()
    }

    /// `context` will not submit for a while (paused, finished, gone): the
    /// next step does not wait for it.
    func forget(_ context: ObjectIdentifier) {
        lock()
        if expected.remove(context) != nil { pthread_cond_signal(workArrived) }
        unlock()
    }

    // MARK: - The step thread

    private func loop() {
        lock()
        while true {
            while pending.isEmpty && !stopping { pthread_cond_wait(workArrived, mutex) }
            if stopping { break }
            gather()
            let step = select()
            unlock()
            let started = clock.now
            // Never interrupted midway: an interrupt of one sequence must not
            // cost the others their step (it takes effect between steps).
            try? forward.run(step.map(\.segment), isInterrupted: { false })
            let elapsed = clock.now - started
            lastStep = elapsed
            lock()
            for request in step { request.isDone = true }
            expected = Set(step.map(\.context))
            counters.steps += 1
            counters.lastStepSequences = step.count
            counters.segments += UInt64(step.count)
            counters.tokens += UInt64(step.reduce(0) { $0 + $1.segment.tokens.count })
            counters.busySeconds += Double(elapsed.components.seconds)
                + Double(elapsed.components.attoseconds) * 1e-18
            pthread_cond_broadcast(stepDone)
        }
        unlock()
    }

    /// Waits (lock held) until the last step's sequences have all submitted
    /// again, or the gathering window has passed.
    private func gather() {
        let window = Self.gatherWindow(after: lastStep).components
        var deadline = TimedCondition.deadline(
            afterNanoseconds: Int(window.seconds) * 1_000_000_000 + Int(window.attoseconds / 1_000_000_000))
        while !stopping {
            let waiting = expected.subtracting(pending.map(\.context))
            if waiting.isEmpty { return }
            if pthread_cond_timedwait(workArrived, mutex, &deadline) == ETIMEDOUT { return }
        }
    }

    /// Takes this step's requests out of `pending` (lock held).
    private func select() -> [Request] {
        var step: [Request] = []
        var used = 0
        var rest: [Request] = []
        for request in pending where request.segment.tokens.count == 1 {
            step.append(request)
            used += 1
        }
        for request in pending where request.segment.tokens.count > 1 {
            if used + request.segment.tokens.count <= rows {
                step.append(request)
                used += request.segment.tokens.count
            } else {
                rest.append(request)
            }
        }
        pending = rest
        return step
    }
}
