/// Mirror of the C status codes in `include/bitnet.h`.
///
/// A `RawRepresentable` struct rather than an enum so that any code, even one
/// this build does not know, round-trips unchanged.
public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = Status(rawValue: 0)
    public static let paused = Status(rawValue: 1)
    public static let done = Status(rawValue: 2)
    public static let invalidArgument = Status(rawValue: -1)
    public static let io = Status(rawValue: -2)
    public static let format = Status(rawValue: -3)
    public static let unsupported = Status(rawValue: -4)
    public static let outOfMemory = Status(rawValue: -5)
    public static let contextFull = Status(rawValue: -6)
    public static let busy = Status(rawValue: -7)
    public static let cancelled = Status(rawValue: -8)
    public static let stateMismatch = Status(rawValue: -9)
    public static let timeout = Status(rawValue: -10)
    public static let bufferTooSmall = Status(rawValue: -11)
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

    public var description: String { staticDescription.description }
}

/// The one error type of the core: a status plus a message for `bitnet_last_error`.
public struct BitNetError: Error, CustomStringConvertible, Sendable {
    public var status: Status
    public var message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    public static func invalidArgument(_ message: String) -> BitNetError { .init(.invalidArgument, message) }
    public static func format(_ message: String) -> BitNetError { .init(.format, message) }
    public static func io(_ message: String) -> BitNetError { .init(.io, message) }
    public static func unsupported(_ message: String) -> BitNetError { .init(.unsupported, message) }
    public static func outOfMemory(_ message: String) -> BitNetError { .init(.outOfMemory, message) }
}
