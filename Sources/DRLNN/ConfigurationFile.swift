import Foundation

/// A configuration file (a simulator's settings, an agent's hyperparameters) that cannot be used:
/// the file, the key at fault (when one is) and what is wrong, in words that say how to mend it.
public struct ConfigurationFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let key: String?
    public let reason: String

    public init(path: String, key: String? = nil, reason: String) {
        self.path = path
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(path): " + (key.map { "key '\($0)' " } ?? "") + reason }
}

/// Reads configuration files (a simulator's settings, an agent's hyperparameters): a JSON object
/// whose keys are the configuration's file keys (snake_case, see `FileConfigurable`), parsed
/// strictly (`JSONParser`: no trailing comma, no key twice). Unknown keys, values of the wrong
/// type or out of range, and settings that contradict each other are refused with the file and
/// the key named, so that a bad file never reaches a simulator's or an agent's own checks (which
/// trap).
public enum ConfigurationFile {
    /// Sets `configuration`'s fields from the file at `path`, then checks the settings against
    /// each other (`FileConfigurable.contradiction`). Nothing is changed when the file is refused.
    public static func load<Configuration: FileConfigurable>(_ path: String, into configuration: inout Configuration)
        throws(ConfigurationFileError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationFileError(path: path, reason: "there is no such file")
        }
        guard !isDirectory.boolValue else { throw ConfigurationFileError(path: path, reason: "is a folder, not a settings file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationFileError(path: path, reason: "cannot read the file (\(String(cString: strerror(errno))))")
        }
        try load(data, origin: path, into: &configuration)
    }

    /// Sets `configuration`'s fields from the settings `text` (a file's contents, or `text(of:)`);
    /// errors name `origin` as the file.
    public static func load<Configuration: FileConfigurable>(text: String, origin: String, into configuration: inout Configuration)
        throws(ConfigurationFileError) {
        try load(Data(text.utf8), origin: origin, into: &configuration)
    }

    /// Every key of `configuration` with its value, as one JSON object with the keys sorted: the
    /// settings in full, so that `load(text:origin:into:)` rebuilds them whatever the defaults.
    public static func text<Configuration: FileConfigurable>(of configuration: Configuration) -> String {
        let fields = Configuration.fileKeys.sorted { $0.key < $1.key }.map { name, key in "\"\(name)\":" + key.text(in: configuration) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func load<Configuration: FileConfigurable>(_ data: Data, origin path: String, into configuration: inout Configuration)
        throws(ConfigurationFileError) {
        func refuse(_ reason: String, key: String? = nil) -> ConfigurationFileError {
            ConfigurationFileError(path: path, key: key, reason: reason)
        }
        // DRLNN's strict parser: a key given twice is refused (JSONSerialization kept the last).
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(Array(data)) } catch { throw refuse("not valid JSON (\(error))") }
        guard case .object(let object) = parsed else { throw refuse("the file must hold one JSON object of settings, not \(parsed.typeName)") }
        let keys = Configuration.fileKeys
        var loaded = configuration
        for name in object.keys.sorted() {
            guard let key = keys[name] else {
                throw refuse("unknown key '\(name)'; the keys are \(keys.keys.sorted().joined(separator: ", "))")
            }
            if let problem = key.apply(object[name]!, to: &loaded) { throw refuse(problem, key: name) }
        }
        if let contradiction = loaded.contradiction { throw refuse(contradiction) }
        configuration = loaded
    }
}
