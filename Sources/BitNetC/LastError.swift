import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The thread-local message behind `bitnet_last_error()`.
///
/// Each thread gets its own malloc'd buffer through a pthread key (Swift has
/// no thread-local storage of its own); the key's destructor frees it when the
/// thread exits.
enum LastError {
    static let capacity = 1024

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { buffer in free(buffer) }
        precondition(rc == 0, "pthread_key_create failed")  // only fails when the process is out of keys
        return key
    }()

    /// The current thread's buffer, created on first use; nil if malloc fails.
    private static func buffer(create: Bool) -> UnsafeMutablePointer<CChar>? {
        if let existing = pthread_getspecific(key) {
            return existing.assumingMemoryBound(to: CChar.self)
        }
        guard create, let raw = calloc(capacity, 1) else { return nil }
        pthread_setspecific(key, raw)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// Stores `message`, truncated at a UTF-8 character boundary to fit.
    static func set(_ message: String) {
        guard let buffer = buffer(create: true) else { return }
        var utf8 = Array(message.utf8.prefix(capacity - 1))
        if utf8.count == capacity - 1 {
            // Drop a trailing partial code point left by the cut.
            while let last = utf8.last, last & 0xC0 == 0x80 { utf8.removeLast() }
            if let last = utf8.last, last >= 0xC0 { utf8.removeLast() }
        }
        utf8.withUnsafeBufferPointer { bytes in
            for (i, byte) in bytes.enumerated() { buffer[i] = CChar(bitPattern: byte) }
        }
        buffer[utf8.count] = 0
    }

    static let empty: StaticString = ""

    static var current: UnsafePointer<CChar> {
        if let buffer = buffer(create: false) { return UnsafePointer(buffer) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Records a failure for `bitnet_last_error()` and returns its status code.
@discardableResult
func fail(_ status: Status, _ message: String) -> Int32 {
    LastError.set(message)
    Log.debug("\(status.staticDescription): \(message)")
    return status.rawValue
}

@discardableResult
func fail(_ error: BitNetError) -> Int32 { fail(error.status, error.message) }

/// Runs the body of a C entry point: a thrown `BitNetError` becomes its status
/// code plus the thread's last-error message.
func withStatus(_ body: () throws(BitNetError) -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        return fail(error)
    }
}

/// Throws `BITNET_E_INVALID_ARGUMENT` naming the NULL argument.
func require<T>(_ pointer: T?, _ name: StaticString, in function: StaticString) throws(BitNetError) -> T {
    guard let pointer else { throw .invalidArgument("\(function): \(name) must not be NULL") }
    return pointer
}
