import BitNet
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells use.
let interruptedExitCode: Int32 = 130

/// Ctrl-C asks the running work to stop instead of ending the process: the
/// handler raises a flag (checked by loading, prompt evaluation and between
/// tokens through `isRequested`) and interrupts the current context, which
/// stops even a long evaluation between layers (`Context.interrupt`).
///
/// The handler only does atomic loads and stores, which are async-signal-
/// safe; `install` touches both globals first so the handler never runs
/// their lazy initialisation.
enum InterruptOnSIGINT {
    private static let requested = Atomic<Bool>(false)
    /// The Context to interrupt, as an unmanaged reference's bits (0 = none).
    private static let target = Atomic<UInt>(0)

    /// Routes Ctrl-C to the flag (and, after `setContext`, to a context).
    static func install() {
        requested.store(false, ordering: .relaxed)
        target.store(0, ordering: .relaxed)
        var action = sigaction()
        let handler: @convention(c) (Int32) -> Void = { _ in
            InterruptOnSIGINT.requested.store(true, ordering: .relaxed)
            let bits = InterruptOnSIGINT.target.load(ordering: .acquiring)
            if bits != 0, let pointer = UnsafeRawPointer(bitPattern: bits) {
                Unmanaged<Context>.fromOpaque(pointer).takeUnretainedValue().interrupt()
            }
        }
        // The C libraries name the handler's union differently.
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handler
        #else
        action.__sigaction_u.__sa_handler = handler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART  // a Ctrl-C at the chat's input prompt does not end the read
        sigaction(SIGINT, &action, nil)
    }

    /// Makes Ctrl-C interrupt `context` too; kept alive for the rest of the process.
    static func setContext(_ context: Context) {
        let pointer = Unmanaged.passRetained(context).toOpaque()
        target.store(UInt(bitPattern: pointer), ordering: .releasing)
    }

    /// Whether Ctrl-C was pressed since the last `reset`.
    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// Forgets an earlier Ctrl-C (the chat starts a new answer).
    static func reset() { requested.store(false, ordering: .relaxed) }
}
