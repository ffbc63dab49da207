#if DEBUG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Debug builds only: which way the float helpers dispatched
/// (`KernelSet.hasFloatSIMD`), counted per thread while `counting` runs on
/// it. Lets a test prove that a context's kernel set reaches every helper of
/// its forward pass (a single-threaded context runs the whole pass on the
/// caller's thread, so other tests running in parallel do not disturb the
/// counts). Release builds have neither the trace nor its cost.
package enum HelperTrace {
    package struct Counts: Equatable, Sendable {
        /// Helper calls that took the vector (AVX2 / NEON) loop.
        package var vector = 0
        /// Helper calls that took the plain Swift reference twin.
        package var reference = 0
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "HelperTrace: no thread-specific key")
        return key
    }()

    /// Runs `body` and returns the helper dispatches it made on this thread.
    package static func counting<E: Error>(_ body: () throws(E) -> Void) throws(E) -> Counts {
        let counts = UnsafeMutablePointer<Counts>.allocate(capacity: 1)
        counts.initialize(to: Counts())
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, counts)
        defer {
            pthread_setspecific(key, previous)
            counts.deallocate()
        }
        try body()
        return counts.pointee
    }

    @inline(__always)
    static func note(vector: Bool) {
        guard let raw = pthread_getspecific(key) else { return }
        let counts = raw.assumingMemoryBound(to: Counts.self)
        if vector { counts.pointee.vector += 1 } else { counts.pointee.reference += 1 }
    }
}
#endif
