import ArgumentParser
import BitNet

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text after a prompt and stream it to stdout.",
        discussion: """
            The prompt comes from -p TEXT, -p - (standard input) or -f FILE, so it can be \
            larger than a command-line argument. Text must be valid UTF-8: invalid bytes are \
            rejected with their byte offset. Ctrl-C stops the generation, prints how far it \
            got and exits with status 130.
            """)

    @OptionGroup var options: GenerationOptions

    @Option(name: .shortAndLong, help: "The prompt; - reads it from standard input.")
    var prompt: String?

    @Option(name: .shortAndLong, help: "Read the prompt from this file (- = standard input).")
    var file: String?

    @Flag(help: "Map control-token text such as <|eot_id|> in the prompt to its id.")
    var parseSpecial = false

    func validate() throws {
        if (prompt == nil) == (file == nil) {
            throw ValidationError("give the prompt with -p TEXT, -p - (standard input) or -f FILE")
        }
    }

    /// The prompt text from wherever it was given.
    private func promptText() throws -> String {
        if let prompt, prompt != "-" { return prompt }  // arguments are checked at startup
        let path = file ?? "-"
        return try validatedText(try readInput(path), source: inputName(path))
    }

    func run() throws {
        let text = try promptText()  // before the handler: Ctrl-C still ends a prompt being typed
        InterruptOnSIGINT.install()
        let context = try options.makeContext()
        InterruptOnSIGINT.setContext(context)
        let generator: Generator
        do {
            generator = try Generator(context: context, prompt: .text(text),
                                      params: options.generationParams(parseSpecial: parseSpecial))
        } catch {
            throw CLIError(error)
        }
        let outcome: GenerationOutcome
        do {
            outcome = try streamGeneration(generator) { writeOut($0) }
        } catch where error.status == .contextFull && generator.stats.generated == 0 {
            throw promptDoesNotFit(promptTokens: generator.promptTokenIDs.count, context: context, maxTokens: options.n)
        } catch {
            throw CLIError(error)
        }
        writeOut("\n")
        let stats = generator.stats
        if options.verbose { printStats(stats) }
        if case .interrupted = outcome {
            writeErr(interruptionMessage(outcome, generated: stats.generated) + "\n")
            throw ExitCode(interruptedExitCode)
        }
        if stats.stopReason == .contextFull {
            writeErr("[the context is full after \(stats.generated) tokens; raise --ctx for longer output]\n")
        }
    }
}
