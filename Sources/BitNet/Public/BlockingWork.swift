import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking work (a model load: seconds of file reads and weight
/// repacking) on a thread of its own and awaits its result, so no thread of
/// Swift's cooperative pool is held while it runs.
///
/// A pthread rather than Dispatch: the core links neither Foundation nor
/// Dispatch (the same rule `GenerationStream` follows).
func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let job = Unmanaged.passRetained(ThreadJob { continuation.resume(returning: body()) })
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let rc = pthread_create(&thread, nil, { argument in
            let argument: UnsafeMutableRawPointer? = argument  // optional in Glibc's signature, maybe not in Darwin's
            guard let argument else { return nil }
            Unmanaged<ThreadJob>.fromOpaque(argument).takeRetainedValue().run()
            return nil
        }, job.toOpaque())
        if rc == 0 {
            #if canImport(Darwin)
            if let thread { pthread_detach(thread) }
            #else
            pthread_detach(thread)
            #endif
        } else {
            // No thread to be had: do the work here rather than fail the call.
            job.takeRetainedValue().run()
        }
    }
}

/// The closure a new thread runs, boxed so it can travel as a raw pointer.
private final class ThreadJob: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// A flag one thread raises and another polls (task cancellation → a load's progress callback).
final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
