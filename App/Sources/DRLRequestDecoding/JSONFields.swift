import DRLNN

/// Reads the fields of a request's JSON object, throwing a `BadRequest` that names the field.
struct JSONFields {

    let fields: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, path: String = "") throws(BadRequest) {
        guard case .object(let fields) = value else {
            throw BadRequest(message: "\(path.isEmpty ? "the body" : path) must be a JSON object, not \(value.typeName)")
        }
        (self.fields, self.path) = (fields, path)
    }

    static func parse(_ bytes: [UInt8]) throws(BadRequest) -> JSONFields {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw BadRequest(message: "the body is not valid JSON: \(error)")
        }
        return try JSONFields(value)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Rejects fields that are not in `known` (a misspelt optional field would otherwise be ignored).
    func allowOnly(_ known: Set<String>) throws(BadRequest) {
        // The keys are sorted only for the message (the first unknown one by name), not on every request.
        guard fields.keys.contains(where: { !known.contains($0) }) else { return }
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw BadRequest(message: "unknown field '\(name(unknown))' (fields: \(known.sorted().joined(separator: ", ")))")
        }
    }

    func value(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(BadRequest) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw BadRequest(message: "'\(name(key))' must be a string, not \(value.typeName)") }
        return text
    }

    func requiredString(_ key: String) throws(BadRequest) -> String {
        guard let text = try string(key) else { throw BadRequest(message: "'\(name(key))' is missing") }
        return text
    }

    func number(_ key: String) throws(BadRequest) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, number.isFinite else {
            throw BadRequest(message: "'\(name(key))' must be a finite number, not \(value.typeName)")
        }
        return number
    }

    func integer(_ key: String) throws(BadRequest) -> Int? {
        guard let number = try number(key) else { return nil }
        guard number == number.rounded(), abs(number) < 1e15 else { throw BadRequest(message: "'\(name(key))' must be an integer, not \(number)") }
        return Int(number)
    }

    func bool(_ key: String) throws(BadRequest) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw BadRequest(message: "'\(name(key))' must be true or false, not \(value.typeName)") }
        return flag
    }

    func array(_ key: String) throws(BadRequest) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw BadRequest(message: "'\(name(key))' must be an array, not \(value.typeName)") }
        return items
    }

    func strings(_ key: String) throws(BadRequest) -> [String]? {
        guard let items = try array(key) else { return nil }
        var result: [String] = []
        for (k, item) in items.enumerated() {
            guard case .string(let text) = item else { throw BadRequest(message: "'\(name(key))[\(k)]' must be a string, not \(item.typeName)") }
            result.append(text)
        }
        return result
    }

    /// An object of numbers (a context).
    func numbers(_ key: String) throws(BadRequest) -> [String: Double] {
        guard let value = value(key) else { return [:] }
        let object = try JSONFields(value, path: name(key))
        var result: [String: Double] = [:]
        for field in object.fields.keys { result[field] = try object.number(field) }
        return result
    }
}
