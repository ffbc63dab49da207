#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BitNet

/// Every byte of the file at `path`.
func readAll(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "rb") else { throw CLIError(BitNetError(.io, "cannot open \(path)")) }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    if ferror(f) != 0 { throw CLIError(BitNetError(.io, "error reading \(path)")) }
    return bytes
}

/// Writes `text` to standard error unbuffered (progress lines, warnings).
func printToStandardError(_ text: String) {
    var copy = text
    copy.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// The weight-storage flags shared by bench and perplexity.
struct WeightStorageOptions: ParsableArguments {
    @Option(name: .customLong("lm-head"), help: "LM head storage: auto (q8_0 where it can encode the head), stored (as in the file) or q8_0 (requantized at load).")
    var lmHead: String = "auto"

    @Flag(help: "Keep the weights on 4 KB pages (faster load on VMs where huge pages are slow to fault in).")
    var noHugePages = false

    func modelLoadOptions() throws -> ModelLoadOptions {
        var options = ModelLoadOptions()
        options.useHugePages = !noHugePages
        switch lmHead {
        case "stored": options.lmHead = .asStored
        case "q8_0", "q8": options.lmHead = .q8_0
        case "auto": options.lmHead = .automatic
        default: throw ValidationError("--lm-head must be auto, stored or q8_0, got \(lmHead)")
        }
        return options
    }
}
