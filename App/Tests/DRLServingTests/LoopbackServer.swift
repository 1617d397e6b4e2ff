import Foundation
import Logging
@testable import DRLServer
@testable import DRLServing

/// The real server over a service for `registry`, on a free loopback port: runs `body` with the
/// port and the server, then stops both.
enum LoopbackServer {
    static func run(_ registry: ModelRegistry, service configuration: RecommendationService.Configuration,
                    server serverConfiguration: HTTPServer.Configuration, _ body: (Int, HTTPServer) async throws -> Void) async throws {
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
        let (server, port, running) = try await start(service, serverConfiguration)
        defer {
            running.cancel()
            service.feedbackLog.shutDown()
        }
        try await body(port, server)
    }

    /// The real server over `service` on a free loopback port, running until `running` is cancelled.
    static func start(_ service: RecommendationService, _ serverConfiguration: HTTPServer.Configuration) async throws
        -> (server: HTTPServer, port: Int, running: Task<Void, any Error>) {
        var serverConfiguration = serverConfiguration
        serverConfiguration.port = 0
        var logger = Logger(label: "test")
        logger.logLevel = .critical  // cancelling the server at the end logs an error
        let server = HTTPServer(service: service, configuration: serverConfiguration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await server.run { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw RegistryError("the server stopped before it listened") }
        return (server, port, running)
    }
}
