#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value only reached under a pthread mutex: the project's one mutual
/// exclusion type for state several threads share (conditions that wait,
/// as in the thread pool, the step scheduler and streams, keep their own
/// mutex beside their `pthread_cond_t`).
///
/// Why not `Synchronization.Mutex`: on Linux it locks with raw futex system
/// calls, which ThreadSanitizer does not model, so every access made under
/// it looks unsynchronised and `make sanitize` had to suppress each type
/// that used one, hiding real races there too. A pthread mutex is
/// intercepted, so the code it guards is checked like the rest.
///
/// Values go in and come out only inside `withLock`, so the type is
/// `Sendable` whatever `Value` is, as `Mutex` is (which checks that with
/// `sending`; here it is the callers' contract: nothing reached inside may
/// be kept and used outside without its own synchronisation).
package final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The value lives outside the object, behind a pointer: a stored
    /// property would be reached through Swift's exclusivity tracking, and a
    /// zero-sized one (`Locked(())`, a plain lock) shares its address with
    /// `mutex`, so TSan paired the lock-free read of `mutex` in one thread
    /// with another's `inout` access of the value and reported a race.
    private let storage = UnsafeMutablePointer<Value>.allocate(capacity: 1)

    package init(_ value: Value) {
        storage.initialize(to: value)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// Runs `body` on the value with the lock held. Not reentrant: calling
    /// `withLock` of the same instance inside `body` deadlocks.
    package func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }
}
