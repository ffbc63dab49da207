import ArgumentParser
import BitNet

/// A core error as a CLI error: the message (which says why, e.g. the
/// system's "No such file or directory") plus the C status name.
struct CLIError: Error, CustomStringConvertible {
    let error: BitNetError
    init(_ error: BitNetError) { self.error = error }
    var description: String { "\(error.message) [\(error.status.staticDescription)]" }
}

/// How the weights are loaded: the flags shared by run, chat, bench and perplexity.
struct WeightStorageOptions: ParsableArguments {
    @Option(name: .customLong("lm-head"), help: "LM head storage: auto (q8_0 where it can encode the head), stored (as in the file) or q8_0 (requantized at load).")
    var lmHead: String = "auto"

    @Flag(help: "Keep the weights on 4 KB pages (faster load on VMs where huge pages are slow to fault in).")
    var noHugePages = false

    @Flag(help: "Read the model file into memory instead of mapping it.")
    var noMmap = false

    func modelLoadOptions() throws -> ModelLoadOptions {
        var options = ModelLoadOptions()
        options.useHugePages = !noHugePages
        options.useMmap = !noMmap
        switch lmHead {
        case "stored": options.lmHead = .asStored
        case "q8_0", "q8": options.lmHead = .q8_0
        case "auto": options.lmHead = .automatic
        default: throw ValidationError("--lm-head must be auto, stored or q8_0, got \(lmHead)")
        }
        return options
    }
}
