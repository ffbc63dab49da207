#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Condition variables whose waits end at a deadline (`pthread_cond_timedwait`).
/// On Linux the deadline is on CLOCK_MONOTONIC, so a change of the wall clock
/// cannot stretch or cut a wait; Darwin has no `pthread_condattr_setclock`,
/// so there conditions use the default realtime clock and deadlines follow it.
enum TimedCondition {
    /// Initializes `condition` for deadlines from `deadline(afterNanoseconds:)`.
    static func initialize(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        #if canImport(Glibc)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        #else
        pthread_cond_init(condition, nil)
        #endif
    }

    /// The absolute time `nanoseconds` from now, on the conditions' clock.
    static func deadline(afterNanoseconds nanoseconds: Int) -> timespec {
        var now = timespec()
        #if canImport(Glibc)
        clock_gettime(CLOCK_MONOTONIC, &now)
        #else
        clock_gettime(CLOCK_REALTIME, &now)
        #endif
        let total = Int(now.tv_nsec) + nanoseconds % 1_000_000_000
        now.tv_sec += nanoseconds / 1_000_000_000 + total / 1_000_000_000
        now.tv_nsec = total % 1_000_000_000
        return now
    }
}
