import Foundation

/// A JSON value. Requests are decoded into this (not into Codable structs) so
/// that every field can be checked by hand and a wrong one reported with its
/// name, the way OpenAI's errors name the `param`.
enum JSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)  // only produced by the server (counts); decoding yields .number
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Compact UTF-8 JSON (sorted keys: stable output for tests and diffs).
    var bytes: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSON value cannot fail: no non-finite numbers are ever built.
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    static func decode(_ data: Data) throws -> JSON { try JSONDecoder().decode(JSON.self, from: data) }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
