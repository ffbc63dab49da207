#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread its owner joins: the one place that creates pthreads (the core
/// links neither Foundation nor Dispatch) and knows that the handle is an
/// integer on Glibc and a pointer on Darwin.
package struct JoinableThread {
    private let handle: pthread_t

    /// Starts `body` on a new thread. Throws `outOfMemory("cannot start
    /// <what> …")` when the system gives no thread; `body` has not run then.
    package static func start(_ what: String, _ body: @escaping @Sendable () -> Void) throws(BitNetError) -> JoinableThread {
        let job = Unmanaged.passRetained(ThreadJob(body)).toOpaque()
        #if canImport(Darwin)
        var handle: pthread_t?
        #else
        var handle = pthread_t()
        #endif
        let created = pthread_create(&handle, nil, { argument in
            let argument: UnsafeMutableRawPointer? = argument  // optional in Glibc's signature, maybe not in Darwin's
            guard let argument else { return nil }
            Unmanaged<ThreadJob>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, job)
        // The same text on both platforms: `handle` is already optional on Darwin.
        let started: pthread_t? = created == 0 ? handle : nil
        guard let started else {
            Unmanaged<ThreadJob>.fromOpaque(job).release()
            throw .outOfMemory("cannot start \(what) (pthread_create: \(created))")
        }
        return JoinableThread(handle: started)
    }

    /// Waits for the thread to end; called on the thread itself (its owner
    /// released from its own code), detaches it instead, since a thread
    /// cannot join itself (EDEADLK) and it frees itself when it ends.
    package func join() {
        if pthread_equal(handle, pthread_self()) != 0 {
            pthread_detach(handle)
        } else {
            pthread_join(handle, nil)
        }
    }

    /// Lets the thread free itself when it ends; nobody joins it.
    package func detach() {
        pthread_detach(handle)
    }
}

/// Runs `body` on a new detached thread; returns false, running nothing,
/// when the system gives no thread.
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    guard let thread = try? JoinableThread.start("a detached thread", body) else { return false }
    thread.detach()
    return true
}

/// The closure a new thread runs, boxed so it can travel as a raw pointer.
private final class ThreadJob: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
