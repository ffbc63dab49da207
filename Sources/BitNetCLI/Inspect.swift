import ArgumentParser
import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's architecture, hyperparameters, metadata and tensor table.")

    @OptionGroup var modelOption: ModelOption

    @Argument(help: ArgumentHelp("The model as a plain argument (same as -m; kept for compatibility).",
                                 valueName: "model"))
    var positionalModel: String?

    @Flag(help: "Read the file into memory instead of mapping it.")
    var noMmap = false

    @Option(help: "Array elements shown per metadata key.")
    var maxArrayElements = 6

    func validate() throws {
        if let positionalModel, let flagged = modelOption.model, positionalModel != flagged {
            throw ValidationError("name the model once: -m \(flagged) or \(positionalModel), not both")
        }
    }

    func run() throws {
        let model = try positionalModel ?? modelOption.path()
        let clock = ContinuousClock()
        let start = clock.now
        // Reading (--no-mmap) and preparing the weights each get the load
        // progress bar when they take a while.
        let file: GGUFFile
        do {
            let reading = ProgressLine("reading \(shortFileName(model))")
            defer { reading.finish() }
            file = try GGUFFile(path: model, useMmap: !noMmap, progress: { reading.update(fraction: $0); return true })
        } catch {
            throw CLIError(error)
        }
        print("file:        \(model)")
        print("size:        \(file.fileSize) bytes (\(megabytes(file.fileSize)))")
        print("gguf:        version \(file.version), alignment \(file.alignment), \(file.metadataKeys.count) metadata keys, \(file.tensors.count) tensors")

        // The family recognised, the evidence, and whether the weights are ternary.
        if !file.tensors.isEmpty {
            let report = FamilyReport(file: file)
            print("family:      \(report.family)")
            print("  because:   " + report.evidence.joined(separator: "; "))
            print("ternary:     \(report.ternary)")
        }

        // Hyperparameters: a full validation, or why it fails.
        var validationError: BitNetError?
        do {
            let preparing = ProgressLine("preparing weights")
            defer { preparing.finish() }
            let loaded = try Model(file: file, vocabOnly: file.tensors.isEmpty,
                                   progress: { preparing.update(fraction: $0); return true })
            preparing.finish()
            let elapsed = clock.now - start
            printHyperParameters(loaded)
            print("load:        \(elapsed.formattedMilliseconds) (open, parse, validate), peak RSS \(peakRSS())")
        } catch {
            validationError = error
            print("model:       NOT LOADABLE: \(error.message) [\(error.status.staticDescription)]")
        }

        print("\nmetadata:")
        let keyWidth = file.metadataKeys.map(\.count).max() ?? 0
        for key in file.metadataKeys {
            guard let value = file.metadata[key] else { continue }
            var text = value.formatted(maxArrayElements: maxArrayElements)
            if case .string = value { text = "\"" + text + "\"" }
            if text.count > 160 { text = String(text.prefix(157)) + "..." }
            text = text.replacingNewlines()
            print("  \(key.padded(to: keyWidth))  \(value.typeDescription.padded(to: 14)) \(text)")
        }

        if !file.tensors.isEmpty {
            printTensorTable(file)
        }
        if let validationError { throw CLIError(validationError) }
    }

    private func printHyperParameters(_ model: Model) {
        let h = model.hparams
        if model.isVocabOnly {
            print("model:       vocab-only (no tensors), architecture '\(h.architectureName)', \(h.nVocab) tokens")
            return
        }
        print("arch:        \(h.architectureName), FFN activation \(h.activation.rawValue)")
        print("dims:        n_vocab \(h.nVocab), n_embd \(h.nEmbd), n_layer \(h.nLayer), n_ff \(h.nFF), n_ctx_train \(h.nCtxTrain)")
        print("attention:   n_head \(h.nHead), n_head_kv \(h.nHeadKV), head_dim \(h.headDim), n_rot \(h.nRot), rope theta \(h.ropeTheta)")
        print("norm:        rms eps \(h.rmsEps)")
        let head = h.tiedOutput ? "tied to token_embd (\(model.tokenEmbedding.type))" : "output.weight (\(model.lmHead.type))"
        print("weights:     linear \(model.weightType?.name ?? "-"), embedding \(model.tokenEmbedding.type), LM head \(head)")
        print("parameters:  \(model.parameterCount)")
    }

    private func printTensorTable(_ file: GGUFFile) {
        print("\ntensors:")
        let nameWidth = file.tensors.map(\.name.count).max() ?? 4
        print("  \("name".padded(to: nameWidth))  \("type".padded(to: 6))  \("shape".padded(to: 18))  \("bytes".leftPadded(to: 12))  offset")
        var bytesByType = [String: Int]()
        for info in file.tensors {
            let shape = "[" + info.dims.map(String.init).joined(separator: ", ") + "]"
            print("  \(info.name.padded(to: nameWidth))  \(info.type.name.padded(to: 6))  \(shape.padded(to: 18))  \(String(info.byteCount).leftPadded(to: 12))  \(file.dataOffset + info.offset)")
            bytesByType[info.type.name, default: 0] += info.byteCount
        }
        let summary = bytesByType.sorted { $0.value > $1.value }.map { "\($0.key) \(megabytes($0.value))" }
        print("  total by type: " + summary.joined(separator: ", "))
    }
}

/// Peak resident set size of this process so far.
private func peakRSS() -> String {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return "unknown" }
    return megabytes(Int(usage.ru_maxrss) * 1024)  // ru_maxrss is in KiB on Linux
}

private extension Duration {
    var formattedMilliseconds: String {
        let ms = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        return "\(Double(Int(ms * 10)) / 10) ms"
    }
}

private func megabytes(_ bytes: Int) -> String {
    let mib = Double(bytes) / 1_048_576
    return mib >= 10 ? "\(Int(mib.rounded())) MiB" : "\(Double(Int(mib * 100)) / 100) MiB"
}

private extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
    func replacingNewlines() -> String {
        var out = ""
        for c in self { out += c == "\n" ? "\\n" : String(c) }
        return out
    }
}
