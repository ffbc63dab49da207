import Hummingbird

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var param: String?
    var code: String?
    /// Extra response headers (Retry-After on 429).
    var headers: HTTPFields = [:]

    static func invalid(_ message: String, param: String?, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    var json: JSON {
        .object(["error": .object([
            "message": .string(message),
            "type": .string(type),
            "param": param.map(JSON.string) ?? .null,
            "code": code.map(JSON.string) ?? .null,
        ])])
    }

    var response: Response {
        var response = jsonResponse(json, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

func jsonResponse(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"],
             body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.bytes)))
}
