#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// write(2) until all `count` bytes are out, retrying when a signal
/// interrupts it. False when a write fails or writes nothing (`errno` says
/// why). The one write loop of state files, GGUF files and the CLI's output.
package func writeFully(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Bool {
    var done = 0
    while done < count {
        let n = write(fd, bytes + done, count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
    }
    return true
}
