import DRLData
import DRLRanking
import DRLScenarios
import DRLServing
import Foundation

/// A registry as a restarting server finds it, with one of its files written by an attacker. The
/// input's first byte chooses the file (`RegistryFile`), the rest is its content; the other files
/// are those of a registry with one served next-item model, a few logged lists and clicks, and
/// the service's snapshot of them. The registry's readers and the service's start (loading
/// versions, the snapshot, replaying both logs) see it. A snapshot input is its body: the target
/// adds the checksum, so that the fuzzer reaches the reader past it. When a start used the
/// snapshot, a second start (from the snapshot the first left) must know the same users and counts.
enum RegistryTarget {
    enum RegistryFile: UInt8, CaseIterable {
        case versionRecord, state, feedbackLog, impressionLog, snapshot

        var path: String {
            switch self {
            case .versionRecord: "versions/v1/version.json"
            case .state: "state.json"
            case .feedbackLog: "feedback.csv"
            case .impressionLog: "impressions.csv"
            case .snapshot: "feedback.csv.snapshot"
            }
        }
    }

    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let selector = input.first else { return false }
        let file = RegistryFile.allCases[Int(selector) % RegistryFile.allCases.count]
        let directory = FuzzScratch.directory + "/registry"
        try? FileManager.default.removeItem(atPath: directory)
        do { try FileManager.default.copyItem(atPath: template, toPath: directory) } catch {
            fatalError("copying the registry template failed: \(error)")
        }
        let content = Array(input.dropFirst())
        _ = FileManager.default.createFile(atPath: directory + "/" + file.path,
                                           contents: Data(file == .snapshot ? content + Array(SHA256.hex(content).utf8) : content))
        guard let registry = try? ModelRegistry(directory: directory, create: false) else { return false }
        for version in (try? registry.versions()) ?? [] {
            _ = try? registry.lineage(of: version.id)
            _ = try? registry.checkpointPath(of: version.id)
        }
        _ = try? registry.state()
        guard let service = try? RecommendationService(registry: registry, feedbackPath: directory + "/feedback.csv",
                                                       configuration: configuration(directory)) else { return false }
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
        guard service.replay.fromSnapshot else { return true }
        guard let again = try? RecommendationService(registry: registry, feedbackPath: directory + "/feedback.csv",
                                                     configuration: configuration(directory)) else {
            throw FuzzFailure("a start from a snapshot succeeded, and the next start failed")
        }
        again.feedbackLog.shutDown()
        again.impressionLog?.shutDown()
        guard again.replay.fromSnapshot, again.histories.userCount == service.histories.userCount,
              again.histories.popularity() == service.histories.popularity() else {
            throw FuzzFailure("the start after a start from a snapshot knows other users or counts (\(again.replay))")
        }
        return true
    }

    private static func configuration(_ directory: String) -> RecommendationService.Configuration {
        var configuration = RecommendationService.Configuration()
        configuration.replicas = 1
        configuration.modelKinds = .drlrec
        configuration.impressionLogPath = directory + "/impressions.csv"
        configuration.snapshotPath = directory + "/" + RegistryFile.snapshot.path
        return configuration
    }

    /// Seeds: each file of the template, under its selector (the snapshot without its checksum).
    static func seeds() -> [[UInt8]] {
        _ = template
        return RegistryFile.allCases.map { file in
            let content = [UInt8](FileManager.default.contents(atPath: template + "/" + file.path) ?? Data())
            return [file.rawValue] + (file == .snapshot ? Array(content.dropLast(64)) : content)
        }
    }

    /// A registry with version v1 (a small untrained next-item model) in production, a feedback
    /// log with clicks (some naming their list) and an impression log with the lists.
    private static let template: String = {
        let directory = FuzzScratch.directory + "/template"
        try? FileManager.default.removeItem(atPath: directory)
        let log = SyntheticLog.generate(users: 6, items: 12, eventsPerUser: 4, seed: 1)
        var settings = NextItemModel.Configuration()
        (settings.historyLength, settings.dimension) = (4, 8)
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: settings, seed: 1)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try model.save(to: directory + "/model.safetensors")
            let registry = try ModelRegistry(directory: directory)
            try registry.register(checkpoint: directory + "/model.safetensors", scenario: "fuzz", dataHash: "-")
            try registry.promote("v1")
            try FileManager.default.removeItem(atPath: directory + "/model.safetensors")
            let columns = log.contextColumns
            var impressions = Array(ImpressionLog.header(contextColumns: columns).utf8)
            var feedback = Array(FeedbackLog.header(contextColumns: columns).utf8)
            for user in 0..<3 {
                let context = [Float](repeating: 0.5, count: columns.count)
                let items = (0..<3).map { (id: log.itemIds[(user + $0) % log.itemCount], propensity: 1.0) }
                let list = Impression(id: "list-\(user)", user: "u\(user)", timestamp: Int64(100 + user), version: "v1", arm: .control,
                                      context: context, items: items)
                impressions += ImpressionLog.lines(list)
                let click = FeedbackEvent(user: list.user, item: items[1].id, timestamp: list.timestamp + 1, event: .click, context: context,
                                          served: .init(impression: list.id, position: 2, version: "v1", arm: "control"))
                feedback += FeedbackLog.line(click, withServed: true)
            }
            _ = FileManager.default.createFile(atPath: directory + "/" + RegistryFile.impressionLog.path, contents: Data(impressions))
            _ = FileManager.default.createFile(atPath: directory + "/" + RegistryFile.feedbackLog.path, contents: Data(feedback))
            let service = try RecommendationService(registry: registry, feedbackPath: directory + "/" + RegistryFile.feedbackLog.path,
                                                    configuration: configuration(directory))  // writes the snapshot
            service.feedbackLog.shutDown()
            service.impressionLog?.shutDown()
        } catch {
            fatalError("making the registry template failed: \(error)")
        }
        return directory
    }()
}
