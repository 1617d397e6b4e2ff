import ArgumentParser
import DRLServer
import DRLScenarios
import DRLServing
import Foundation
import Logging

/// `drlrec serve`: the registry's models over HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the registry's production version (and a gray-release candidate) over HTTP.",
        discussion: """
        POST /v1/recommend {"user_id", "k", "context"?, "history"?, "candidates"?, "exclude_seen"?, "timestamp"?} answers \
        the top k items with scores, the version and the arm that served them, and for each item the \
        probability the serving policy had of showing it at its position (1 unless --explore is \
        given: then each position shows, with probability --explore, an item drawn from the eligible \
        items outside the top k by the --explorer, with its exact probability). POST /v1/feedback \
        {"user_id", "item_id", "event", "value"?, "timestamp"?, "context"?, "impression_id"?, "position"?} \
        (the list it answers, with --impressions) is acknowledged once it is on \
        disk (or, with --log-flush-interval, written to the kernel) in the feedback log (DRLRec's logged-interactions format, which `drlrec update` reads), \
        and updates the user's history, so later recommend calls need only the user id. GET /healthz, \
        GET /metrics (Prometheus). A model that fails to load, scores NaN or misses the latency budget \
        is answered by the previous production version, then by popularity, and counted. With \
        --api-keys, recommend and feedback need a key; with --rate-limit, each client gets a rate. During a \
        rollout (`drlrec registry rollout`) a guardrail compares the arms' conversion and stops a \
        candidate that does worse beyond doubt. A start rebuilds the users' histories from the logs, \
        beginning at the snapshot FEEDBACK.snapshot (written after each start, every \
        --snapshot-interval seconds and at stop) when it matches the logs.
        """
    )

    @Option(help: ArgumentHelp("The registry folder.", valueName: "dir"))
    var registry = ".drlrec/registry"

    @Option(help: ArgumentHelp("The feedback log (default: feedback.csv in the registry).", valueName: "file"))
    var feedback: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Port to listen on.")
    var port = 8080

    @Option(parsing: .unconditional, help: "Latency budget of a model's scoring, in milliseconds: a slower answer is replaced by the fallback's and the version is bypassed for --cooldown seconds.")
    var latencyBudget = 50.0

    @Option(parsing: .unconditional, help: "Seconds a version that overran its budget is bypassed.")
    var cooldown = 10.0

    @Option(parsing: .unconditional, help: "Model replicas per version (concurrent scorings).")
    var replicas = 2

    @Option(parsing: .unconditional, help: "Largest request body, in bytes.")
    var maxBody = 64 * 1024

    @Option(help: ArgumentHelp("Log every served list to this file before answering (DRLRec's logged-interactions format: one impression row per position with its propensity, the list's id, version and arm).", valueName: "file"))
    var impressions: String?

    @OptionGroup var exploration: ExplorationOptions

    @Option(name: .customLong("exploration-seed"), parsing: .unconditional, help: ArgumentHelp("Seed of the exploration's draws and the lists' ids (default: random): the same requests in the same order are served the same lists.", valueName: "seed"))
    var explorationSeed: UInt64?

    @Option(name: .customLong("idle-timeout"), parsing: .unconditional, help: "Seconds after which a connection that sends nothing is closed.")
    var idleTimeout = 30.0

    @Option(name: .customLong("max-users"), parsing: .unconditional, help: "Users whose histories the server keeps: past it, the least recently active tenth is forgotten (a forgotten user is a new user again).")
    var maxUsers = 1_000_000

    @Option(name: .customLong("user-events"), parsing: .unconditional, help: "Events the server keeps per user: the served lists (for a ranker) and feedback; the models read the latest, and seen items are left out of recommendations.")
    var userEvents = 200

    @Option(name: .customLong("api-keys"), help: ArgumentHelp("Recommend and feedback need a key of this file, sent as 'Authorization: Bearer KEY' (401 without one, 403 with a wrong one). One key per line, 'ROUTE KEY', ROUTE recommend, feedback or * (every route); a key is 16 to 256 printable ASCII characters (openssl rand -hex 32).", valueName: "file"))
    var apiKeys: String?

    @Flag(name: .customLong("allow-unauthenticated"), help: "Serve on an address other than loopback without --api-keys (anyone who reaches the port can then post feedback).")
    var allowUnauthenticated = false

    @Option(name: .customLong("rate-limit"), parsing: .unconditional, help: "Recommend and feedback requests a second per client (its API key, or its address without keys), in bursts of --rate-burst; more are answered 429 with Retry-After. 0: no limit.")
    var rateLimit = 0.0

    @Option(name: .customLong("rate-burst"), parsing: .unconditional, help: "The burst a client may send at once under --rate-limit (default: a second's worth, at least 1).")
    var rateBurst: Double?

    @Option(name: .customLong("log-flush-interval"), parsing: .unconditional, help: ArgumentHelp("Acknowledge a list or piece of feedback once the logs have handed it to the kernel, and flush them to disk every SECONDS: nothing acknowledged is lost when the server crashes or is killed, up to SECONDS of it when the machine does. Without it (the default), nothing acknowledged is lost when the machine crashes either: each is on disk before its answer (one flush shared by the requests waiting together).", valueName: "seconds"))
    var logFlushInterval: Double?

    @Option(name: .customLong("max-connections"), parsing: .unconditional, help: "Open connections at most; further ones wait in the listen backlog.")
    var maxConnections = 1024

    @Option(name: .customLong("snapshot-interval"), parsing: .unconditional, help: "Seconds between snapshots of the users' histories (FEEDBACK.snapshot, also written at start and stop), so that a restart replays only what the logs gained since the last one. 0: only at start and stop.")
    var snapshotInterval = 300.0

    @Option(name: .customLong("parent-pid"), parsing: .unconditional, help: ArgumentHelp("Stop as on SIGTERM once process PID is no longer this server's parent (it died): for a server another program starts and that must not outlive it, as `drlrec loop --http` starts its servers.", valueName: "pid"))
    var parentPID: Int32?

    func validate() throws {
        if let parentPID { guard parentPID > 1 else { throw ValidationError("--parent-pid \(parentPID) is not a process that can be a parent") } }
        guard latencyBudget > 0, cooldown >= 0, replicas > 0, maxBody > 0, userEvents > 0, maxUsers > 0 else {
            throw ValidationError("--latency-budget, --replicas, --max-body, --user-events and --max-users must be positive and --cooldown not negative")
        }
        // Durations are whole microseconds in 64 bits; a day is longer than any budget or cooldown needs.
        guard latencyBudget <= 86_400_000 else { throw ValidationError("--latency-budget \(latencyBudget) ms is longer than a day") }
        guard cooldown <= 86_400 else { throw ValidationError("--cooldown \(cooldown) s is longer than a day") }
        guard idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout \(idleTimeout) s must be positive and at most a day") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port \(port) is not a port number") }
        guard rateLimit >= 0, rateLimit <= 1e9 else { throw ValidationError("--rate-limit \(rateLimit) must be between 0 (no limit) and 10^9 a second") }
        if let rateBurst { guard rateBurst >= 1, rateBurst <= 1e9 else { throw ValidationError("--rate-burst \(rateBurst) must be between 1 and 10^9") } }
        guard rateBurst == nil || rateLimit > 0 else { throw ValidationError("--rate-burst needs --rate-limit") }
        guard snapshotInterval >= 0, snapshotInterval <= 86_400 else {
            throw ValidationError("--snapshot-interval \(snapshotInterval) s must be between 0 (only at start and stop) and a day")
        }
        if let logFlushInterval {
            guard logFlushInterval >= 0.001, logFlushInterval <= 3_600 else {
                throw ValidationError("--log-flush-interval \(logFlushInterval) s must be between 0.001 and 3,600 (an hour)")
            }
        }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections \(maxConnections) must be between 1 and 10^6") }
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        guard loopback || apiKeys != nil || allowUnauthenticated else {
            throw ValidationError("--host \(host) is not loopback: give --api-keys FILE so that only your clients can post feedback (or --allow-unauthenticated to serve it open)")
        }
    }

    func run() async throws {
        HTTPServer.runConcurrencyOnEventLoops()
        let keys: APIKeys?
        do { keys = try apiKeys.map { file throws(APIKeys.FileError) in try APIKeys(file: file) } } catch { throw CommandFailure("--api-keys: \(error)") }
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .microseconds(Int64(latencyBudget * 1000))
        configuration.replicas = replicas
        configuration.modelKinds = .drlrec
        configuration.historyCapacity = userEvents
        configuration.maximumUsers = maxUsers
        configuration.cooldown = .milliseconds(Int64(cooldown * 1000))
        configuration.impressionLogPath = impressions
        if let logFlushInterval { configuration.logDurability = .written(flushInterval: .microseconds(Int64(logFlushInterval * 1_000_000))) }
        configuration.exploration = exploration.exploration
        configuration.explorationSeed = explorationSeed
        let feedbackPath = feedback ?? registry + "/feedback.csv"
        configuration.snapshotPath = feedbackPath + ".snapshot"
        let store: ModelRegistry
        let service: RecommendationService
        do {
            store = try ModelRegistry(directory: registry, create: false)
            service = try RecommendationService(registry: store, feedbackPath: feedbackPath, configuration: configuration)
        } catch {
            throw CommandFailure("\(error)")
        }
        for (version, reason) in service.loadFailures.sorted(by: { $0.key < $1.key }) {
            say("warning: version \(version) cannot be served (its requests fall back): \(reason)")
        }
        for row in service.badLogLines.prefix(5) {
            say("warning: \(row.error) — left out of the replay and kept in \(LogQuarantine.path(of: row.error.file))")
        }
        if service.badLogLines.count > 5 { say("warning: \(service.badLogLines.count - 5) more bad log lines left out (see the .quarantine files)") }
        let replay = service.replay
        if let refused = replay.snapshotRefused { say("warning: \(refused); the logs were replayed from their start") }
        if let failure = replay.snapshotNotWritten { say("warning: the snapshot was not written (\(failure)); the next start replays the logs again") }
        say("replayed \(replay.feedbackRows) feedback and \(replay.impressionRows) impression rows"
            + (replay.fromSnapshot ? " after the snapshot" : "") + " (\(service.histories.userCount) users)")
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.host = host
        serverConfiguration.port = port
        serverConfiguration.maxBodyBytes = maxBody
        serverConfiguration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        serverConfiguration.maximumConnections = maxConnections
        if snapshotInterval > 0 { serverConfiguration.snapshotInterval = .milliseconds(Int64(snapshotInterval * 1000)) }
        serverConfiguration.apiKeys = keys
        if rateLimit > 0 { serverConfiguration.rateLimiter = RateLimiter(rate: rateLimit, burst: rateBurst ?? max(1, rateLimit)) }
        let server = HTTPServer(service: service, configuration: serverConfiguration)
        let state = service.servedState
        let parent = parentPID
        try await server.run(handleSignals: true) { port in
            say("serving \(state.production ?? "-")\(state.rollout.map { " with candidate \($0.candidate) at \($0.share * 100)%" } ?? "") "
                + "(\(service.itemIds.count) items) on http://\(host):\(port)")
            // Watched only now that SIGTERM stops the server in order (its snapshot, its logs closed).
            if let parent { Self.stopWhenOrphaned(parent: parent) }
        }
        do { try await service.writeSnapshot() } catch { say("warning: the snapshot was not written at stop (\(error))") }
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
    }

    /// Sends this process SIGTERM once `parent` is no longer its parent: the parent died and the
    /// process was handed to another (a parent-death signal would fire when the thread that
    /// started it ends, not the process, so the parent is polled), every half second.
    private static func stopWhenOrphaned(parent: Int32) {
        Thread.detachNewThread {
            while getppid() == parent { usleep(500_000) }
            say("stopping: process \(parent), which started this server, has ended")
            kill(getpid(), SIGTERM)
        }
    }
}
