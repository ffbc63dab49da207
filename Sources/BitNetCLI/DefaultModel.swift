import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The model `bitnet run` and `bitnet chat` use without `-m`: the small KJV
/// model trained for this project (tools/train), found in this order:
/// $BITNET_MODEL, ./models/, next to the executable in a source tree
/// (build/bin/../../models/), and the installed share/bitnet/models/.
enum DefaultModel {
    static let fileName = "bitnet-kjv-tiny.gguf"

    static func path() throws -> String {
        if let override = getenv("BITNET_MODEL") { return String(cString: override) }
        var candidates = ["models/" + fileName]
        if let executable = executableDirectory() {
            candidates.append(executable + "/../../models/" + fileName)         // <repo>/build/bin/bitnet
            candidates.append(executable + "/../share/bitnet/models/" + fileName)  // <prefix>/bin/bitnet
        }
        for candidate in candidates where access(candidate, R_OK) == 0 { return candidate }
        throw ValidationError("no default model found (looked for \(candidates.joined(separator: ", "))); pass -m MODEL")
    }
}
