import BitNet
import Foundation
import Hummingbird
import NIOCore

/// Everything a request handler needs; shared by all connections.
struct ServerState: Sendable {
    let model: Model
    let modelID: String
    let chatFormat: ChatFormat
    let contextLength: Int
    let pool: SlotPool
    let metrics: Metrics
    let apiKey: [UInt8]?
    let maxBodyBytes: Int
    let created = Int(Date().timeIntervalSince1970)
}

/// The routing table and the request pipeline: 404/405/401 before any
/// handler runs, every failure as OpenAI's error JSON, every answer counted.
/// The table is also what `/openapi.json` must describe (checked at start-up).
struct BitNetResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    typealias Handler = @Sendable (ServerState, Request, ContinuousClock.Instant) async throws -> Response

    let state: ServerState

    static let routes: [String: [HTTPRequest.Method: Handler]] = [
        "/": [.get: { _, _, _ in htmlResponse(chatPage) }],
        "/health": [.get: { state, _, _ in await health(state) }],
        "/metrics": [.get: { state, _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: state.metrics.exposition())))
        }],
        "/openapi.json": [.get: { _, _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: openAPIDocument)))
        }],
        "/v1/models": [.get: { state, _, _ in models(state) }],
        "/v1/completions": [.post: { state, request, arrived in
            try await completion(.completions, state: state, request: request, arrived: arrived)
        }],
        "/v1/chat/completions": [.post: { state, request, arrived in
            try await completion(.chat, state: state, request: request, arrived: arrived)
        }],
    ]

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let arrived = ContinuousClock.now
        let path = request.uri.path
        let response: Response
        do {
            guard let methods = Self.routes[path] else {
                throw APIError(status: .notFound, message: "no route \(path)", type: "invalid_request_error",
                               param: nil, code: "not_found")
            }
            guard let handler = methods[request.method] else {
                var error = APIError(status: .methodNotAllowed, message: "\(request.method) is not allowed on \(path)",
                                     type: "invalid_request_error", param: nil, code: "method_not_allowed")
                error.headers[.allow] = methods.keys.map(\.rawValue).sorted().joined(separator: ", ")
                throw error
            }
            if path.hasPrefix("/v1/") { try checkKey(request) }
            response = try await handler(state, request, arrived)
        } catch let error as APIError {
            response = error.response
        } catch is NIOTooManyBytesError {
            response = bodyTooLarge(state.maxBodyBytes).response
        } catch {
            response = APIError(status: .internalServerError, message: "internal error: \(error)",
                                type: "server_error", param: nil, code: nil).response
        }
        state.metrics.request(endpoint: Self.routes[path] == nil ? "other" : path, status: Int(response.status.code))
        return response
    }

    /// `Authorization: Bearer KEY`, compared in constant time (no early exit
    /// on the first differing byte, so timing does not reveal a prefix).
    private func checkKey(_ request: Request) throws(APIError) {
        guard let expected = state.apiKey else { return }
        let header = request.headers[.authorization] ?? ""
        let given: [UInt8] = header.hasPrefix("Bearer ") ? Array(header.utf8.dropFirst(7)) : []
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        guard difference == 0 else {
            throw APIError(status: .unauthorized, message: "missing or wrong API key (Authorization: Bearer KEY)",
                           type: "invalid_request_error", param: nil, code: "invalid_api_key")
        }
    }
}

func bodyTooLarge(_ limit: Int) -> APIError {
    APIError(status: .contentTooLarge, message: "the request body is larger than \(limit) bytes",
             type: "invalid_request_error", param: nil, code: "request_too_large")
}

private func htmlResponse(_ html: String) -> Response {
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
             body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
}

private func health(_ state: ServerState) async -> Response {
    let shuttingDown = await state.pool.isShuttingDown
    return jsonResponse(.object([
        "status": .string(shuttingDown ? "shutting_down" : "ok"),
        "model": .string(state.modelID),
        "slots": .int(state.metrics.slots),
        "active": .int(state.metrics.activeSequences),
    ]), status: shuttingDown ? .serviceUnavailable : .ok)
}

private func models(_ state: ServerState) -> Response {
    jsonResponse(.object([
        "object": .string("list"),
        "data": .array([.object([
            "id": .string(state.modelID),
            "object": .string("model"),
            "created": .int(state.created),
            "owned_by": .string("bitnet"),
        ])]),
    ]))
}
