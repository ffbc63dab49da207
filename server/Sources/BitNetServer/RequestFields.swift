/// Typed access to the fields of a request object; a missing field is nil,
/// a field of the wrong type or out of range is a 400 naming it.
struct RequestFields {
    let object: [String: JSON]

    init(_ body: JSON) throws(APIError) {
        guard case .object(let object) = body else {
            throw .invalid("the request body must be a JSON object", param: nil)
        }
        self.object = object
    }

    /// nil when absent or JSON null (OpenAI clients send null for "default").
    subscript(_ name: String) -> JSON? {
        if let value = object[name], value != .null { return value }
        return nil
    }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard case .string(let text) = value else { throw wrongType(name, "a string", value) }
        return text
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(name, "a boolean", value) }
        return flag
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let value = self[name] else { return nil }
        guard case .number(let number) = value else { throw wrongType(name, "a number", value) }
        guard range.contains(number) else {
            throw .invalid("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(number)", param: name)
        }
        return number
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            throw wrongType(name, "an integer", value)
        }
        let integer = Int(number)
        guard range.contains(integer) else {
            throw .invalid("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(integer)", param: name)
        }
        return integer
    }

    private func wrongType(_ name: String, _ expected: String, _ value: JSON) -> APIError {
        .invalid("\(name) must be \(expected), got \(value.typeName)", param: name)
    }
}
