import ArgumentParser
import BitNet

/// `-m/--model`: how every subcommand names the model.
struct ModelOption: ParsableArguments {
    @Option(name: .shortAndLong,
            help: "Path to a GGUF model file (default: the shipped bitnet-kjv-tiny model; $BITNET_MODEL overrides).")
    var model: String?

    /// The given path, or the default model's.
    func path() throws -> String { try model ?? DefaultModel.path() }
}

/// Loads the model at `path` with a progress bar when it takes a while (on a
/// terminal: see `ProgressLine`). Ctrl-C, when `InterruptOnSIGINT` is
/// installed, cancels the load and exits with status 130.
func loadModel(_ path: String, options: ModelLoadOptions = ModelLoadOptions()) throws -> Model {
    let progress = ProgressLine("loading \(shortFileName(path))")
    defer { progress.finish() }
    var options = options
    options.progress = { fraction in
        progress.update(fraction: fraction)
        return !InterruptOnSIGINT.isRequested
    }
    do {
        return try Model.load(path: path, options: options)
    } catch where error.status == .cancelled && InterruptOnSIGINT.isRequested {
        progress.finish()
        writeErr("[interrupted while loading the model]\n")
        throw ExitCode(interruptedExitCode)
    } catch {
        throw CLIError(error)
    }
}

/// Warns when `--ctx` asks for more positions than the model was trained on:
/// it works, but text past the training length usually degrades.
func warnIfBeyondTraining(contextLength: Int, _ model: Model) {
    let trained = model.hparams.nCtxTrain
    guard trained > 0, contextLength > trained else { return }
    writeErr("warning: --ctx \(contextLength) is more than the model's training context (\(trained) tokens); "
             + "text past \(trained) tokens is likely to degrade\n")
}
