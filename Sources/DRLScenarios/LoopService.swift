import DRLServing
import Foundation

/// A service the closed loop serves its traffic through: the recommendation API, and what the
/// loop needs of it around the API. In this process (`InProcessLoopServices`) or a server the loop
/// reaches over HTTP (`drlrec loop --http`).
public protocol LoopService: RecommendationEndpoint {
    /// After each user: checks the rollout's guardrail when the service leaves that to its caller
    /// (a server checks it on its own, each second, and answers nil); the reason when it stopped
    /// the rollout.
    func checkGuardrail() async throws -> String?
    /// After the night's changes to the registry: returns once the service serves what the
    /// registry says.
    func catchUp() async throws
    /// What happened to the service since the last call that the day's report should show (a
    /// server that stopped and was started again).
    func takeEvents() -> [String]
    /// Stops the service (its logs closed, everything acknowledged on disk).
    func shutDown() async
}

/// Starts the loop's services: one for the learning system, one for the frozen version.
public protocol LoopServiceHost: Sendable {
    /// Serves `registry` with `configuration` (its impression log and exploration among it),
    /// logging feedback to `feedbackPath`.
    func start(name: String, registry: String, feedbackPath: String, configuration: RecommendationService.Configuration) async throws -> any LoopService
}

/// The loop's services as `RecommendationService`s in this process: the code path of
/// `drlrec serve` without the network.
public struct InProcessLoopServices: LoopServiceHost {
    public init() {}

    public func start(name: String, registry: String, feedbackPath: String, configuration: RecommendationService.Configuration) async throws -> any LoopService {
        try InProcessLoopService(RecommendationService(registry: try ModelRegistry(directory: registry), feedbackPath: feedbackPath, configuration: configuration))
    }
}

final class InProcessLoopService: LoopService {
    let service: RecommendationService

    init(_ service: RecommendationService) { self.service = service }

    func recommend(_ request: RecommendRequest) async throws -> Recommendation { try await service.recommend(request) }
    func feedback(_ request: FeedbackRequest) async throws { try await service.feedback(request) }
    func checkGuardrail() async throws -> String? { try service.enforceGuardrail() }
    func catchUp() async throws { _ = try service.reload() }
    func takeEvents() -> [String] { [] }
    func shutDown() async {
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
    }
}
