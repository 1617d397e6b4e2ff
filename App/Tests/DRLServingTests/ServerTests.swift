import DRLNN
import DRLData
import DRLRanking
import DRLTensor
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import DRLServer
@testable import DRLServing

/// The real server on a loopback port, spoken to over HTTP.
@Suite(.serialized) struct ServerTests {
    /// Starts a server for the registry on a free port, runs `body` with the port, and stops it.
    func withServer(_ registry: ModelRegistry, pollInterval: Duration = .seconds(1), idleTimeout: Duration = .seconds(30),
                    _ body: (Int, HTTPServer) async throws -> Void) async throws {
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)  // debug builds on a loaded machine are slow
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.maxBodyBytes = 16 * 1024
        serverConfiguration.registryPollInterval = pollInterval
        serverConfiguration.idleTimeout = idleTimeout
        try await LoopbackServer.run(registry, service: configuration, server: serverConfiguration, body)
    }

    /// A client that stops half-way through its request (or never sends one) is cut off after the
    /// idle timeout instead of holding its socket for good; a whole request is still answered.
    @Test func aConnectionThatStopsSendingIsClosed() async throws {
        try await withServer(try registry(), idleTimeout: .seconds(1)) { port, _ in
            let partial = await LoopbackClient.secondsUntilClosed(port: port, after: "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", limit: 10)
            let closed = try #require(partial, "a connection holding a partial header was still open after 10 s")
            #expect(closed >= 0.5 && closed < 8, "closed after \(closed) s")
            let silent = await LoopbackClient.secondsUntilClosed(port: port, after: "", limit: 10)
            #expect(silent != nil)
            #expect(await LoopbackClient.get(port, "/livez").status == 200)
        }
    }

    /// An HTTP/1.0 request is answered in HTTP/1.0 and its connection closed after the answer
    /// (before, the answer said HTTP/1.1 and the connection stayed open); one that asks for
    /// keep-alive keeps it, and an HTTP/1.1 connection stays open as before.
    @Test func http10IsAnsweredIn10AndClosed() async throws {
        try await withServer(try registry(), idleTimeout: .seconds(30)) { port, _ in
            let plain = await LoopbackClient.exchange(port: port, "GET /livez HTTP/1.0\r\n\r\n", limit: 5)
            #expect(plain.text.hasPrefix("HTTP/1.0 200") && plain.text.lowercased().contains("connection: close") && plain.text.hasSuffix(#"{"status":"ok"}"#))
            #expect(plain.closed, "the HTTP/1.0 connection was still open after 5 s")
            let body = #"{"user_id":"u1","k":2}"#
            let posted = await LoopbackClient.exchange(port: port, "POST /v1/recommend HTTP/1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body, limit: 5)
            #expect(posted.text.hasPrefix("HTTP/1.0 ") && posted.closed)
            let twice = await LoopbackClient.exchange(port: port, String(repeating: "GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", count: 2), limit: 2)
            #expect(twice.text.components(separatedBy: "HTTP/1.0 200").count == 3 && twice.text.lowercased().contains("connection: keep-alive"))
            #expect(!twice.closed, "a keep-alive HTTP/1.0 connection was closed")
            let eleven = await LoopbackClient.exchange(port: port, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n", limit: 2)
            #expect(eleven.text.hasPrefix("HTTP/1.1 200") && !eleven.closed)
        }
    }

    /// A known path asked with a method it does not serve is 405 with Allow, not 404; the GET
    /// routes answer HEAD with their headers and no body; an unknown path is still 404.
    @Test func knownPathsAnswer405AndHEAD() async throws {
        try await withServer(try registry()) { port, _ in
            let get = await LoopbackClient.request(port: port, method: "GET", path: "/v1/recommend")
            #expect(get.status == 405 && get.headers["allow"] == "POST" && get.json["error"] as? String == "/v1/recommend answers POST, not GET")
            let delete = await LoopbackClient.request(port: port, method: "DELETE", path: "/healthz")
            #expect(delete.status == 405 && delete.headers["allow"] == "GET, HEAD")
            #expect(await LoopbackClient.request(port: port, method: "PUT", path: "/v1/feedback", body: "{}").status == 405)
            let head = await LoopbackClient.request(port: port, method: "HEAD", path: "/healthz")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(await LoopbackClient.request(port: port, method: "HEAD", path: "/livez").status == 200)
            #expect(await LoopbackClient.get(port, "/nothing").status == 404)
            #expect(await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "u1", "k": ["#).status == 400)
        }
    }

    /// A chunked body whose chunk size is not hexadecimal is the client's fault: 400 (it was 503).
    @Test func badChunkFramingIs400() async throws {
        try await withServer(try registry()) { port, _ in
            let fd = LoopbackClient.connected(to: port)
            defer { close(fd) }
            let request = Array("POST /v1/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress!, request.count, Int32(MSG_NOSIGNAL)) }
            var chunk = [UInt8](repeating: 0, count: 4096), received: [UInt8] = []
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { break }
                received += chunk[0..<n]
            }
            let answer = String(decoding: received, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        }
    }

    func registry() throws -> ModelRegistry {
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("serve"))
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        return registry
    }

    @Test func recommendsLearnsFromFeedbackAndReports() async throws {
        try await withServer(try registry()) { port, _ in
            let health = await LoopbackClient.get(port, "/healthz")
            #expect(health.status == 200 && health.json["production"] as? String == "v1")
            let live = await LoopbackClient.get(port, "/livez")
            #expect(live.status == 200 && live.body == #"{"status":"ok"}"#)

            // A new user's history, given in the request: stride 1 from i3 leads to i7.
            let given = await LoopbackClient.post(port, "/v1/recommend", """
                {"user_id": "new", "k": 3, "context": {"stride": 1}, "history": [
                 {"item_id": "i3", "event": "click", "timestamp": 0}, {"item_id": "i4", "event": "click", "timestamp": 3600},
                 {"item_id": "i5", "event": "click", "timestamp": 7200}, {"item_id": "i6", "event": "click", "timestamp": 10800}]}
                """)
            #expect(given.status == 200, "\(given.body)")
            let items = (given.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }
            #expect(items.count == 3 && items.first == "i7", "\(given.body)")
            #expect(!items.contains("i5") && !items.contains("i6"))  // seen items are left out
            // Without exploration each item is at its position with certainty.
            #expect((given.json["items"] as? [[String: Any]] ?? []).allSatisfy { $0["propensity"] as? Double == 1 }, "\(given.body)")
            #expect(given.json["version"] as? String == "v1" && given.json["arm"] as? String == "control")
            #expect(given.json["fallback"] == nil)

            // The server keeps the history from feedback: stride 2 from i10.
            let unknown = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "walker", "k": 1}"#)
            #expect(unknown.status == 404, "\(unknown.body)")
            for (t, item) in ["i10", "i12", "i14", "i16"].enumerated() {
                let logged = await LoopbackClient.post(port, "/v1/feedback",
                    #"{"user_id": "walker", "item_id": "\#(item)", "event": "click", "timestamp": \#(t * 3600), "context": {"stride": 2}}"#)
                #expect(logged.status == 200, "\(logged.body)")
            }
            let kept = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "walker", "k": 1}"#)
            #expect(kept.status == 200)
            #expect((kept.json["items"] as? [[String: Any]])?.first?["item_id"] as? String == "i18", "\(kept.body)")
            let candidates = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "walker", "k": 5, "candidates": ["i1", "i2"]}"#)
            #expect(Set((candidates.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }) == ["i1", "i2"])

            let metrics = await LoopbackClient.get(port, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"drlrec_http_requests_total{route="recommend",status="200"} 3"#), "\(metrics.body)")
            #expect(metrics.body.contains(#"drlrec_http_requests_total{route="recommend",status="404"} 1"#))
            #expect(metrics.body.contains("drlrec_feedback_events_total 4"))
            #expect(metrics.body.contains(#"drlrec_version_requests_total{version="v1",arm="control"} 3"#))
            #expect(metrics.body.contains("drlrec_http_request_duration_seconds_bucket"))
        }
    }

    /// Each kind of bad request gets a 4xx answer whose message names the problem.
    @Test func rejectsBadRequestsWithClearMessages() async throws {
        let registry = try registry()
        try await withServer(registry) { port, _ in
            let cases: [(path: String, body: String, status: Int, mentions: String)] = [
                ("/v1/recommend", #"{"user_id": "a", "k": 3"#, 400, "not valid JSON"),
                ("/v1/recommend", #"[1, 2]"#, 400, "must be a JSON object"),
                ("/v1/recommend", #"{"user_id": 7, "k": 3}"#, 400, "'user_id' must be a string"),
                ("/v1/recommend", #"{"user_id": "a", "k": "ten", "history": []}"#, 400, "'k' must be a finite number"),
                ("/v1/recommend", #"{"user_id": "a", "k": 2.5, "history": []}"#, 400, "'k' must be an integer"),
                ("/v1/recommend", #"{"user_id": "a", "k": 1000, "history": []}"#, 400, "between 1 and 24"),
                ("/v1/recommend", #"{"user_id": "a", "k": 0, "history": []}"#, 400, "between 1 and 24"),
                ("/v1/recommend", #"{"user_id": "a", "kk": 3}"#, 400, "unknown field 'kk'"),
                ("/v1/recommend", #"{"user_id": "a", "k": 3, "history": [{"item_id": "i999", "event": "click"}]}"#, 404, "unknown item 'i999'"),
                ("/v1/recommend", #"{"user_id": "a", "k": 3, "history": [{"item_id": "i1", "event": "poke"}]}"#, 400, "'history[0].event' is 'poke'"),
                ("/v1/recommend", #"{"user_id": "a", "k": 3, "history": [], "candidates": ["i1", "zz"]}"#, 404, "unknown candidate items: zz"),
                ("/v1/recommend", #"{"user_id": "a", "k": 3, "history": [], "context": {"age": 3}}"#, 400, "unknown field 'age'"),
                ("/v1/recommend", #"{"user_id": "nobody", "k": 3}"#, 404, "unknown user 'nobody'"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "nope", "event": "click"}"#, 404, "unknown item 'nope'"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "i1"}"#, 400, "'event' is missing"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "i1", "event": "click", "impression_id": "nope", "position": 1}"#, 404,
                 "unknown impression 'nope'"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "i1", "event": "click", "impression_id": "nope"}"#, 400, "'position' is missing"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "i1", "event": "click", "position": 2}"#, 400, "without 'impression_id'"),
                // A NUL would cut the log's line short and keep the server from reading its log again.
                ("/v1/feedback", #"{"user_id": "nul\u0000user", "item_id": "i5", "event": "click"}"#, 400, "line breaks or NUL"),
                ("/v1/feedback", #"{"user_id": "a", "item_id": "i1", "event": "click", "value": "x"}"#, 400, "'value' must be a finite number"),
                // Every user id is kept: a client may not grow the server with ids of any length.
                ("/v1/feedback", #"{"user_id": "\#(String(repeating: "u", count: 257))", "item_id": "i1", "event": "click"}"#, 400,
                 "is 257 bytes long; ids may be at most 256"),
                ("/v1/recommend", #"{"user_id": "\#(String(repeating: "u", count: 300))", "k": 3, "history": []}"#, 400, "ids may be at most 256"),
                ("/v1/recommend", #"{"user_id": "a", "k": 3, "history": [], "candidates": ["\#(String(repeating: "x", count: 20_000))"]}"#,
                 413, "exceeds 16384 bytes"),
            ]
            for c in cases {
                let answer = await LoopbackClient.post(port, c.path, c.body)
                #expect(answer.status == c.status, "\(c.body.prefix(80)) → \(answer.status) \(answer.body.prefix(200))")
                #expect((answer.json["error"] as? String)?.contains(c.mentions) == true, "\(c.body.prefix(80)) → \(answer.body.prefix(200))")
            }
            let lines = try String(contentsOfFile: registry.directory + "/feedback.csv", encoding: .utf8)
            #expect(lines.split(separator: "\n").count == 1)  // nothing bad was logged: only the header
        }
    }

    /// The service's request errors say nothing of HTTP; the server alone maps them: whatever
    /// names something the server does not have is 404, any other fault of the request 400.
    @Test func requestErrorsMapToHTTPStatuses() {
        let cases: [(error: RequestError, status: Int)] = [
            (.invalidField("k", reason: "is 0; it must be between 1 and 24"), 400),
            (.lineBreakInId("a\nb"), 400),
            (.unknownContextField("age", known: ["stride"]), 400),
            (.unknownItem("i999"), 404),
            (.unknownCandidates(["zz"]), 404),
            (.unknownUser("nobody"), 404),
            (.inHistory(index: 2, .unknownItem("i999")), 404),
            (.inHistory(index: 2, .invalidField("value", reason: "is not finite")), 400),
        ]
        for c in cases { #expect(c.error.httpStatus.code == c.status, "\(c.error)") }
        #expect(RequestError.inHistory(index: 2, .unknownItem("i999")).description == "history[2]: unknown item 'i999'")
    }

    /// A production version whose scores are NaN is answered by the version before it, and the
    /// fallback is reported in the answer and counted.
    @Test func aNaNModelIsAnsweredByTheFallback() async throws {
        let registry = try registry()
        let broken = try NextItemModel.load(from: Fixtures.cycleCheckpoint)
        var bias = try #require(broken.store.parameters.first { $0.name == "output.bias" }).parameter.value
        bias[flat: 3] = .nan
        let path = Fixtures.scratchDirectory("nan") + "/nan.safetensors"
        try broken.save(to: path)
        try registry.register(checkpoint: path, parent: "v1", scenario: "cycle", dataHash: "d")
        try await withServer(registry) { port, server in
            try registry.promote("v2")
            #expect(try server.service.reload())
            let answer = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "a", "k": 2, "history": []}"#)
            #expect(answer.status == 200)
            #expect(answer.json["version"] as? String == "v1", "\(answer.body)")
            let fallback = answer.json["fallback"] as? [String: Any]
            #expect(fallback?["reason"] as? String == "non_finite_scores" && fallback?["served_by"] as? String == "v1")
            let metrics = await LoopbackClient.get(port, "/metrics")
            #expect(metrics.body.contains(#"drlrec_fallbacks_total{reason="non_finite_scores",served_by="v1"} 1"#), "\(metrics.body)")
        }

        // With no other version to answer, item popularity does.
        let lone = try ModelRegistry(directory: Fixtures.scratchDirectory("lone"))
        try lone.register(checkpoint: path, scenario: "cycle", dataHash: "d")
        try lone.promote("v1")
        try await withServer(lone) { port, _ in
            let answer = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "a", "k": 2, "history": []}"#)
            #expect(answer.status == 200)
            #expect(answer.json["version"] is NSNull, "\(answer.body)")
            #expect((answer.json["fallback"] as? [String: Any])?["served_by"] as? String == "popularity")
            #expect((answer.json["items"] as? [[String: Any]])?.count == 2)
        }
    }

    /// A version that overruns its latency budget has its answer discarded: the fallback serves
    /// the request, and the version is bypassed during its cooldown.
    @Test func aModelOverItsLatencyBudgetIsAnsweredByTheFallback() async throws {
        let registry = try registry()
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .nanoseconds(1)
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
        defer { service.feedbackLog.shutDown() }
        var request = RecommendRequest(user: "a", k: 3)
        request.history = []
        for _ in 0..<2 {
            let answer = try await service.recommend(request)
            #expect(answer.version == nil && answer.fallback == Recommendation.Fallback(fault: .timeout, servedBy: "popularity"))
            #expect(answer.items.count == 3)
        }
    }

    /// During a rollout each user is served by the arm of their id's hash, the answers say so,
    /// and /healthz and /metrics report the rollout and each arm's lists and conversions.
    @Test func servesARolloutByUserHash() async throws {
        let registry = try registry()
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, parent: "v1", scenario: "cycle", dataHash: "d")
        try registry.startRollout("v2", share: 0.3)
        let split = TrafficSplit(candidateShare: 0.3, salt: "v2")
        try await withServer(registry, pollInterval: .milliseconds(50)) { port, _ in
            let health = await LoopbackClient.get(port, "/healthz")
            #expect(health.json["candidate"] as? String == "v2" && health.json["candidate_share"] as? Double == 0.3)
            var candidates = 0
            for user in 0..<40 {
                let answer = await LoopbackClient.post(port, "/v1/recommend", #"{"user_id": "r\#(user)", "k": 2, "history": []}"#)
                let arm = split.arm(for: "r\(user)")
                #expect(answer.json["arm"] as? String == arm.rawValue)
                #expect(answer.json["version"] as? String == (arm == .candidate ? "v2" : "v1"))
                if arm == .candidate { candidates += 1 }
                let first = (answer.json["items"] as? [[String: Any]])?.first?["item_id"] as? String ?? ""
                _ = await LoopbackClient.post(port, "/v1/feedback", #"{"user_id": "r\#(user)", "item_id": "\#(first)", "event": "click", "context": {"stride": 1}}"#)
            }
            try await Task.sleep(for: .milliseconds(300))
            let metrics = await LoopbackClient.get(port, "/metrics").body
            #expect(metrics.contains(#"drlrec_version_requests_total{version="v2",arm="candidate"} \#(candidates)"#), "\(metrics)")
            #expect(metrics.contains(#"drlrec_rollout_lists{arm="candidate"} \#(candidates)"#))
            #expect(metrics.contains(#"drlrec_rollout_conversions{arm="control"} \#(40 - candidates)"#))
        }
    }

    /// Concurrent requests share the model replicas without interfering: each answer equals the
    /// one the same request gets alone.
    @Test func concurrentRequestsGetTheirOwnAnswers() async throws {
        let registry = try registry()
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv")
        defer { service.feedbackLog.shutDown() }
        func request(_ k: Int) -> RecommendRequest {
            var request = RecommendRequest(user: "c\(k)", k: 3)
            request.context = ["stride": Double(1 + k % 3)]
            request.history = (0..<4).map { .init(item: "i\((k + $0 * (1 + k % 3)) % 24)", event: .click, timestamp: Int64($0 * 3600)) }
            return request
        }
        var alone: [[String]] = []
        for k in 0..<48 { alone.append(try await service.recommend(request(k)).items.map(\.id)) }
        let together = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for k in 0..<48 { group.addTask { (k, try await service.recommend(request(k)).items.map(\.id)) } }
            var answers = [[String]](repeating: [], count: 48)
            for try await (k, items) in group { answers[k] = items }
            return answers
        }
        #expect(together == alone)
    }
}

@Suite struct RecommendAnswerTests {
    /// The answer written straight into bytes is, byte for byte, the object of sorted keys the
    /// server wrote before as text (each value through `JSONText`), and Foundation's parser (an
    /// independent implementation) reads it back: with and without a fallback, an impression id
    /// and a version, with ids that need escaping, and a score that JSON cannot hold.
    @Test func theAnswerBytesAreTheSortedObjectAndParseBack() throws {
        let answers = [
            Recommendation(items: [("2435", 12.018743, 0.6569999892562631), ("q\"uo\\te\n", -0.5, 1), ("推荐 🎬", .infinity, 0.25)],
                           version: "v3", arm: .candidate, impression: "968796FD-A863-41D9-875F-BDD8D767F8BB"),
            Recommendation(items: [("7", 1, 1)], version: nil, arm: .control,
                           fallback: Recommendation.Fallback(fault: .nonFiniteScores, servedBy: "popularity")),
            Recommendation(items: [], version: "v1", arm: .control),
        ]
        for (answer, user) in zip(answers, ["u1", "tab\tuser", "ü"]) {
            let items = answer.items.map {
                JSONText.object([("item_id", JSONText.string($0.id)), ("propensity", JSONText.number($0.propensity)),
                                 ("score", JSONText.number(Double($0.score)))])
            }
            var fields: [(key: String, value: String)] = [("arm", JSONText.string(answer.arm.rawValue))]
            if let fallback = answer.fallback {
                fields.append(("fallback", JSONText.object([("reason", JSONText.string(fallback.fault.rawValue)),
                                                            ("served_by", JSONText.string(fallback.servedBy))])))
            }
            if let impression = answer.impression { fields.append(("impression_id", JSONText.string(impression))) }
            fields += [("items", "[" + items.joined(separator: ",") + "]"), ("user_id", JSONText.string(user)),
                       ("version", answer.version.map(JSONText.string) ?? "null")]
            let bytes = HTTPServer.recommendAnswer(answer, user: user)
            #expect(String(decoding: bytes, as: UTF8.self) == JSONText.object(fields))
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(parsed["user_id"] as? String == user && parsed["arm"] as? String == answer.arm.rawValue)
            let listed = try #require(parsed["items"] as? [[String: Any]])
            #expect(listed.map { $0["item_id"] as? String } == answer.items.map(\.id))
            // Foundation's parser can be an ulp off (JSONTextTests); the text above is exact.
            let propensities = listed.compactMap { $0["propensity"] as? Double }
            #expect(propensities.count == answer.items.count && zip(propensities, answer.items).allSatisfy { abs($0 - $1.propensity) <= 1e-15 })
            #expect((parsed["version"] as? String) == answer.version && (answer.version != nil || parsed["version"] is NSNull))
        }
    }
}
