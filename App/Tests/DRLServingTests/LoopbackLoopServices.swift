import DRLScenarios
import Foundation
@testable import DRLServer
@testable import DRLServing

/// The closed loop's services as the real HTTP server on loopback, reached through
/// `RecommendationClient`: the traffic's requests and feedback go through JSON and sockets. The
/// guardrail and the nightly re-read of the registry are the service's own, called when the loop
/// calls them (the server's once-a-second poll is off), so that a run over HTTP can be compared
/// request for request with the same run in process.
struct LoopbackLoopServices: LoopServiceHost {
    func start(name: String, registry: String, feedbackPath: String, configuration: RecommendationService.Configuration) async throws -> any LoopService {
        let service = try RecommendationService(registry: try ModelRegistry(directory: registry), feedbackPath: feedbackPath, configuration: configuration)
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.registryPollInterval = .seconds(86_400)
        let (_, port, running) = try await LoopbackServer.start(service, serverConfiguration)
        return LoopbackLoopService(service: service, client: RecommendationClient(port: port), running: running)
    }
}

final class LoopbackLoopService: LoopService {
    let service: RecommendationService, client: RecommendationClient, running: Task<Void, any Error>

    init(service: RecommendationService, client: RecommendationClient, running: Task<Void, any Error>) {
        (self.service, self.client, self.running) = (service, client, running)
    }

    func recommend(_ request: RecommendRequest) async throws -> Recommendation { try await client.recommend(request) }
    func feedback(_ request: FeedbackRequest) async throws { try await client.feedback(request) }
    func checkGuardrail() async throws -> String? { try service.enforceGuardrail() }
    func catchUp() async throws { _ = try service.reload() }
    func takeEvents() -> [String] { [] }
    func shutDown() async {
        await client.close()
        running.cancel()
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
    }
}
