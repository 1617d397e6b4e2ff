import DRLScenarios
import DRLServer
import DRLServing
import Foundation

/// The closed loop's services as `drlrec serve` processes on loopback (`drlrec loop --http`): the
/// loop's traffic reaches them over HTTP as a platform's clients would. A server that stops (killed,
/// crashed) is started again on its logs, and the request that got no answer is sent again: what
/// the server acknowledged is on disk, so the loop goes on where it stopped.
struct ServeProcesses: LoopServiceHost {
    /// The `drlrec` executable the servers run.
    let executable: String
    /// Where each server's output goes: DIRECTORY/NAME-serve.log.
    let directory: String

    func start(name: String, registry: String, feedbackPath: String, configuration: RecommendationService.Configuration) async throws -> any LoopService {
        guard configuration.guardrail == Guardrail() else {
            throw CommandFailure("--http serves with drlrec serve's guardrail; the loop was given another")
        }
        let server = ServeProcess(executable: executable, name: name, arguments: Self.arguments(registry: registry, feedback: feedbackPath, configuration),
                                  log: "\(directory)/\(name)-serve.log")
        var killed: [String] = []
        try await server.start { killed.append($0) }
        let service = ServedOverHTTP(server: server, registry: try ModelRegistry(directory: registry, create: false))
        service.report(killed)
        return service
    }

    /// `drlrec serve`'s arguments for the service `configuration` describes.
    static func arguments(registry: String, feedback: String, _ configuration: RecommendationService.Configuration) -> [String] {
        let exploration = configuration.exploration
        // The server stops when the loop does, even killed (--parent-pid).
        var arguments = ["serve", "--registry", registry, "--feedback", feedback, "--host", "127.0.0.1", "--port", "0", "--parent-pid", String(getpid()),
                         "--latency-budget", String(Double(configuration.latencyBudget.components.seconds) * 1000
                                                    + Double(configuration.latencyBudget.components.attoseconds) / 1e15),
                         "--replicas", String(configuration.replicas), "--user-events", String(configuration.historyCapacity),
                         "--max-users", String(configuration.maximumUsers),
                         "--explore", String(exploration.epsilon), "--shuffle", String(exploration.shuffle), "--action-noise", String(exploration.actionNoise)]
        switch exploration.explorer {
        case .uniform: arguments += ["--explorer", "uniform"]
        case .popularity: arguments += ["--explorer", "popularity"]
        case .softmax(let temperature): arguments += ["--explorer", "softmax", "--temperature", String(temperature)]
        }
        if let path = configuration.impressionLogPath { arguments += ["--impressions", path] }
        if let seed = configuration.explorationSeed { arguments += ["--exploration-seed", String(seed)] }
        return arguments
    }
}

/// One `drlrec serve` child process: started, watched, started again after it stopped.
final class ServeProcess: @unchecked Sendable {
    let executable: String, name: String, arguments: [String], log: String
    private(set) var process: Process?
    private(set) var port = 0

    init(executable: String, name: String, arguments: [String], log: String) {
        (self.executable, self.name, self.arguments, self.log) = (executable, name, arguments, log)
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the server and waits until it serves; one killed while starting is given three more
    /// tries, each told to `killed`.
    func start(killed: (String) -> Void) async throws {
        var tries = 0
        while true {
            do { return try await startOnce() } catch {
                tries += 1
                guard tries < 4, stopReason.hasPrefix("killed") else { throw error }
                killed("the \(name) server stopped while starting (\(stopReason)) and was started again")
            }
        }
    }

    /// Starts the server and waits until it serves (its log says on which port), at most a minute:
    /// a start replays the logs.
    private func startOnce() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let exists = FileManager.default.fileExists(atPath: log) || FileManager.default.createFile(atPath: log, contents: nil)
        guard exists, let output = FileHandle(forWritingAtPath: log) else { throw CommandFailure("cannot write the server's log '\(log)'") }
        output.seekToEndOfFile()
        let startsAt = output.offsetInFile
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw CommandFailure("cannot start \(executable) serve: \(error)") }
        try? output.close()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let text = String(decoding: (FileManager.default.contents(atPath: log) ?? Data()).dropFirst(Int(startsAt)), as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("serving ") && $0.contains(" on http://") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                self.port = port
                return
            }
            guard process.isRunning else {
                throw CommandFailure("the \(name) server stopped at start (\(stopReason)):\n\(text.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw CommandFailure("the \(name) server did not start serving within a minute (its log: \(log))")
    }

    /// Why it stopped, once it has.
    var stopReason: String {
        guard let process, !process.isRunning else { return "running" }
        return process.terminationReason == .uncaughtSignal ? "killed by signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
    }

    /// Stops it as an operator would (SIGTERM: it writes its snapshot and closes its logs) and waits.
    func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// The loop's view of one server: the API over HTTP, sent again after the server was started
/// again; the guardrail is the server's own (checked each second); a night's change to the
/// registry is waited for until the server's /healthz shows it.
final class ServedOverHTTP: LoopService, @unchecked Sendable {
    let server: ServeProcess
    let registry: ModelRegistry
    private var client: RecommendationClient
    private var events: [String] = []
    private let lock = NSLock()

    init(server: ServeProcess, registry: ModelRegistry) {
        self.server = server
        self.registry = registry
        client = RecommendationClient(port: server.port)
    }

    func recommend(_ request: RecommendRequest) async throws -> Recommendation {
        try await answered { try await $0.recommend(request) }
    }

    func feedback(_ request: FeedbackRequest) async throws {
        try await answered { try await $0.feedback(request) }
    }

    func checkGuardrail() async throws -> String? { nil }

    func catchUp() async throws {
        let state = try registry.state()
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let served = try await answered { try await $0.health() }
            if served.production == state.production, served.candidate == state.rollout?.candidate { return }
            guard ContinuousClock.now < deadline else {
                throw ClosedLoopError("the \(server.name) server still serves \(served) 30 s after its registry changed to \(state.production ?? "-")"
                                      + " with candidate \(state.rollout?.candidate ?? "none")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Adds events for the next day's report.
    func report(_ new: [String]) { lock.withLock { events += new } }

    func takeEvents() -> [String] {
        lock.withLock { defer { events = [] }; return events }
    }

    func shutDown() async {
        await client.close()
        await server.stop()
    }

    /// Runs `request`; when it got no answer because the server stopped, starts the server again
    /// (on its logs) and sends it again. A server that is running but does not answer for a
    /// second (ten tries) stops the loop.
    private func answered<T>(_ request: (RecommendationClient) async throws -> T) async throws -> T {
        var unanswered = 0
        while true {
            do {
                return try await request(client)
            } catch let error as RecommendationClient.Unanswered {
                if server.isRunning {
                    // A server killed a moment ago may not have been reaped yet: wait, then look again.
                    unanswered += 1
                    guard unanswered < 10 else { throw ClosedLoopError("the \(server.name) server is running but does not answer: \(error)") }
                    try await Task.sleep(for: .milliseconds(100))
                    continue
                }
                let reason = server.stopReason
                await client.close()
                let start = Sampler.now()
                try await server.start { event in self.lock.withLock { self.events.append(event) } }
                client = RecommendationClient(port: server.port)
                let event = "the \(server.name) server stopped (\(reason)) and was started again on its logs in "
                    + String(format: "%.1f s", Sampler.now() - start) + "; the request that got no answer was sent again"
                lock.withLock { events.append(event) }
            }
        }
    }
}
