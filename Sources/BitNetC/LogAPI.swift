import BitNet
import CBitNetAPI

/// The C callback and its user data, captured as plain bits so the Swift
/// closure is Sendable; the caller promised the callback is thread-safe.
private struct CLogTarget: @unchecked Sendable {
    let fn: bitnet_log_fn
    let userData: UnsafeMutableRawPointer?
}

@c @implementation
public func bitnet_set_log_callback(_ fn: bitnet_log_fn?, _ userData: UnsafeMutableRawPointer?, _ maxLevel: Int32) -> Int32 {
    guard let level = Log.Level(rawValue: maxLevel) else {
        return fail(.invalidArgument, "bitnet_set_log_callback: max_level \(maxLevel) is outside BITNET_LOG_ERROR..BITNET_LOG_DEBUG")
    }
    guard let fn else {
        Log.setSink(nil, maxLevel: .error)
        return Status.ok.rawValue
    }
    let target = CLogTarget(fn: fn, userData: userData)
    Log.setSink({ level, message in
        message.withCString { target.fn(level.rawValue, $0, target.userData) }
    }, maxLevel: level)
    return Status.ok.rawValue
}
