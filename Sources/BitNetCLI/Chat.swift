import ArgumentParser
import BitNet

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a model. Ctrl-C stops an answer; Ctrl-D (or /exit) leaves.",
        discussion: """
            A model without a chat template (such as the shipped bitnet-kjv-tiny) is a \
            text-completion model: chat says so and continues each line you type as text \
            instead of answering it, each line on its own (--system text goes before every \
            line). --template bitnet, llama3 or chatml forces a chat format anyway. Input must be \
            valid UTF-8: a line that is not is rejected with its byte offset and skipped.
            """)

    @OptionGroup var options: GenerationOptions

    @Option(help: "System message.")
    var system: String?

    @Option(help: "Read the system message from this file (for messages too long for an argument).")
    var systemFile: String?

    @Option(help: "Chat template: bitnet, llama3 or chatml (default: the model's own).")
    var template: String?

    /// How lines become prompts.
    enum Mode {
        case chat(ChatTemplate)
        /// No chat template: each line is text to continue.
        case completion
    }

    func validate() throws {
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
    }

    func run() throws {
        let systemText = try systemFile.map { try validatedText(try readInput($0), source: inputName($0)) } ?? system
        InterruptOnSIGINT.install()
        let context = try options.makeContext()
        InterruptOnSIGINT.setContext(context)
        let mode = try resolveMode(context.model)
        if case .completion = mode {
            writeErr("note: \(shortFileName(try options.modelOption.path())) has no chat template, so it is a "
                     + "text-completion model: each line you type is continued as text, not answered. "
                     + "(--template bitnet, llama3 or chatml forces a chat format.)\n")
        }
        let initial = systemText.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var messages = initial
        var reader = LineReader()
        var lineNumber = 0
        while true {
            writeOut("> ")
            guard let bytes = reader.next() else { break }
            lineNumber += 1
            let line: String
            do {
                line = try validatedText(bytes, source: "input line \(lineNumber)")
            } catch {
                writeErr("Error: \(error)\n")
                continue
            }
            if line == "/exit" { break }
            if line.isEmpty { continue }

            let prompt: String, parseSpecial: Bool
            switch mode {
            case .chat(let template):
                messages.append(ChatMessage(role: "user", content: line))
                // The whole conversation is the prompt: the context reuses what it already holds.
                prompt = template.apply(messages, addAssistant: true)
                parseSpecial = true
            case .completion:
                prompt = (systemText.map { $0 + "\n" } ?? "") + line
                parseSpecial = false
            }
            InterruptOnSIGINT.reset()
            let generator: Generator
            do {
                generator = try Generator(context: context, prompt: .text(prompt),
                                          params: options.generationParams(parseSpecial: parseSpecial))
            } catch {
                throw CLIError(error)
            }
            var answer: [UInt8] = []
            let outcome: GenerationOutcome
            do {
                outcome = try streamGeneration(generator) { text in
                    answer += text
                    writeOut(text)
                }
            } catch where error.status == .contextFull {
                if case .completion = mode {
                    writeErr("Error: \(promptDoesNotFit(promptTokens: generator.promptTokenIDs.count, context: context, maxTokens: options.n))\n")
                } else {
                    writeErr("\n[the conversation no longer fits the context (raise --ctx for longer ones); starting over]\n")
                    messages = initial
                }
                continue
            } catch {
                throw CLIError(error)
            }
            if case .interrupted = outcome {
                writeOut(" " + interruptionMessage(outcome, generated: generator.stats.generated))
            }
            writeOut("\n")
            if options.verbose { printStats(generator.stats) }
            guard case .chat = mode else { continue }
            if generator.stats.stopReason == .contextFull {
                writeErr("[context full (raise --ctx for longer conversations); starting over]\n")
                messages = initial
                continue
            }
            messages.append(ChatMessage(role: "assistant", content: String(decoding: answer, as: UTF8.self)))
        }
    }

    /// The chat format: --template, else the model's. The core also guesses
    /// a format from the architecture when the file has no template; that
    /// guess is only trusted when the vocabulary has an end-of-turn token
    /// (which every chat format needs), otherwise the model was not trained
    /// for chat and its replies would look broken: text completion instead.
    private func resolveMode(_ model: Model) throws -> Mode {
        if let template {
            guard let known = ChatTemplate(name: template) else {
                throw ValidationError("unknown chat template \(template); use bitnet, llama3 or chatml")
            }
            return .chat(known)
        }
        guard let tokenizer = model.tokenizer, let format = tokenizer.chatTemplate else { return .completion }
        let fileHasTemplate = model.metadata["tokenizer.chat_template"] != nil
        return fileHasTemplate || tokenizer.eot != nil ? .chat(format) : .completion
    }
}
