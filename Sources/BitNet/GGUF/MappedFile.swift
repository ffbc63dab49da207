#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls MappedFile reads through, replaceable so tests can inject
/// short reads, errors and files that shrink while being read.
struct FileIO: Sendable {
    /// read(2): bytes read, 0 at end of file, -1 with `errno` set.
    var read: @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int

    static let system = FileIO(read: systemRead)
}

/// read(2) from whichever C library the platform has (inside FileIO, its own
/// `read` property would shadow the function).
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// The bytes of a model file, either memory-mapped read-only or read into
/// the heap, released when the last owner goes away.
///
/// The size is taken from `fstat` at open and every parser check is made
/// against it. Remaining risk, which no user-space check can remove: if another
/// process truncates the file *after* it was mapped, touching the lost pages
/// raises SIGBUS. Use `useMmap: false` (a private heap copy) when files may
/// change underneath the process.
final class MappedFile: @unchecked Sendable {
    // @unchecked: the bytes are never written after init, so sharing is safe.
    let bytes: UnsafeRawBufferPointer
    let isMapped: Bool

    /// Opens `path`. With `useMmap` the file is mapped (nothing is read yet);
    /// otherwise it is read in chunks, reporting progress in 0...1 — a `false`
    /// from `progress` stops with `BITNET_E_CANCELLED`. `lock` pins the pages
    /// in RAM (a failure is logged, not fatal: it usually means RLIMIT_MEMLOCK).
    init(path: String, useMmap: Bool, lock: Bool = false,
         progress: ((Double) -> Bool)? = nil, io: FileIO = .system) throws(BitNetError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open '\(path)': \(errnoText())") }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot stat '\(path)': \(errnoText())") }
        let mode = info.st_mode & S_IFMT
        guard mode != S_IFDIR else { throw .io("'\(path)' is a directory, not a model file") }
        guard mode == S_IFREG else { throw .io("'\(path)' is not a regular file") }
        let size = Int(info.st_size)
        guard size > 0 else { throw .format("'\(path)' is empty (0 bytes), not a GGUF file") }

        if useMmap {
            guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
                throw .io("cannot map '\(path)' (\(size) bytes): \(errnoText())")
            }
            bytes = UnsafeRawBufferPointer(start: base, count: size)
            isMapped = true
        } else {
            guard let base = malloc(size) else {
                throw .outOfMemory("cannot allocate \(size) bytes to read '\(path)'")
            }
            do throws(BitNetError) {
                try MappedFile.readAll(fd: fd, into: base, count: size, path: path, progress: progress, io: io)
            } catch {
                free(base)
                throw error
            }
            bytes = UnsafeRawBufferPointer(start: base, count: size)
            isMapped = false
        }
        if lock, let base = bytes.baseAddress, mlock(base, bytes.count) != 0 {
            Log.warn("mlock of '\(path)' (\(size) bytes) failed: \(errnoText()); continuing unlocked")
        }
    }

    /// A heap copy of `source` (used for in-memory parsing and fuzzing).
    init(copying source: [UInt8]) throws(BitNetError) {
        // malloc(0) may return NULL; keep at least one byte so the pointer is real.
        guard let base = malloc(max(source.count, 1)) else {
            throw .outOfMemory("cannot allocate \(source.count) bytes for an in-memory GGUF file")
        }
        source.withUnsafeBytes { src in
            if let from = src.baseAddress { base.copyMemory(from: from, byteCount: src.count) }
        }
        bytes = UnsafeRawBufferPointer(start: base, count: source.count)
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            free(UnsafeMutableRawPointer(mutating: base))
        }
    }

    private static func readAll(fd: Int32, into base: UnsafeMutableRawPointer, count: Int, path: String,
                                progress: ((Double) -> Bool)?, io: FileIO) throws(BitNetError) {
        let chunk = 16 << 20
        var done = 0
        while done < count {
            let n = io.read(fd, base + done, min(chunk, count - done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read '\(path)' at offset \(done): \(errnoText())")
            }
            guard n > 0 else {
                throw .io("'\(path)' shrank while being read: got \(done) of \(count) bytes")
            }
            done += n
            if let progress, !progress(Double(done) / Double(count)) {
                throw BitNetError(.cancelled, "loading '\(path)' cancelled by the progress callback")
            }
        }
    }
}

/// The text of the current `errno`.
func errnoText() -> String {
    let code = errno
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
