#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Context state files: the bytes of `saveState(into:)`, written atomically.
extension Context {
    /// Writes the state to `path` through a temporary file in the same folder
    /// that is fsynced and renamed over `path`, so a crash leaves either the
    /// old file or the new one, never a torn one.
    /// Errors: BITNET_E_IO (the message has the path and errno text).
    package func saveState(path: String) throws(BitNetError) {
        let size = try stateSize()
        let buffer = try Memory.allocate(bytes: size, what: "state")
        defer { free(buffer) }
        let written = try saveState(into: UnsafeMutableRawBufferPointer(start: buffer, count: size))
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("state: cannot create '\(temporary)': \(StateFileIO.errorText())") }
        do throws(BitNetError) {
            try StateFileIO.writeAll(fd, buffer, written, path: temporary)
            guard fsync(fd) == 0 else { throw BitNetError.io("state: fsync '\(temporary)': \(StateFileIO.errorText())") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let text = StateFileIO.errorText()
            unlink(temporary)
            throw .io("state: cannot rename '\(temporary)' to '\(path)': \(text)")
        }
        StateFileIO.syncDirectory(of: path)
    }

    /// Loads a state file written by `saveState(path:)`; the context is
    /// unchanged on any error. Errors: BITNET_E_IO, and those of `loadState(from:)`.
    package func loadState(path: String) throws(BitNetError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("state: cannot open '\(path)': \(StateFileIO.errorText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("state: cannot stat '\(path)': \(StateFileIO.errorText())") }
        let size = Int(info.st_size)
        guard size >= 0 else { throw .format("state: '\(path)' has a negative size") }
        let buffer = try Memory.allocate(bytes: size, what: "state file '\(path)'")
        defer { free(buffer) }
        var done = 0
        while done < size {
            let n = read(fd, buffer + done, size - done)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .io("state: cannot read '\(path)': \(StateFileIO.errorText())") }
            if n == 0 { break }
            done += n
        }
        try loadState(from: UnsafeRawBufferPointer(start: buffer, count: done))
    }
}

/// The few system calls state files need, with EINTR and short writes handled.
enum StateFileIO {
    static func errorText() -> String { String(cString: strerror(errno)) }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, path: String) throws(BitNetError) {
        guard writeFully(fd, bytes, count) else { throw .io("state: cannot write '\(path)': \(errorText())") }
    }

    /// Makes the rename itself durable (best effort: some filesystems refuse).
    static func syncDirectory(of path: String) {
        var directory = "."
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
