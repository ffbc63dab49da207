import CBitNetKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of persistent worker threads for data-parallel loops.
///
/// `parallelFor(n) { i in ... }` runs the body once for every i in 0..<n,
/// spread over the workers and the calling thread (which works too), and
/// returns when all n calls have finished.
///
/// Why it is built this way (docs/ARCHITECTURE.md §5 "Threading"): a
/// 2560×6912 matvec takes ~60 µs, so waking threads through the kernel for
/// each of the ~200 products of a token costs too much; idle workers
/// therefore spin briefly (`pause`) and only then sleep on a condition
/// variable. The spin is bounded because an unbounded one collapses when
/// another process holds a core. Workers are pinned to CPUs (best effort) so
/// their caches stay warm.
///
/// How work is claimed: one atomic word holds (job generation, indices left).
/// A thread claims an index with a compare-and-swap that also checks the
/// generation, so a worker that wakes late can never take part in a job that
/// already finished or read the next job's body early. The caller waits only
/// for the n indices to complete, never for a descheduled worker.
///
/// Reentrancy: a `parallelFor` issued while the pool is busy (from a body, or
/// from another thread) runs serially on its calling thread.
package final class ThreadPool: @unchecked Sendable {
    /// Threads that execute a loop, the caller included.
    package let threadCount: Int
    /// `pause` iterations before an idle thread sleeps.
    let spinIterations: Int

    /// (generation << 32) | indices not yet claimed.
    private let claimWord = Atomic<UInt64>(0)
    /// Claimed indices whose body has not returned yet, plus unclaimed ones.
    private let pending = Atomic<Int>(0)
    private let sleepingWorkers = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    /// The current job's body; written before the generation is published,
    /// read only by threads that claimed an index of that generation.
    private var body: UnsafeRawPointer?

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workAvailable: UnsafeMutablePointer<pthread_cond_t>
    private let jobFinished: UnsafeMutablePointer<pthread_cond_t>
    private var threads: [JoinableThread] = []

    /// Online CPUs (at least 1).
    package static var defaultThreadCount: Int {
        Swift.max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// - Parameters:
    ///   - threadCount: threads including the caller; default = online CPUs.
    ///   - pinToCPUs: pin worker i to CPU i (the caller keeps CPU 0's share).
    ///   - spinIterations: bounded spin before sleeping. The default is
    ///     ≈ 180 µs where `pause` takes 11 ns (the AVX-512 guest) and longer
    ///     where it takes ~40 ns: long enough to cover the wait of a thread
    ///     whose last attention item at a 1–2k context ended ~100–200 µs
    ///     before the other's (4000, ≈ 45 µs, let it fall asleep and pay a
    ///     futex wake-up per layer: tg32 at depth 1024 +3%, at 2048 within
    ///     the host's drift), still far below a scheduler time slice.
    package init(threadCount: Int = ThreadPool.defaultThreadCount, pinToCPUs: Bool = true,
                spinIterations: Int = 16000) throws(BitNetError) {
        guard threadCount >= 1, threadCount <= 1024 else {
            throw .invalidArgument("thread pool: thread count \(threadCount) out of range 1...1024")
        }
        self.threadCount = threadCount
        self.spinIterations = Swift.max(0, spinIterations)
        mutex = .allocate(capacity: 1)
        workAvailable = .allocate(capacity: 1)
        jobFinished = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(jobFinished, nil)

        let cpus = ThreadPool.defaultThreadCount
        for worker in 1..<threadCount {
            let cpu = pinToCPUs ? worker % cpus : -1
            // No strong reference from the worker, not even for the call
            // (hence _withUnsafeGuaranteedRef): one held for the whole loop
            // kept the pool (and its threads) alive after its context was
            // freed. The pool's deinit joins this thread before its memory goes
            // away (also after a throw below, which leaves the pool initialized).
            let pool = Unmanaged.passUnretained(self)
            threads.append(try JoinableThread.start("a thread pool worker") {
                if cpu >= 0 { _ = bnk_pin_current_thread(Int32(cpu)) }
                pool._withUnsafeGuaranteedRef { $0.workerLoop() }
            })
        }
    }

    deinit {
        shutDown()
        pthread_cond_destroy(jobFinished)
        pthread_cond_destroy(workAvailable)
        pthread_mutex_destroy(mutex)
        jobFinished.deallocate()
        workAvailable.deallocate()
        mutex.deallocate()
    }

    private func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(workAvailable)
        pthread_mutex_unlock(mutex)
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    // MARK: - Running loops

    /// Calls `body(i)` for every i in 0..<n, in parallel; returns when all
    /// calls have returned. Indices are handed out one at a time, so give each
    /// a sizeable chunk of work (e.g. a row range per index).
    package func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        guard n > 0 else { return }
        guard threadCount > 1, n > 1, n < Int(UInt32.max),
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { bodyPointer in
                run(n, UnsafeRawPointer(bodyPointer))
            }
        }
        busy.store(false, ordering: .releasing)
    }

    /// `pool.parallelFor(n, body)`, or a plain loop on this thread without a pool.
    package static func parallelFor(_ n: Int, on pool: ThreadPool?, _ body: (Int) -> Void) {
        if let pool { pool.parallelFor(n, body) } else { for i in 0..<n { body(i) } }
    }

    private func run(_ n: Int, _ bodyPointer: UnsafeRawPointer) {
        // Every index of the previous job has completed, so no thread reads
        // `body` now and no claim of the old generation can succeed.
        let generation = (claimWord.load(ordering: .relaxed) >> 32) &+ 1
        body = bodyPointer
        pending.store(n, ordering: .relaxed)
        claimWord.store(generation << 32 | UInt64(n), ordering: .sequentiallyConsistent)
        if sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(workAvailable)
            pthread_mutex_unlock(mutex)
        }
        work(generation: UInt32(truncatingIfNeeded: generation))
        waitForCompletion()
        body = nil
    }

    /// Claims and runs indices of `generation` until none are left.
    private func work(generation: UInt32) {
        var word = claimWord.load(ordering: .acquiring)
        while UInt32(truncatingIfNeeded: word >> 32) == generation, word & 0xFFFF_FFFF != 0 {
            let (exchanged, current) = claimWord.compareExchange(
                expected: word, desired: word - 1, ordering: .acquiringAndReleasing)
            guard exchanged else {
                word = current
                continue
            }
            let n = Int(word & 0xFFFF_FFFF)
            let index = n - 1  // indices are handed out from the top
            body.unsafelyUnwrapped.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
               callerSleeping.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(jobFinished)
                pthread_mutex_unlock(mutex)
            }
            word = claimWord.load(ordering: .acquiring)
        }
    }

    private func waitForCompletion() {
        var spins = 0
        while pending.load(ordering: .acquiring) != 0 {
            if spins < spinIterations {
                bnk_cpu_relax()
                spins += 1
                continue
            }
            pthread_mutex_lock(mutex)
            callerSleeping.store(true, ordering: .sequentiallyConsistent)
            while pending.load(ordering: .sequentiallyConsistent) != 0 {
                pthread_cond_wait(jobFinished, mutex)
            }
            callerSleeping.store(false, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
        }
    }

    // MARK: - Workers

    private func workerLoop() {
        var seen = UInt32(truncatingIfNeeded: claimWord.load(ordering: .acquiring) >> 32)
        while true {
            var spins = 0
            var generation = seen
            while true {
                if stopping.load(ordering: .relaxed) { return }
                generation = UInt32(truncatingIfNeeded: claimWord.load(ordering: .acquiring) >> 32)
                if generation != seen { break }
                if spins < spinIterations {
                    bnk_cpu_relax()
                    spins += 1
                    continue
                }
                pthread_mutex_lock(mutex)
                sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
                while UInt32(truncatingIfNeeded: claimWord.load(ordering: .sequentiallyConsistent) >> 32) == seen,
                      !stopping.load(ordering: .sequentiallyConsistent) {
                    pthread_cond_wait(workAvailable, mutex)
                }
                sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                spins = 0
            }
            seen = generation
            work(generation: generation)
        }
    }
}
