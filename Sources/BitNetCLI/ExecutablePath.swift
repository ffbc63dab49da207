#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The folder of the running executable (to find the shipped model and
/// `bitnet-server` next to it), or nil when the system will not say.
/// Linux: the /proc/self/exe link. Darwin: `_NSGetExecutablePath`, resolved
/// with `realpath` (it may name a symlink or a relative path).
func executableDirectory() -> String? {
    #if os(Linux)
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #elseif canImport(Darwin)
    var size = UInt32(4096)
    var buffer = [CChar](repeating: 0, count: Int(size))
    guard _NSGetExecutablePath(&buffer, &size) == 0, let resolved = realpath(buffer, nil) else { return nil }
    defer { free(resolved) }
    let path = String(cString: resolved)
    #else
    return nil
    #endif
    guard let slash = path.lastIndex(of: "/") else { return nil }
    return String(path[..<slash])
}
