// Streams a continuation of a prompt from a GGUF model, token by token.
//
//   swift run StreamText [model.gguf] [prompt]
//
// The default model is the one the repository ships (models/bitnet-kjv-tiny.gguf,
// run from examples/swift). Prints the text to stdout and a summary to stderr.
import BitNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "../../models/bitnet-kjv-tiny.gguf"
let prompt = arguments.count > 2 ? arguments[2] : "And it came to pass, when the king"

/// Unbuffered writes (file descriptors, not the C `stdout`/`stderr` globals,
/// which Swift 6 rejects as shared mutable state): each chunk shows as it comes.
func write(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
}

func report(_ text: String) { write(text + "\n", to: 2) }

do {
    // Loading runs on its own thread; the closure sees the fraction done.
    let model = try await Model.load(from: path) { fraction in
        if fraction == 1 { report("loaded \(path)") }
    }
    var options = ContextOptions()
    options.contextLength = 256
    let context = try Context(model: model, options: options)

    // Greedy decoding (temperature 0) makes the output reproducible.
    let params = GenerationParams(sampling: .fast, maxNewTokens: 48)
    write(prompt, to: 1)
    var chunks = 0
    for try await chunk in context.stream(.text(prompt), params: params) {
        write(chunk.string, to: 1)
        chunks += 1
    }
    write("\n", to: 1)
    let tokens = try context.tokenIDs().count
    report("\(chunks) chunks; the context holds \(tokens) of \(context.capacity) tokens")
    guard chunks > 0 else {
        report("error: the model produced no text")
        exit(1)
    }
} catch let error as BitNetError {
    report("error (\(error.status)): \(error.message)")
    exit(1)
}
