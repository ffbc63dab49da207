import ArgumentParser
import BitNet
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitnet serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API.",
        discussion: """
            Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, \
            GET /metrics (Prometheus), GET /openapi.json, and a chat page at /. --parallel contexts \
            of the one model generate at the same time (with more than one, as one batch: each \
            step is one forward pass for all of them); --queue more requests wait, beyond that \
            the answer is 429. SIGINT or \
            SIGTERM stops accepting, cancels generations in flight and exits 0.
            """)

    @Option(name: .shortAndLong, help: "Path to a GGUF model file.")
    var model: String

    @Option(help: "Address to listen on (loopback by default; 0.0.0.0 exposes the server).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 = any free port, printed at start).")
    var port = 8080

    @Option(help: "Sequences generated at the same time (one context each).")
    var parallel = 1

    @Option(help: "Requests that may wait for a free slot; more get 429.")
    var queue = 16

    @Option(help: "Context length of each slot in tokens (0 = the model's training context, at most 4096).")
    var ctx = 0

    @Option(help: "Require `Authorization: Bearer KEY` on /v1/ routes.")
    var apiKey: String?

    @Option(help: "Threads that evaluate the model (0 = one per CPU); with --parallel > 1 the slots share them, batched.")
    var threads = 0

    @Option(help: "Largest request body in bytes; larger ones get 413.")
    var maxBodyBytes = 1 << 20

    func validate() throws {
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 256") }
        guard (0...100_000).contains(queue) else { throw ValidationError("--queue must be between 0 and 100000") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard ctx >= 0, threads >= 0, maxBodyBytes > 0 else {
            throw ValidationError("--ctx and --threads must be >= 0, --max-body-bytes > 0")
        }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() async throws {
        let expected = Set(BitNetResponder.routes.flatMap { path, methods in
            methods.keys.map { "\($0.rawValue.lowercased()) \(path)" }
        })
        let documented = try openAPIOperations()
        guard expected == documented else {
            throw ValidationError("internal: /openapi.json and the routes disagree: "
                                  + "\(expected.symmetricDifference(documented).sorted())")
        }

        let loaded: Model
        var contexts: [Context] = []
        do {
            loaded = try await Model.load(from: model)
            var options = ContextOptions()
            options.contextLength = ctx
            options.threads = threads
            // Every prompt is stored in the prefix cache (the batch's, shared by
            // the slots, when there are several), so a prompt that starts like an
            // earlier one - a common system prompt - reuses it on any slot.
            options.prefixCacheAuto = true
            if parallel > 1 {
                // The slots' generations share forward passes (continuous batching):
                // N streams cost little more than one pass over the weights per step.
                var batchOptions = BatchOptions()
                batchOptions.maxSequences = parallel
                batchOptions.threads = threads
                options.batch = try Batch(model: loaded, options: batchOptions)
            }
            for _ in 0..<parallel { contexts.append(try Context(model: loaded, options: options)) }
        } catch {
            throw ValidationError("\(model): \(error)")
        }
        let metrics = Metrics(slots: parallel)
        let pool = SlotPool(contexts: contexts, queueLimit: queue, metrics: metrics)
        let state = ServerState(model: loaded, modelID: URL(fileURLWithPath: model).lastPathComponent,
                                chatFormat: ChatFormat(model: loaded), contextLength: contexts[0].capacity,
                                pool: pool, metrics: metrics, apiKey: apiKey.map { Array($0.utf8) },
                                maxBodyBytes: maxBodyBytes)
        var logger = Logger(label: "bitnet-serve")
        logger.logLevel = .warning
        let app = Application(
            responder: BitNetResponder(state: state),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "bitnet"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                FileHandle.standardError.write(Data("bitnet serve: listening on http://\(host):\(port) (model \(state.modelID), \(parallel) slot(s), context \(state.contextLength))\n".utf8))
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app, ShutdownWatcher(pool: pool)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        FileHandle.standardError.write(Data("bitnet serve: stopped\n".utf8))
    }
}

/// On SIGINT/SIGTERM the server stops accepting and waits for open requests;
/// this cancels the generations behind them so that wait is short. It runs
/// after the server in the service group, so it hears the signal first
/// (services are told in reverse order, each after the later ones ended).
/// A response stuck on a client that reads nothing would hold the server up
/// forever, so after `drainSeconds` the process exits anyway (status 0).
struct ShutdownWatcher: Service {
    let pool: SlotPool
    static let drainSeconds = 3

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // the group ended without a signal
        }
        await pool.shutDown()
        Task.detached {
            try? await Task.sleep(for: .seconds(Self.drainSeconds))
            FileHandle.standardError.write(Data("bitnet serve: clients still connected after \(Self.drainSeconds) s; exiting\n".utf8))
            exit(0)
        }
    }
}
