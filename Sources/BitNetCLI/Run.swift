import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text after a prompt and stream it to stdout.")

    @OptionGroup var options: GenerationOptions

    @Option(name: .shortAndLong, help: "The prompt.")
    var prompt: String

    @Flag(help: "Map control-token text such as <|eot_id|> in the prompt to its id.")
    var parseSpecial = false

    func run() throws {
        let context = try options.makeContext()
        InterruptOnSIGINT.install(for: context)
        let generator: Generator
        do {
            generator = try Generator(context: context, prompt: .text(prompt),
                                      params: options.generationParams(parseSpecial: parseSpecial))
        } catch {
            throw CLIError(error)
        }
        let stats = try streamToStdout(generator)
        writeOut("\n")
        if options.verbose { printStats(stats) }
    }
}
