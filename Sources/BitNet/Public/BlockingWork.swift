import Synchronization

/// Runs blocking work (a model load: seconds of file reads and weight
/// repacking) on a thread of its own and awaits its result, so no thread of
/// Swift's cooperative pool is held while it runs.
func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let work: @Sendable () -> Void = { continuation.resume(returning: body()) }
        // No thread to be had: do the work here rather than fail the call.
        if !startDetachedThread(work) { work() }
    }
}

/// A flag one thread raises and another polls (task cancellation → a load's progress callback).
final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
