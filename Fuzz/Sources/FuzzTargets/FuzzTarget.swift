import Foundation

/// A parser of untrusted input under fuzzing, and what one input does to it. An input may make it
/// throw (that is the parser refusing bad input, as it should); it must never trap, and what it
/// accepts must have the target's properties (`FuzzFailure` otherwise, which the harness turns
/// into a crash that libFuzzer records).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A checkpoint file: the safetensors reader, then every servable model kind's loader.
    case safetensors
    /// A logged-interactions CSV file (`drlrec fit --data`, the feedback and impression logs).
    case interactions
    /// The binary cache of a logged-interactions file (`InteractionCache`).
    case cache
    /// A simulator configuration file, for each of the three scenarios.
    case configuration
    /// A registry's JSON files and logs as a restarting server reads them.
    case registry
    /// A body of `POST /v1/recommend` or `/v1/feedback`.
    case requests

    /// Runs one input; returns whether the target accepted it all the way (a checkpoint that
    /// loads as a model, a registry the service starts on, a body both parsed and decoded).
    @discardableResult
    public func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        switch self {
        case .safetensors: try SafeTensorsTarget.run(input)
        case .interactions: try InteractionsTarget.run(input)
        case .cache: try LogCacheTarget.run(input)
        case .configuration: try ConfigurationTarget.run(input)
        case .registry: try RegistryTarget.run(input)
        case .requests: try RequestsTarget.run(input)
        }
    }
}

/// An accepted input whose result breaks a property the target checks.
public struct FuzzFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The scratch folder of this process's fuzzing (in memory when /dev/shm exists: every input
/// goes through a file, as the real readers read files).
enum FuzzScratch {
    static let directory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/drlrec-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `bytes` to `name` in the scratch folder and returns its path.
    static func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
