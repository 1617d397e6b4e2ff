/// One setting that a configuration file may set (a simulator's, an agent's hyperparameters): how
/// a JSON value sets it, with the values it accepts, and how it is written back.
public struct ConfigurationKey<Configuration>: Sendable {
    private let set: @Sendable (JSONValue, inout Configuration) -> String?
    private let write: @Sendable (Configuration) -> String

    /// Sets the key to `value`, or returns what is wrong with it (nothing changes then).
    public func apply(_ value: JSONValue, to configuration: inout Configuration) -> String? { set(value, &configuration) }

    /// The key's value in `configuration` as JSON text, which `apply` reads back to the same value.
    public func text(in configuration: Configuration) -> String { write(configuration) }

    public static func integer(_ path: WritableKeyPath<Configuration, Int> & Sendable, _ range: ClosedRange<Int>) -> Self {
        Self(set: { value, configuration in
            guard case .number(let number) = value else { return "must be a number, got \(value.typeName)" }
            guard let integer = integer(number, in: range) else { return "must be an integer in \(range.lowerBound)...\(range.upperBound), got \(number)" }
            configuration[keyPath: path] = integer
            return nil
        }, write: { String($0[keyPath: path]) })
    }

    public static func number(_ path: WritableKeyPath<Configuration, Float> & Sendable, _ range: ClosedRange<Float>) -> Self {
        Self(set: { value, configuration in
            guard case .number(let number) = value else { return "must be a number, got \(value.typeName)" }
            guard let float = float(number, in: range) else { return "must be a number in \(range.lowerBound)...\(range.upperBound), got \(number)" }
            configuration[keyPath: path] = float
            return nil
        }, write: { numberText($0[keyPath: path]) })
    }

    /// A number, or null for the setting's "none" (a schedule that does not decay, say).
    public static func optionalNumber(_ path: WritableKeyPath<Configuration, Float?> & Sendable, _ range: ClosedRange<Float>) -> Self {
        Self(set: { value, configuration in
            if case .null = value { configuration[keyPath: path] = nil; return nil }
            guard case .number(let number) = value, let float = float(number, in: range) else {
                return "must be null or a number in \(range.lowerBound)...\(range.upperBound), got \(describe(value))"
            }
            configuration[keyPath: path] = float
            return nil
        }, write: { $0[keyPath: path].map(numberText) ?? "null" })
    }

    public static func flag(_ path: WritableKeyPath<Configuration, Bool> & Sendable) -> Self {
        Self(set: { value, configuration in
            guard case .bool(let flag) = value else { return "must be true or false, got \(describe(value))" }
            configuration[keyPath: path] = flag
            return nil
        }, write: { $0[keyPath: path] ? "true" : "false" })
    }

    /// A list of integers, each in `range`, with a length in `count` (a network's hidden widths).
    public static func integers(_ path: WritableKeyPath<Configuration, [Int]> & Sendable, _ range: ClosedRange<Int>,
                                count: ClosedRange<Int>) -> Self {
        Self(set: { value, configuration in
            let wanted = "a list of \(count.lowerBound) to \(count.upperBound) integers in \(range.lowerBound)...\(range.upperBound)"
            guard case .array(let elements) = value, count.contains(elements.count) else { return "must be \(wanted), got \(describe(value))" }
            var integers: [Int] = []
            for element in elements {
                guard case .number(let number) = element, let integer = integer(number, in: range) else {
                    return "must be \(wanted), got \(describe(element)) in it"
                }
                integers.append(integer)
            }
            configuration[keyPath: path] = integers
            return nil
        }, write: { "[" + $0[keyPath: path].map(String.init).joined(separator: ",") + "]" })
    }

    /// One of `allowed` values of a string enumeration, by name.
    public static func choice<Value: RawRepresentable & Sendable>(_ path: WritableKeyPath<Configuration, Value> & Sendable, among allowed: [Value]) -> Self
        where Value.RawValue == String {
        Self(set: { value, configuration in
            let names = allowed.map(\.rawValue)
            guard case .string(let name) = value, names.contains(name), let choice = Value(rawValue: name) else {
                return "must be one of \(names.map { "\"\($0)\"" }.joined(separator: ", ")), got \(describe(value))"
            }
            configuration[keyPath: path] = choice
            return nil
        }, write: { JSONText.string($0[keyPath: path].rawValue) })
    }

    private static func integer(_ number: Double, in range: ClosedRange<Int>) -> Int? {
        guard number.rounded() == number, let integer = Int(exactly: number), range.contains(integer) else { return nil }
        return integer
    }

    private static func float(_ number: Double, in range: ClosedRange<Float>) -> Float? {
        let float = Float(number)
        return float.isFinite && range.contains(float) ? float : nil
    }

    /// A Float as JSON text that reads back to the same Float: whole numbers without a fraction,
    /// others in the shortest digits that do (0.04, not 0.03999999910593033).
    private static func numberText(_ value: Float) -> String {
        let number = Double(value)
        return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(value)"
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): "\(number)"
        case .bool(let flag): "\(flag)"
        case .string(let text): "\"\(text.prefix(40))\""
        default: value.typeName
        }
    }
}

/// A configuration whose settings can come from a file, by name.
public protocol FileConfigurable {
    /// Every settable key, named as in the configuration files (snake_case).
    static var fileKeys: [String: ConfigurationKey<Self>] { get }
    /// What is wrong with settings that each key's range accepts but that do not go together
    /// (more categories than items, say), in the files' names; nil when they fit.
    var contradiction: String? { get }
}

extension FileConfigurable {
    public var contradiction: String? { nil }
}
