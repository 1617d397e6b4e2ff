import DRLData
import DRLNN
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One registered model: where it came from and how it did. Immutable once registered.
public struct ModelVersion: Codable, Equatable, Sendable {
    public var id: String
    /// The version it was fine-tuned from (nil for a model trained from scratch).
    public var parent: String?
    /// What it serves: a scenario or dataset name.
    public var scenario: String
    /// SHA-256 of the training data and of the configuration (the hyperparameters, sorted).
    public var dataHash: String
    public var configurationHash: String
    public var hyperparameters: [String: String]
    public var metrics: [String: Double]
    /// ISO 8601, UTC.
    public var createdAt: String
    /// The checkpoint's file name inside the version's folder, and its SHA-256.
    public var checkpoint: String
    public var checkpointHash: String
    /// The kind of model the checkpoint holds (its metadata `drlrec.model`: "next-item",
    /// "slate-ranker", …); nil in records written before the registry recorded kinds.
    public var kind: String?
}

/// What serves now: the production version, the earlier ones (for rollback) and a gray release's
/// candidate with its share of users; and an audit trail of every change.
public struct RegistryState: Codable, Equatable, Sendable {
    /// A gray release: the candidate version and its share of users.
    public struct Rollout: Codable, Equatable, Sendable {
        public var candidate: String
        public var share: Double
    }

    /// One entry of the audit trail: when, what (register, promote, rollback, rollout, refusal, …),
    /// which version and why.
    public struct Event: Codable, Equatable, Sendable {
        public var time: String
        public var action: String
        public var version: String?
        public var note: String?
    }

    public var production: String?
    /// Versions that were in production before, the most recent last.
    public var history: [String] = []
    public var rollout: Rollout?
    public var events: [Event] = []

    public init() {}

    /// The traffic split of the current rollout (salted with the candidate, so each rollout
    /// draws its own users).
    public var split: TrafficSplit? {
        rollout.map { TrafficSplit(candidateShare: $0.share, salt: $0.candidate) }
    }
}

/// Why a registry call was refused or failed (a missing registry or version, a damaged record, a
/// write that failed), in words that name the folder, version or file.
public struct RegistryError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A model registry in a folder, durable without a database server:
///
///     DIR/versions/v1/version.json   metadata (ModelVersion)
///     DIR/versions/v1/model.safetensors
///     DIR/state.json                 RegistryState
///     DIR/registry.lock              writers hold an exclusive flock on it
///
/// A version is assembled in a staging folder (files fsync'd) and appears by one rename, so a
/// crash while registering leaves the registry as it was (the staging folder is removed by the next
/// writer). `state.json` is replaced by an atomic rename, so promote, rollback and rollouts are
/// all-or-nothing. Readers take no lock: every file they read is complete.
public final class ModelRegistry: @unchecked Sendable {
    public let directory: String
    private var versionsDirectory: String { directory + "/versions" }
    private var statePath: String { directory + "/state.json" }

    /// Opens the registry in `directory`, creating it when missing unless `create` is false.
    public init(directory: String, create: Bool = true) throws(RegistryError) {
        self.directory = directory
        if !create {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/versions", isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RegistryError("there is no registry at '\(directory)' (register a model with drlrec fit --registry or drlrec registry register)")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory + "/versions", withIntermediateDirectories: true)
        } catch {
            throw RegistryError("cannot create the registry folder '\(directory)': \(error.localizedDescription)")
        }
    }

    // MARK: Reading

    public func versions() throws(RegistryError) -> [ModelVersion] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: versionsDirectory) } catch {
            throw RegistryError("cannot list '\(versionsDirectory)': \(error.localizedDescription)")
        }
        var result: [ModelVersion] = []
        for name in names where Self.number(of: name) != nil {
            result.append(try version(name))
        }
        return result.sorted { Self.number(of: $0.id)! < Self.number(of: $1.id)! }
    }

    public func version(_ id: String) throws(RegistryError) -> ModelVersion {
        let path = "\(versionsDirectory)/\(id)/version.json"
        guard Self.number(of: id) != nil, let bytes = try readFile(path) else {
            throw RegistryError("registry '\(directory)' has no version '\(id)'")
        }
        let record: ModelVersion
        do { record = try JSONDecoder().decode(ModelVersion.self, from: Data(bytes)) } catch {
            throw RegistryError("'\(path)' is not a valid version record: \(error)")
        }
        guard record.id == id else { throw RegistryError("'\(path)' names version '\(record.id)', but it is the record of '\(id)'") }
        // The checkpoint is read (and hashed, and loaded) from the version's folder: a record
        // edited to name '../../elsewhere' must not make the registry read outside itself.
        guard !record.checkpoint.isEmpty, record.checkpoint != ".", record.checkpoint != "..",
              !record.checkpoint.contains(where: { $0 == "/" || $0 == "\0" }) else {
            throw RegistryError("'\(path)' names the checkpoint '\(record.checkpoint)', which is not a file name inside the version's folder")
        }
        return record
    }

    /// The version, its parent, its parent's parent… back to a model trained from scratch.
    public func lineage(of id: String) throws(RegistryError) -> [ModelVersion] {
        var chain = [try version(id)]
        while let parent = chain.last!.parent {
            guard !chain.contains(where: { $0.id == parent }) else { throw RegistryError("version '\(id)' has a cycle in its lineage at '\(parent)'") }
            chain.append(try version(parent))
        }
        return chain
    }

    public func state() throws(RegistryError) -> RegistryState {
        guard let bytes = try readFile(statePath) else { return RegistryState() }
        do { return try JSONDecoder().decode(RegistryState.self, from: Data(bytes)) } catch {
            throw RegistryError("'\(statePath)' is not a valid registry state: \(error)")
        }
    }

    /// The path of a version's checkpoint, after checking that the file is the one registered.
    public func checkpointPath(of id: String) throws(RegistryError) -> String {
        let record = try version(id)
        let path = "\(versionsDirectory)/\(id)/\(record.checkpoint)"
        guard let bytes = try readFile(path) else { throw RegistryError("the checkpoint of version '\(id)' is missing: '\(path)'") }
        let hash = SHA256.hex(bytes)
        guard hash == record.checkpointHash else {
            throw RegistryError("the checkpoint of version '\(id)' ('\(path)') is corrupted: its SHA-256 is \(hash), registered \(record.checkpointHash)")
        }
        return path
    }

    // MARK: Writing

    /// Registers `checkpoint` (copied into the registry) as a new version.
    @discardableResult
    public func register(checkpoint: String, parent: String? = nil, scenario: String, dataHash: String,
                         hyperparameters: [String: String] = [:], metrics: [String: Double] = [:]) throws(RegistryError) -> ModelVersion {
        guard let bytes = try readFile(checkpoint) else { throw RegistryError("checkpoint '\(checkpoint)' does not exist") }
        return try withLock { () throws(RegistryError) -> ModelVersion in
            if let parent { _ = try version(parent) }
            let id = "v\((try entries().compactMap(Self.number(of:)).max() ?? 0) + 1)"
            let record = ModelVersion(id: id, parent: parent, scenario: scenario, dataHash: dataHash,
                                      configurationHash: Self.configurationHash(hyperparameters),
                                      hyperparameters: hyperparameters, metrics: metrics,
                                      createdAt: Self.now(), checkpoint: "model.safetensors", checkpointHash: SHA256.hex(bytes),
                                      kind: try? SafeTensors.describe(checkpoint).metadata[ModelCheckpoint.modelKindKey])
            let staging = "\(versionsDirectory)/.staging-\(id)-\(getpid())"
            guard mkdir(staging, 0o755) == 0 else { throw RegistryError("cannot create '\(staging)': \(DurableFile.systemError())") }
            do throws(DurableFile.Failure) {
                try DurableFile.write(bytes, to: "\(staging)/\(record.checkpoint)")
                try DurableFile.write(Self.encode(record), to: "\(staging)/version.json")
                guard rename(staging, "\(versionsDirectory)/\(id)") == 0 else {
                    throw DurableFile.Failure(description: "renaming '\(staging)' failed: \(DurableFile.systemError())")
                }
                try DurableFile.syncDirectory(versionsDirectory)
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw RegistryError("registering '\(checkpoint)' failed: \(error)")
            }
            try appendEvent(action: "register", version: id, note: parent.map { "fine-tuned from \($0)" })
            return record
        }
    }

    /// Makes `id` the production version; the current one becomes the rollback target. A
    /// rollout of `id` ends with it.
    public func promote(_ id: String, note: String? = nil) throws(RegistryError) {
        try withLock { () throws(RegistryError) in
            _ = try checkpointPath(of: id)
            var state = try state()
            guard state.production != id else { throw RegistryError("version '\(id)' is already in production") }
            if let current = state.production { state.history.append(current) }
            state.production = id
            if state.rollout?.candidate == id { state.rollout = nil }
            try save(state, event: RegistryState.Event(time: Self.now(), action: "promote", version: id, note: note))
        }
    }

    /// Puts the previous production version back; returns it.
    @discardableResult
    public func rollback(note: String? = nil) throws(RegistryError) -> String {
        try withLock { () throws(RegistryError) -> String in
            var state = try state()
            guard let previous = state.history.popLast() else {
                throw RegistryError("nothing to roll back to: no version was in production before \(state.production ?? "(none)")")
            }
            state.production = previous
            try save(state, event: RegistryState.Event(time: Self.now(), action: "rollback", version: previous, note: note))
            return previous
        }
    }

    /// Starts (or re-weights) a gray release of `candidate` to `share` of users.
    public func startRollout(_ candidate: String, share: Double, note: String? = nil) throws(RegistryError) {
        guard share > 0 && share < 1 else { throw RegistryError("a rollout's share must be in (0, 1), not \(share)") }
        try withLock { () throws(RegistryError) in
            _ = try checkpointPath(of: candidate)
            var state = try state()
            guard let production = state.production else { throw RegistryError("a rollout needs a production version to compare with: promote one first") }
            guard production != candidate else { throw RegistryError("version '\(candidate)' is the production version") }
            state.rollout = RegistryState.Rollout(candidate: candidate, share: share)
            try save(state, event: RegistryState.Event(time: Self.now(), action: "rollout", version: candidate, note: note ?? "share \(share)"))
        }
    }

    /// Ends the current rollout without promoting its candidate (a rollback of the candidate).
    public func stopRollout(reason: String) throws(RegistryError) {
        try withLock { () throws(RegistryError) in
            var state = try state()
            guard let rollout = state.rollout else { throw RegistryError("no rollout is running") }
            state.rollout = nil
            try save(state, event: RegistryState.Event(time: Self.now(), action: "stop-rollout", version: rollout.candidate, note: reason))
        }
    }

    /// Records in the audit trail that `action` ("promote", "rollout") of `id` was refused, and
    /// why (a gate's numbers); the state is otherwise unchanged.
    public func recordRefusal(of id: String, action: String, reason: String) throws(RegistryError) {
        try withLock { () throws(RegistryError) in
            _ = try checkpointPath(of: id)
            try appendEvent(action: "refuse-\(action)", version: id, note: reason)
        }
    }

    // MARK: Internals

    private func appendEvent(action: String, version: String?, note: String?) throws(RegistryError) {
        try save(try state(), event: RegistryState.Event(time: Self.now(), action: action, version: version, note: note))
    }

    private func save(_ state: RegistryState, event: RegistryState.Event) throws(RegistryError) {
        var state = state
        state.events.append(event)
        do { try DurableFile.write(Self.encode(state), to: statePath) } catch {
            throw RegistryError("saving the registry state failed (the previous state is intact): \(error)")
        }
    }

    /// Runs `body` holding the registry's exclusive lock (across processes), after removing what
    /// a writer killed mid-way left behind: staging folders and temporary state files, which no
    /// reader ever sees and no other writer can be using while the lock is held.
    private func withLock<T>(_ body: () throws(RegistryError) -> T) throws(RegistryError) -> T {
        let path = directory + "/registry.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RegistryError("cannot open the lock '\(path)': \(DurableFile.systemError())") }
        defer { close(fd) }  // closing releases the lock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw RegistryError("cannot lock '\(path)': \(DurableFile.systemError())") }
        }
        for name in try entries() where name.hasPrefix(".staging-") {
            try? FileManager.default.removeItem(atPath: "\(versionsDirectory)/\(name)")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix("state.json.tmp-") {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
        return try body()
    }

    private func entries() throws(RegistryError) -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: versionsDirectory) } catch {
            throw RegistryError("cannot list '\(versionsDirectory)': \(error.localizedDescription)")
        }
    }

    private func readFile(_ path: String) throws(RegistryError) -> [UInt8]? {
        do { return try DurableFile.read(path) } catch { throw RegistryError(error.description) }
    }

    /// 7 for "v7"; nil for anything else.
    static func number(of name: String) -> Int? {
        guard name.hasPrefix("v"), let n = Int(name.dropFirst()), n > 0, "v\(n)" == name else { return nil }
        return n
    }

    static func configurationHash(_ hyperparameters: [String: String]) -> String {
        SHA256.hex(Array(hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8))
    }

    static func now() -> String { Date().ISO8601Format() }

    private static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try! encoder.encode(value)) + [UInt8(ascii: "\n")]
    }
}
