#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` on a new detached thread; returns false, running nothing,
/// when the system gives no thread. pthreads, not Dispatch: the core links
/// neither Foundation nor Dispatch.
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let job = Unmanaged.passRetained(ThreadJob(body)).toOpaque()
    // The handle is an integer on Glibc, an optional pointer on Darwin.
    #if canImport(Darwin)
    var thread: pthread_t?
    #else
    var thread = pthread_t()
    #endif
    let created = pthread_create(&thread, nil, { argument in
        let argument: UnsafeMutableRawPointer? = argument  // optional in Glibc's signature, maybe not in Darwin's
        guard let argument else { return nil }
        Unmanaged<ThreadJob>.fromOpaque(argument).takeRetainedValue().run()
        return nil
    }, job)
    guard created == 0 else {
        Unmanaged<ThreadJob>.fromOpaque(job).release()
        return false
    }
    #if canImport(Darwin)
    if let thread { pthread_detach(thread) }
    #else
    pthread_detach(thread)
    #endif
    return true
}

/// The closure a new thread runs, boxed so it can travel as a raw pointer.
private final class ThreadJob: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
