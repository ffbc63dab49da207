import ArgumentParser
import BitNet

@main
struct BitNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitnet",
        abstract: "Run ternary (BitNet b1.58) language models on the CPU.",
        discussion: """
            Every subcommand names the model with -m/--model (default: the shipped \
            bitnet-kjv-tiny model; $BITNET_MODEL overrides). Text input (arguments, files, \
            standard input) must be valid UTF-8 in every subcommand: invalid bytes are \
            rejected, never replaced, and the error gives the byte offset of the first one. \
            Progress bars (model loading, long prompts, perplexity) appear only when \
            standard error is a terminal.
            """,
        version: KernelSet.buildDescription,
        subcommands: [Run.self, Chat.self, Inspect.self, Tokenize.self, Bench.self, Perplexity.self, Serve.self]
    )

    /// Checks the raw arguments before parsing: Swift would replace invalid
    /// UTF-8 in them silently (see `checkArgumentsAreUTF8`).
    static func main() {
        do {
            try checkArgumentsAreUTF8()
        } catch {
            exit(withError: error)
        }
        main(nil)
    }
}
