import DRLData
import DRLNN
import DRLRequestDecoding
import DRLServing
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// `drlrec serve`: the recommendation service over HTTP/1.1 with JSON bodies.
///
///     POST /v1/recommend  {user_id, context?, history?, k, candidates?, exclude_seen?, timestamp?}
///                         → {items: [{item_id, score, propensity}], version, arm, impression_id?, fallback?}
///     POST /v1/feedback   {user_id, item_id, event, value?, timestamp?, context?, impression_id?, position?}
///     GET  /healthz       the served versions
///     GET  /livez         a constant answer (liveness)
///     GET  /metrics       Prometheus text format
///
/// The GET routes answer HEAD too; a known path asked with another method is 405 with Allow.
/// With `Configuration.apiKeys`, recommend and feedback need a key (401, 403); with
/// `rateLimiter`, each client a rate (429).
///
/// Every fault of a model is answered by the fallback chain (`RecommendationService`); bad
/// requests get a 4xx status with `{"error": "..."}` naming the field. A background task re-reads
/// the registry every second, so a promote, rollback or rollout takes effect without a restart.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Requests with larger bodies are refused with 413.
        public var maxBodyBytes = 64 * 1024
        public var registryPollInterval = Duration.seconds(1)
        /// How often the service's snapshot is written while serving (nil: not while serving), so
        /// that a restart after a crash replays at most this much of the logs.
        public var snapshotInterval: Duration? = nil
        /// A connection that sends nothing for this long is closed (one that stopped half-way
        /// through its request too), so idle or abandoned sockets do not pile up.
        public var idleTimeout = Duration.seconds(30)
        /// At most this many connections are open; further ones wait in the listen backlog.
        public var maximumConnections = 1024
        /// When set, recommend and feedback need a key of the file (401 without one, 403 with a
        /// wrong one); the health, liveness and metrics routes stay open.
        public var apiKeys: APIKeys?
        /// When set, each client (its API key, or its address without keys) gets this many
        /// recommend and feedback requests; past it they are answered 429 with Retry-After.
        public var rateLimiter: RateLimiter?
        public init() {}
    }

    public let service: RecommendationService
    public let configuration: Configuration
    let metrics: ServerMetrics
    private let logger: Logger

    public init(service: RecommendationService, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "drlrec.serve")) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
        metrics = ServerMetrics()
    }

    /// Makes NIO's event loops (the threads the server reads and writes its sockets on) Swift
    /// concurrency's global executor, for the rest of the process: a request's handler then runs
    /// on an event loop instead of Swift's own pool, and its answer is written from there (under
    /// the ranker's load script, 2.2 context switches a request instead of 3.4, and 1.14 times the
    /// requests a second; docs/BENCHMARKS.md). A model's work then holds up the other
    /// connections of its loop while it runs, and so does the registry's re-reading (the
    /// snapshot is written on a thread of its own): the tail latency can grow. Call it once, before the
    /// first server runs, in a process that serves (`drlrec serve`); false when the runtime
    /// refused the hook.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Runs until the task is cancelled (or, with `handleSignals`, until SIGTERM or SIGINT).
    /// `onRunning` receives the bound port (useful with port 0).
    public func run(handleSignals: Bool = false, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // HEAD is answered on every GET route (the health probes' method of choice).
        let router = Router(context: ServerRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.get("healthz") { _, _ in
            let state = self.service.servedState
            var body: [String: Any] = ["status": "ok", "production": state.production ?? ""]
            if let rollout = state.rollout { body["candidate"] = rollout.candidate; body["candidate_share"] = rollout.share }
            return self.json(.ok, body)
        }
        // Liveness: a constant answer that touches nothing of the service (a load balancer's
        // probe, and the framework's own limit in load tests).
        router.get("livez") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.registry.emitToBuffer())))
        }
        router.post("v1/recommend") { request, context in await self.handle(.recommend, request, context, self.recommend) }
        router.post("v1/feedback") { request, context in await self.handle(.feedback, request, context, self.feedback) }
        router.add(middleware: MethodNotAllowedMiddleware(allowed: [
            "/healthz": [.get, .head], "/livez": [.get, .head], "/metrics": [.get, .head],
            "/v1/recommend": [.post], "/v1/feedback": [.post],
        ]))
        let (seconds, attoseconds) = configuration.idleTimeout.components
        let app = Application(router: router,
                              server: .http1WithVersions(configuration: .init(idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))),
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "drlrec",
                                                   availableConnectionsDelegate: .maximum(configuration.maximumConnections, logger: logger)),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                              logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { handleSignals ? try await app.runService() : try await app.run() }
            group.addTask { try await self.pollRegistry() }
            if let interval = configuration.snapshotInterval { group.addTask { try await self.writeSnapshots(every: interval) } }
            try await group.next()
            group.cancelAll()
        }
    }

    private func writeSnapshots(every interval: Duration) async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            let start = ContinuousClock.now
            do {
                try await service.writeSnapshot()
                logger.info("snapshot written", metadata: ["took": "\(ContinuousClock.now - start)"])
            } catch {
                logger.error("writing the snapshot failed; a restart replays more of the logs", metadata: ["error": "\(error)"])
            }
        }
    }

    private func pollRegistry() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: configuration.registryPollInterval)
            do {
                if try service.reload() { logger.info("registry changed", metadata: ["production": "\(service.servedState.production ?? "-")"]) }
                if let outcomes = service.rolloutOutcomes { metrics.recordRollout(outcomes) }
                if let reason = try service.enforceGuardrail() {
                    metrics.guardrailRollbacks.increment()
                    logger.warning("rollout stopped", metadata: ["reason": "\(reason)"])
                }
            } catch {
                logger.error("re-reading the registry failed; serving the last state", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Checks the client's key and rate, reads the body (within the size limit), runs `body`, and
    /// turns its errors into 4xx answers; counts the request and its latency.
    private func handle(_ apiRoute: APIKeys.Route, _ request: Request, _ context: ServerRequestContext,
                        _ body: ([UInt8]) async throws -> Response) async -> Response {
        let start = ContinuousClock.now, route = apiRoute.rawValue
        let response: Response
        if let refusal = refusal(apiRoute, request, context) {
            response = refusal
        } else {
            response = await answer(route, request, body)
        }
        metrics.record(route: route, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    /// The body read and answered; every fault of the request is a 4xx, a fault of the server a 503.
    private func answer(_ route: String, _ request: Request, _ body: ([UInt8]) async throws -> Response) async -> Response {
        let bytes: [UInt8]
        do {
            bytes = Array(try await request.body.collect(upTo: configuration.maxBodyBytes).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return json(.contentTooLarge, ["error": "the body exceeds \(configuration.maxBodyBytes) bytes"])
        } catch {
            // The client's framing (a chunk size that is not hexadecimal, a body cut short): its fault.
            return json(.badRequest, ["error": "the body could not be read: \(error)"])
        }
        do {
            return try await body(bytes)
        } catch let error as BadRequest {
            return json(.badRequest, ["error": error.message])
        } catch let error as RequestError {
            return json(error.httpStatus, ["error": error.description])
        } catch {
            logger.error("request failed", metadata: ["route": "\(route)", "error": "\(error)"])
            return json(.serviceUnavailable, ["error": "\(error)"])
        }
    }

    /// The answer that stops a request before its body is read: 401 or 403 from the keys, 429 from
    /// the rate limit; nil when it may go on.
    private func refusal(_ route: APIKeys.Route, _ request: Request, _ context: ServerRequestContext) -> Response? {
        var client: String?
        if let keys = configuration.apiKeys {
            switch keys.verdict(for: route, authorization: request.headers[.authorization]) {
            case .allowed(let key): client = key
            case .missing:
                var answer = json(.unauthorized, ["error": "this route needs an API key: send 'Authorization: Bearer KEY'"])
                answer.headers[.wwwAuthenticate] = "Bearer"
                return answer
            case .forbidden:
                return json(.forbidden, ["error": "the API key is not one of the server's keys for /v1/\(route.rawValue)"])
            }
        }
        if let limiter = configuration.rateLimiter, case let name = client ?? context.peer, let wait = limiter.take(name) {
            var answer = json(.tooManyRequests, ["error": "too many requests from \(name): at most \(limiter.rate) a second (bursts of \(Int(limiter.burst)))"])
            answer.headers[.retryAfter] = String(Int(wait.rounded(.up)))
            return answer
        }
        return nil
    }

    private func recommend(_ bytes: [UInt8]) async throws -> Response {
        let request = try RequestBodies.recommend(bytes)
        let answer = try await service.recommend(request)
        metrics.recordServed(answer)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: Self.recommendAnswer(answer, user: request.user))))
    }

    /// The recommend answer's JSON, written straight into bytes, keys in sorted order as the
    /// other answers' JSONSerialization writes them.
    static func recommendAnswer(_ answer: Recommendation, user: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + 96 * answer.items.count)
        out += #"{"arm":"#.utf8
        JSONText.appendString(answer.arm.rawValue, to: &out)
        if let fallback = answer.fallback {
            out += #","fallback":{"reason":"#.utf8
            JSONText.appendString(fallback.fault.rawValue, to: &out)
            out += #","served_by":"#.utf8
            JSONText.appendString(fallback.servedBy, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        if let impression = answer.impression {
            out += #","impression_id":"#.utf8
            JSONText.appendString(impression, to: &out)
        }
        out += #","items":["#.utf8
        for (i, item) in answer.items.enumerated() {
            out += (i == 0 ? #"{"item_id":"# : #",{"item_id":"#).utf8
            JSONText.appendString(item.id, to: &out)
            out += #","propensity":"#.utf8
            JSONText.appendNumber(item.propensity, to: &out)
            out += #","score":"#.utf8
            JSONText.appendNumber(Double(item.score), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out += #"],"user_id":"#.utf8
        JSONText.appendString(user, to: &out)
        out += #","version":"#.utf8
        if let version = answer.version { JSONText.appendString(version, to: &out) } else { out += "null".utf8 }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func feedback(_ bytes: [UInt8]) async throws -> Response {
        try await service.feedback(try RequestBodies.feedback(bytes))
        metrics.feedback.increment()
        return json(.ok, ["status": "logged"])
    }

    private func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The server's Prometheus metrics, recorded through swift-metrics into a registry of its own (not
/// the process-wide bootstrap, so several servers can live in one process).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    let feedback: Counter
    let guardrailRollbacks: Counter

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1].map { Duration.milliseconds($0 * 1000) }
        self.factory = factory
        feedback = Counter(label: "drlrec_feedback_events_total", factory: factory)
        guardrailRollbacks = Counter(label: "drlrec_guardrail_rollbacks_total", factory: factory)
    }

    func record(route: String, status: Int, duration: Duration) {
        Counter(label: "drlrec_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory).increment()
        Timer(label: "drlrec_http_request_duration_seconds", dimensions: [("route", route)], factory: factory).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The running rollout's lists served and converted per arm (the guardrail's inputs).
    func recordRollout(_ outcomes: (control: ArmOutcome, candidate: ArmOutcome)) {
        for (arm, outcome) in [("control", outcomes.control), ("candidate", outcomes.candidate)] {
            Gauge(label: "drlrec_rollout_lists", dimensions: [("arm", arm)], factory: factory).record(outcome.served)
            Gauge(label: "drlrec_rollout_conversions", dimensions: [("arm", arm)], factory: factory).record(outcome.converted)
        }
    }

    func recordServed(_ answer: Recommendation) {
        Counter(label: "drlrec_version_requests_total", dimensions: [("version", answer.version ?? "popularity"), ("arm", answer.arm.rawValue)],
                factory: factory).increment()
        if let fallback = answer.fallback {
            Counter(label: "drlrec_fallbacks_total", dimensions: [("reason", fallback.fault.rawValue), ("served_by", fallback.servedBy)],
                    factory: factory).increment()
        }
    }
}
