#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A malloc'd NUL-terminated copy of `text` that lives until freed (or forever).
func strdupOrEmpty(_ text: String) -> UnsafeMutablePointer<CChar> {
    let copy = text.withCString { strdup($0) }
    return copy ?? strdup("")!  // strdup("") can only fail when the process has no memory at all
}

/// Decodes a caller's UTF-8 bytes, rejecting invalid sequences instead of repairing them.
func decodeUTF8(_ pointer: UnsafePointer<CChar>, count: Int) -> String? {
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: count)
    return String(validating: bytes, as: UTF8.self)
}
