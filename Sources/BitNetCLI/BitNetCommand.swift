import ArgumentParser
import BitNet

@main
struct BitNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitnet",
        abstract: "Run ternary (BitNet b1.58) language models on the CPU.",
        version: KernelSet.buildDescription,
        subcommands: [Run.self, Chat.self, Inspect.self, Tokenize.self, Bench.self, Perplexity.self]
    )
}
