#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BitNet

// Text the user hands the CLI: command-line arguments, files, standard input.
//
// One rule for every subcommand: text must be valid UTF-8. Invalid bytes are
// rejected (never silently replaced) with the byte offset of the first bad
// one, in the same words everywhere: "<source> is not valid UTF-8 (byte
// offset N)". The core's tokenizer applies the same rule to the C API.

/// Every byte of the file at `path`, or of standard input when `path` is "-".
/// Failures carry the system's reason (strerror), e.g. "No such file or directory".
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return try readAll(fd: 0, name: "standard input") }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CLIError(.io("cannot open '\(path)': \(systemError())")) }
    defer { close(fd) }
    return try readAll(fd: fd, name: "'\(path)'")
}

private func readAll(fd: Int32, name: String) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw CLIError(.io("cannot read \(name): \(systemError())"))
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// The text of the current `errno`.
func systemError() -> String {
    let code = errno
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// Human words for where the input came from ("'a.txt'", "standard input").
func inputName(_ path: String) -> String { path == "-" ? "standard input" : "'\(path)'" }

/// `bytes` as a String, or the CLI's one invalid-UTF-8 error naming `source`.
func validatedText(_ bytes: [UInt8], source: String) throws -> String {
    if let offset = firstInvalidUTF8Offset(bytes) {
        throw CLIError(.invalidArgument("\(source) is not valid UTF-8 (byte offset \(offset))"))
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Offset of the first byte that does not start a well-formed UTF-8 sequence
/// (overlong forms, surrogates and truncated sequences included), or nil.
func firstInvalidUTF8Offset<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let scalar): offset += scalar.count
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

/// Checks the raw command line: Swift would silently replace invalid bytes
/// in arguments with U+FFFD, which breaks the one-rule promise above.
func checkArgumentsAreUTF8() throws {
    for index in 1..<Int(CommandLine.argc) {
        guard let argument = CommandLine.unsafeArgv[index] else { continue }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(argument).assumingMemoryBound(to: UInt8.self),
                                        count: strlen(argument))
        if let offset = firstInvalidUTF8Offset(bytes) {
            throw CLIError(.invalidArgument("command-line argument \(index) is not valid UTF-8 (byte offset \(offset))"))
        }
    }
}

/// Reads standard input line by line as bytes (readLine() would replace
/// invalid UTF-8 instead of letting the caller reject it).
struct LineReader {
    private var buffer: [UInt8] = []
    private var atEnd = false

    /// The next line without its "\n", or nil at end of input.
    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return buffer
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { atEnd = true } else { buffer += chunk[0..<n] }
        }
    }
}
