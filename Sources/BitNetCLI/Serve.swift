import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bitnet serve ARGS`: runs the HTTP server, a separate program
/// (`bitnet-server`, built from server/) so that the CLI and libbitnet.so do
/// not carry an HTTP stack. Looked for next to this binary, then on PATH;
/// the arguments pass through unchanged (`bitnet serve --help` shows them).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API (runs bitnet-server).",
        discussion: "bitnet serve -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel N] [--queue N] [--ctx N] [--api-key KEY]")

    @Argument(parsing: .captureForPassthrough, help: "Arguments for bitnet-server.")
    var arguments: [String] = []

    func run() throws {
        let server = siblingServerPath()
        let argv = [server ?? "bitnet-server"] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        if let server {
            execv(server, &cArguments)
        } else {
            execvp("bitnet-server", &cArguments)
        }
        throw ValidationError("cannot run bitnet-server (\(String(cString: strerror(errno)))): build it with `make` "
                              + "and keep it next to bitnet or on PATH")
    }

    /// `bitnet-server` in the directory of the running executable, if there.
    private func siblingServerPath() -> String? {
        guard let directory = executableDirectory() else { return nil }
        let candidate = directory + "/bitnet-server"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }
}
