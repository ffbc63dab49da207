/// Mirror of the C status codes in `include/bitnet.h`.
///
/// A `RawRepresentable` struct rather than an enum so that any code, even one
/// this build does not know, round-trips unchanged.
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C API's `BITNET_*` code.
    public var rawValue: Int32
    /// The status with C code `rawValue` (any value, known or not).
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Success.
    public static let ok = Status(rawValue: 0)
    /// A push-mode generation was paused by its callback (C API).
    public static let paused = Status(rawValue: 1)
    /// A pull-mode stream has no more chunks (C API).
    public static let done = Status(rawValue: 2)
    /// An argument was out of range or inconsistent.
    public static let invalidArgument = Status(rawValue: -1)
    /// A file could not be read or written; the message has the path and the system's reason.
    public static let io = Status(rawValue: -2)
    /// A file is malformed (not GGUF, damaged, or inconsistent).
    public static let format = Status(rawValue: -3)
    /// An architecture, tensor type or feature this engine does not run.
    public static let unsupported = Status(rawValue: -4)
    /// Memory (or a thread) could not be had.
    public static let outOfMemory = Status(rawValue: -5)
    /// The context has no room for more tokens.
    public static let contextFull = Status(rawValue: -6)
    /// Another thread, or the running call, is using the context.
    public static let busy = Status(rawValue: -7)
    /// The operation was cancelled (a task, a callback or `interrupt()`).
    public static let cancelled = Status(rawValue: -8)
    /// Saved state belongs to another model or other context settings.
    public static let stateMismatch = Status(rawValue: -9)
    /// Nothing arrived within the time given.
    public static let timeout = Status(rawValue: -10)
    /// An output buffer was too small (C API).
    public static let bufferTooSmall = Status(rawValue: -11)
    /// A bug: an invariant of the engine did not hold.
    public static let `internal` = Status(rawValue: -12)

    /// Static text for `bitnet_status_string`; a `StaticString` so its bytes
    /// live for the whole process and can be handed to C as they are.
    public var staticDescription: StaticString {
        switch rawValue {
        case 0: return "BITNET_OK: success"
        case 1: return "BITNET_PAUSED: generation paused by its callback"
        case 2: return "BITNET_DONE: stream finished"
        case -1: return "BITNET_E_INVALID_ARGUMENT: invalid argument"
        case -2: return "BITNET_E_IO: input/output error"
        case -3: return "BITNET_E_FORMAT: malformed file"
        case -4: return "BITNET_E_UNSUPPORTED: unsupported feature"
        case -5: return "BITNET_E_OUT_OF_MEMORY: out of memory"
        case -6: return "BITNET_E_CONTEXT_FULL: context is full"
        case -7: return "BITNET_E_BUSY: object is busy"
        case -8: return "BITNET_E_CANCELLED: operation cancelled"
        case -9: return "BITNET_E_STATE_MISMATCH: state does not match this model"
        case -10: return "BITNET_E_TIMEOUT: timed out"
        case -11: return "BITNET_E_BUFFER_TOO_SMALL: buffer too small"
        case -12: return "BITNET_E_INTERNAL: internal error"
        default: return "unknown status"
        }
    }

    /// The C name and a short explanation, e.g. `BITNET_E_IO: input/output error`.
    public var description: String { staticDescription.description }
}

/// The one error type of the core: a status plus a message for `bitnet_last_error`.
public struct BitNetError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; switch on it.
    public var status: Status
    /// What went wrong, for people (paths, sizes, the system's reason).
    public var message: String

    /// An error of kind `status` explained by `message`.
    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The message.
    public var description: String { message }

    package static func invalidArgument(_ message: String) -> BitNetError { .init(.invalidArgument, message) }
    package static func format(_ message: String) -> BitNetError { .init(.format, message) }
    package static func io(_ message: String) -> BitNetError { .init(.io, message) }
    package static func unsupported(_ message: String) -> BitNetError { .init(.unsupported, message) }
    package static func outOfMemory(_ message: String) -> BitNetError { .init(.outOfMemory, message) }
}
