import ArgumentParser
import BitNet

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's architecture, hyperparameters and tensor table.")

    @Argument(help: "Path to a GGUF model file.")
    var model: String

    func run() throws {
        throw ValidationError("inspect: model loading is not implemented yet")
    }
}
