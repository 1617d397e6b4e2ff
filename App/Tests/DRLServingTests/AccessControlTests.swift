import DRLServing
import Foundation
import Testing
@testable import DRLServer

#if canImport(Glibc)
import Glibc
#endif

/// Who may call the server, how often, and over how many connections.
@Suite(.serialized) struct AccessControlTests {
    static let (recommendKey, feedbackKey, anyRouteKey) = ("recommend-key-0123456789", "feedback-key-0123456789", "any-route-key-0123456789")

    func registry() throws -> ModelRegistry {
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("access"))
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        return registry
    }

    func withServer(_ registry: ModelRegistry, _ configure: (inout HTTPServer.Configuration) -> Void,
                    _ body: (Int, HTTPServer) async throws -> Void) async throws {
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        var server = HTTPServer.Configuration()
        configure(&server)
        try await LoopbackServer.run(registry, service: configuration, server: server, body)
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    /// Forged feedback without a key is refused (401, with WWW-Authenticate), with a key of another
    /// route or an unknown one too (403), and never reaches the log; each key opens its routes, the
    /// health routes stay open.
    @Test func feedbackWithoutAValidKeyIsRefusedAndNotLogged() async throws {
        let registry = try registry()
        let keys = APIKeys(keys: [(.recommend, Self.recommendKey), (.feedback, Self.feedbackKey), (nil, Self.anyRouteKey)])
        try await withServer(registry, { $0.apiKeys = keys }) { port, _ in
            let click = #"{"user_id": "u1", "item_id": "i3", "event": "purchase"}"#
            let missing = await LoopbackClient.post(port, "/v1/feedback", click)
            #expect(missing.status == 401 && missing.headers["www-authenticate"] == "Bearer", "\(missing)")
            #expect(await LoopbackClient.post(port, "/v1/feedback", click, headers: ["Authorization": "Basic dTpw"]).status == 401)
            #expect(await LoopbackClient.post(port, "/v1/feedback", click, headers: Self.bearer(Self.recommendKey)).status == 403)
            #expect(await LoopbackClient.post(port, "/v1/feedback", click, headers: Self.bearer("guessed-key-0123456789")).status == 403)
            #expect(await LoopbackClient.post(port, "/v1/feedback", click, headers: Self.bearer(Self.feedbackKey)).status == 200)
            #expect(await LoopbackClient.post(port, "/v1/feedback", click, headers: Self.bearer(Self.anyRouteKey)).status == 200)

            let ask = #"{"user_id": "u1", "k": 2, "context": {"stride": 1}}"#
            #expect(await LoopbackClient.post(port, "/v1/recommend", ask).status == 401)
            #expect(await LoopbackClient.post(port, "/v1/recommend", ask, headers: Self.bearer(Self.feedbackKey)).status == 403)
            #expect(await LoopbackClient.post(port, "/v1/recommend", ask, headers: Self.bearer(Self.recommendKey)).status == 200)
            #expect(await LoopbackClient.get(port, "/livez").status == 200)
            #expect(await LoopbackClient.get(port, "/healthz").status == 200)
        }
        let rows = try String(contentsOfFile: registry.directory + "/feedback.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3, "the header and the two events sent with a feedback key: \(rows)")
    }

    /// Keys files are checked line by line: a bad route, a short key or a line of three words is
    /// refused with its line number; comments and blank lines are skipped.
    @Test func keysFilesAreValidated() throws {
        let path = Fixtures.scratchDirectory("keys") + "/keys"
        func load(_ text: String) -> String? {
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do { _ = try APIKeys(file: path); return nil } catch { return error.description }
        }
        #expect(load("# the app\nrecommend \(Self.recommendKey)\n\n* \(Self.anyRouteKey)  # ops\n") == nil)
        #expect(load("recommend \(Self.recommendKey)\nadmin \(Self.anyRouteKey)\n")?.contains(":2: the route is 'admin'") == true)
        #expect(load("feedback short\n")?.contains(":1: a key must be 16 to 256") == true)
        #expect(load("feedback \(Self.feedbackKey) extra\n")?.contains(":1: has 3 words") == true)
        #expect(load("# nothing\n")?.contains("holds no key") == true)
        let keys = try APIKeys(file: { _ = load("feedback \(Self.feedbackKey)\n"); return path }())
        #expect(keys.verdict(for: .feedback, authorization: "Bearer \(Self.feedbackKey)") != .missing)
        #expect(keys.verdict(for: .recommend, authorization: "Bearer \(Self.feedbackKey)") == .forbidden)
    }

    /// Past its rate, a client is answered 429 with Retry-After; another client (another key) is
    /// not held back by it.
    @Test func aClientOverItsRateIsAnswered429() async throws {
        let keys = APIKeys(keys: [(nil, Self.anyRouteKey), (nil, Self.feedbackKey)])
        try await withServer(try registry(), { $0.apiKeys = keys; $0.rateLimiter = RateLimiter(rate: 0.2, burst: 3) }) { port, _ in
            let ask = #"{"user_id": "new", "k": 2, "context": {"stride": 1}, "history": [{"item_id": "i3", "event": "click", "timestamp": 0}]}"#
            var statuses: [Int] = [], retry: String?
            for _ in 0..<5 {
                let answer = await LoopbackClient.post(port, "/v1/recommend", ask, headers: Self.bearer(Self.anyRouteKey))
                statuses.append(answer.status)
                if answer.status == 429 { retry = answer.headers["retry-after"] }
            }
            #expect(statuses == [200, 200, 200, 429, 429])
            #expect(retry.flatMap(Int.init).map { (1...5).contains($0) } == true, "Retry-After: \(retry ?? "none")")
            #expect(await LoopbackClient.post(port, "/v1/recommend", ask, headers: Self.bearer(Self.feedbackKey)).status == 200)
        }
    }

    /// Without keys, a client is its address: past the burst, loopback's requests are refused and
    /// the answer names it.
    @Test func withoutKeysTheAddressIsTheClient() async throws {
        try await withServer(try registry(), { $0.rateLimiter = RateLimiter(rate: 0.2, burst: 2) }) { port, _ in
            var statuses: [Int] = [], last = LoopbackClient.Answer(status: 0, body: "")
            for _ in 0..<3 {
                last = await LoopbackClient.get(port, "/v1/feedback")  // 405 before the limit: not counted
                last = await LoopbackClient.post(port, "/v1/feedback", "{}")
                statuses.append(last.status)
            }
            #expect(statuses == [400, 400, 429])
            #expect((last.json["error"] as? String)?.contains("too many requests from address:127.0.0.1") == true, "\(last.body)")
        }
    }

    /// A token comes back every 1/rate seconds, and a flood of new clients keeps at most
    /// `maximumClients` buckets while the most recent client keeps its own.
    @Test func rateLimiterRefillsAndStaysBounded() {
        final class Clock: @unchecked Sendable { var now = 0.0 }
        let clock = Clock()
        let limiter = RateLimiter(rate: 2, burst: 2, maximumClients: 100, clock: { clock.now })
        #expect(limiter.take("a") == nil && limiter.take("a") == nil)
        #expect(limiter.take("a").map { abs($0 - 0.5) < 1e-9 } == true)
        clock.now = 0.5
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") != nil)
        for k in 0..<1_000 {
            clock.now += 0.001
            _ = limiter.take("flood-\(k)")
            #expect(limiter.clients <= 100)
        }
        // The most recent client keeps its bucket: one token left of its burst of two.
        #expect(limiter.take("flood-999") == nil && limiter.take("flood-999") != nil)
    }

    /// With at most two connections open, a third waits in the backlog until one closes, then is
    /// answered.
    @Test func connectionsAreBounded() async throws {
        try await withServer(try registry(), { $0.maximumConnections = 2 }) { port, _ in
            let held = [LoopbackClient.connected(to: port), LoopbackClient.connected(to: port)]
            try await Task.sleep(for: .milliseconds(200))
            final class Answered: @unchecked Sendable {
                private let lock = NSLock()
                private var done = false
                var value: Bool { lock.withLock { done } }
                func set() { lock.withLock { done = true } }
            }
            let answered = Answered()
            let third = Task {
                let answer = await LoopbackClient.get(port, "/livez")
                answered.set()
                return answer
            }
            try await Task.sleep(for: .milliseconds(800))
            #expect(!answered.value, "a third connection was served while two were open")
            close(held[0])
            let answer = await third.value
            #expect(answer.status == 200)
            close(held[1])
        }
    }
}
