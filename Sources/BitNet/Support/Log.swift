/// Process-wide logging, silent until a sink is installed (by the C API's
/// `bitnet_set_log_callback` or by the CLI).
package enum Log {
    package enum Level: Int32, Sendable, Comparable {
        case error = 0, warn = 1, info = 2, debug = 3
        package static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    package typealias Sink = @Sendable (Level, String) -> Void

    private struct State: Sendable {
        var sink: Sink?
        var maxLevel: Level = .error
    }
    private static let state = Locked(State())

    /// Installs `sink` for messages at `maxLevel` or more severe; nil silences.
    package static func setSink(_ sink: Sink?, maxLevel: Level) {
        state.withLock { $0 = State(sink: sink, maxLevel: maxLevel) }
    }

    /// Cheap when nobody listens: the message is built only if it will be delivered.
    package static func message(_ level: Level, _ text: @autoclosure () -> String) {
        let sink = state.withLock { s -> Sink? in level <= s.maxLevel ? s.sink : nil }
        sink?(level, text())
    }

    package static func error(_ text: @autoclosure () -> String) { message(.error, text()) }
    package static func warn(_ text: @autoclosure () -> String) { message(.warn, text()) }
    package static func info(_ text: @autoclosure () -> String) { message(.info, text()) }
    package static func debug(_ text: @autoclosure () -> String) { message(.debug, text()) }
}
