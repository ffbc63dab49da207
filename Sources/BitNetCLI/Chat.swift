import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#endif

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a model. Ctrl-C stops an answer; Ctrl-D (or /exit) leaves.")

    @OptionGroup var options: GenerationOptions

    @Option(help: "System message.")
    var system: String?

    @Option(help: "Chat template: bitnet or llama3 (default: the model's own).")
    var template: String?

    func run() throws {
        let context = try options.makeContext()
        let chatTemplate = try resolveTemplate(context.model)
        InterruptOnSIGINT.install(for: context)
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        let params = options.generationParams(parseSpecial: true)
        while true {
            writeOut("> ")
            guard let line = readLine() else { break }
            if line == "/exit" { break }
            if line.isEmpty { continue }
            messages.append(ChatMessage(role: "user", content: line))
            // The whole conversation is the prompt: the context reuses what it already holds.
            let prompt = chatTemplate.apply(messages, addAssistant: true)
            let generator: Generator
            do {
                generator = try Generator(context: context, prompt: .text(prompt), params: params)
            } catch {
                throw CLIError(error)
            }
            var answer: [UInt8] = []
            do {
                try context.exclusive { () throws(BitNetError) in
                    while let chunk = try generator.next() {
                        answer += chunk.text
                        writeOut(chunk.text)
                    }
                }
            } catch where error.status == .cancelled {
                writeOut(" [interrupted]")
            } catch where error.status == .contextFull {
                writeErr("\n[the conversation no longer fits the context; starting over]\n")
                messages.removeAll()
                if let system { messages.append(ChatMessage(role: "system", content: system)) }
                continue
            } catch {
                throw CLIError(error)
            }
            writeOut("\n")
            if generator.stats.stopReason == .contextFull {
                writeErr("[context full; starting over]\n")
                messages.removeAll()
                if let system { messages.append(ChatMessage(role: "system", content: system)) }
                continue
            }
            if options.verbose { printStats(generator.stats) }
            messages.append(ChatMessage(role: "assistant", content: String(decoding: answer, as: UTF8.self)))
        }
    }

    private func resolveTemplate(_ model: Model) throws -> ChatTemplate {
        if let template {
            guard let known = ChatTemplate(name: template) else {
                throw ValidationError("unknown chat template \(template); use bitnet or llama3")
            }
            return known
        }
        if let own = model.tokenizer?.chatTemplate { return own }
        if let arch = model.hparams.architecture, let known = ChatTemplate(name: arch.rawValue) { return known }
        throw ValidationError("the model has no recognised chat template; pass --template bitnet or llama3")
    }
}
