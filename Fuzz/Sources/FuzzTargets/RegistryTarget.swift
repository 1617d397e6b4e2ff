import DRLData
import DRLRanking
import DRLScenarios
import DRLServing
import Foundation

/// A registry as a restarting server finds it, with one of its files written by an attacker. The
/// input's first byte chooses the file (`RegistryFile`), the rest is its content; the other files
/// are those of a registry with one served next-item model and a few logged lists and clicks.
/// The registry's readers and the service's start (loading versions, replaying both logs) see it.
enum RegistryTarget {
    enum RegistryFile: UInt8, CaseIterable {
        case versionRecord, state, feedbackLog, impressionLog

        var path: String {
            switch self {
            case .versionRecord: "versions/v1/version.json"
            case .state: "state.json"
            case .feedbackLog: "feedback.csv"
            case .impressionLog: "impressions.csv"
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
        _ = FileManager.default.createFile(atPath: directory + "/" + file.path, contents: Data(input.dropFirst()))
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
        return true
    }

    private static func configuration(_ directory: String) -> RecommendationService.Configuration {
        var configuration = RecommendationService.Configuration()
        configuration.replicas = 1
        configuration.modelKinds = .drlrec
        configuration.impressionLogPath = directory + "/impressions.csv"
        return configuration
    }

    /// Seeds: each file of the template, under its selector.
    static func seeds() -> [[UInt8]] {
        _ = template
        return RegistryFile.allCases.map { file in
            [file.rawValue] + [UInt8](FileManager.default.contents(atPath: template + "/" + file.path) ?? Data())
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
        } catch {
            fatalError("making the registry template failed: \(error)")
        }
        return directory
    }()
}
