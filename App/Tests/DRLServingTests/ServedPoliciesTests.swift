import DRLData
import DRLScenarios
import DRLSimulation
import DRLTensor
import Foundation
import Testing
@testable import DRLServer
@testable import DRLServing

/// The e-commerce ranker and the education tutor trained by `drlrec train`, registered and served
/// over loopback, show a user the slate (give a learner the task) the same policy chooses in
/// simulation from the same events: no skew between training and serving.
@Suite(.serialized) struct ServedPoliciesTests {
    /// Checkpoints trained so far, by their arguments: the suite's tests run one at a time (no
    /// two touch it at once) and share one trained with the same arguments.
    nonisolated(unsafe) private static var trained: [[String]: String] = [:]

    /// A checkpoint written by the `drlrec` built beside the tests, as a user runs it.
    static func trainedCheckpoint(_ arguments: [String]) throws -> String {
        if let path = trained[arguments] { return path }
        let path = Fixtures.scratchDirectory("trained") + "/\(arguments[1])-\(trained.count)\(arguments.contains("--save-state") ? "-state" : "").safetensors"
        _ = try drlrec(["train"] + arguments + ["--seed", "3", "--save", path, "--quiet"])
        trained[arguments] = path
        return path
    }

    /// What the `drlrec` built beside the tests prints when run with `arguments`; it must succeed.
    static func drlrec(_ arguments: [String]) throws -> String {
        let run = try CommandLineTests.run(arguments)
        try #require(run.status == 0, "drlrec \(arguments.joined(separator: " ")) exited with \(run.status): \(run.error)")
        return run.output
    }

    static func withServer(_ registry: ModelRegistry, _ body: (Int) async throws -> Void) async throws {
        var configuration = RecommendationService.Configuration()
        configuration.modelKinds = .drlrec
        configuration.replicas = 1
        configuration.latencyBudget = .seconds(10)  // debug builds on a loaded machine are slow
        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.maxBodyBytes = 1 << 20
        try await LoopbackServer.run(registry, service: configuration, server: serverConfiguration) { port, _ in try await body(port) }
    }

    /// The item ids of the tutor's tasks; the ranker's are the catalogue indices.
    static func taskId(_ item: Int32) -> String {
        let task = EducationObservedLearner.task(item)
        return "level-\(task.level)/\(task.type)"
    }

    static func json(_ event: UserEvent, id: (Int32) -> String = { String($0) }) -> String {
        #"{"item_id": "\#(id(event.item))", "event": "\#(event.event.name)", "value": \#(event.value), "timestamp": \#(event.timestamp)}"#
    }

    static func context(_ columns: [String], _ values: [Float]) -> String {
        zip(columns, values).map { #""\#($0)": \#($1)"# }.joined(separator: ", ")
    }

    /// Posts the user's response as feedback, as a platform would.
    static func post(_ events: [UserEvent], user: String, port: Int, id: (Int32) -> String = { String($0) }) async {
        for event in events {
            let logged = await LoopbackClient.post(port, "/v1/feedback", """
                {"user_id": "\(user)", "item_id": "\(id(event.item))", "event": "\(event.event.name)", "value": \(event.value), "timestamp": \(event.timestamp)}
                """)
            #expect(logged.status == 200, "\(logged.body)")
        }
    }

    /// Settings that give the platform a candidate generator of `retrieval` items, in a file.
    static func retrievalSettings(_ retrieval: Int) -> String {
        let path = Fixtures.scratchDirectory("retrieval-settings") + "/retrieval-\(retrieval).json"
        FileManager.default.createFile(atPath: path, contents: Data(#"{"retrieval": \#(retrieval)}"#.utf8))
        return path
    }

    /// Serves the ranker of `scenario` trained by `drlrec train` and compares 8 slates of each of
    /// 4 simulated users with the simulated policy's, as `drlrec abtest` runs it (on e-commerce
    /// with cold-start transfer, and two of the users arrive without history). With `settings`,
    /// the platform's settings file both train and simulate with.
    func compareServedSlates(_ scenario: Scenario, settings: String? = nil) async throws {
        // 1,100 steps: 100 updates after the 1,000 random ones, a policy that is not the initial one.
        let checkpoint = try Self.trainedCheckpoint(["--env", scenario.rawValue, "--steps", "1100"] + (settings.map { ["--config", $0] } ?? []))
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("ranker-registry"))
        let version = try registry.register(checkpoint: checkpoint, scenario: scenario.rawValue, dataHash: "")
        #expect(version.kind == ServableSlateRanker.checkpointKind)
        try registry.promote(version.id)

        // The same checkpoint as a policy in simulation, as `drlrec abtest` runs it.
        let simulator = try ScenarioSimulators.slate(scenario, configuration: settings)() as! any ObservableSlatePlatform
        let existing = scenario == .ecommerce ? ExistingUserModels(environment: EcommerceSimulator()) : nil
        var policy = try PolicyCatalogue(scenario: scenario, existing: existing).slatePolicy(checkpoint, for: simulator)
        if let existing { policy = ColdStartTransferPolicy(base: policy, profiles: try existing.profiles()) }
        var observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        var slate = [Int32](repeating: 0, count: simulator.slateSize)
        func lastEvents() -> [UserEvent] { (simulator as? EcommerceSimulator)?.lastEvents ?? (simulator as! VideoFeedSimulator).lastEvents }
        func context() -> [Float] { (simulator as? EcommerceSimulator)?.observed.context ?? (simulator as! VideoFeedSimulator).observed.context }

        try await Self.withServer(registry) { port in
            var compared = 0
            var seed: UInt64 = 500
            for (user, (cold, keptByServer)) in [(false, false), (true, false), (false, true), (true, true)].enumerated() {
                let id = "user-\(user)"
                // The next user who arrives as wanted (cold or warm; every viewer of the feed is alike).
                repeat {
                    seed += 1
                    simulator.reset(seed: seed, observation: &observation)
                } while scenario == .ecommerce && (simulator as! EcommerceSimulator).observed.coldStart != cold
                var history = lastEvents()
                var pending = history  // feedback not yet posted (the server keeps the history)
                for _ in 0..<8 {
                    policy.recommend(simulator, observation: observation, into: &slate)
                    let body: String
                    let context = Self.context(simulator.contextColumns, context())
                    if keptByServer {
                        await Self.post(pending, user: id, port: port)
                        body = #"{"user_id": "\#(id)", "k": \#(slate.count), "context": {\#(context)}}"#
                    } else {
                        body = #"{"user_id": "\#(id)", "k": \#(slate.count), "context": {\#(context)}, "history": [\#(history.map { Self.json($0) }.joined(separator: ", "))]}"#
                    }
                    let answer = await LoopbackClient.post(port, "/v1/recommend", body)
                    #expect(answer.status == 200, "\(answer.body)")
                    let served = (answer.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }
                    #expect(served == slate.map { String($0) }, "\(scenario) user \(user) (\(cold ? "cold" : "warm"), \(keptByServer ? "history kept by the server" : "history in the request")), slate \(compared)")
                    compared += 1
                    let result = simulator.step(.slate(slate), observation: &observation)
                    history += lastEvents()
                    // The server logged the slate itself; the user's response is feedback.
                    pending = lastEvents().filter { $0.event != .impression }
                    if result.terminated || result.truncated { break }
                }
            }
            #expect(compared >= 16)
        }
    }

    @Test func theServedEcommerceRankerShowsTheSlateOfTheSimulatedPolicy() async throws { try await compareServedSlates(.ecommerce) }

    @Test func theServedVideoRankerShowsTheSlateOfTheSimulatedPolicy() async throws { try await compareServedSlates(.video) }

    /// The same with a candidate generator in front of the ranker (the served two-stage ranker
    /// retrieves what the simulated one retrieves).
    @Test(arguments: [Scenario.ecommerce, .video])
    func theServedTwoStageRankerShowsTheSlateOfTheSimulatedPolicy(_ scenario: Scenario) async throws {
        try await compareServedSlates(scenario, settings: Self.retrievalSettings(1_000))
    }

    /// The list-wise ranker's ranked items (the service's path when the list reads no other
    /// score) are what the service makes of its scores: the same greedy list and scores for lists
    /// shorter than, as long as and longer than its slate, with and without action noise, every
    /// item above −∞ eligible, and any item's score on demand; none beyond its candidates. With
    /// a candidate generator too (every item it did not retrieve −∞).
    @Test(arguments: [0, 1_000])
    func theRankersRankedItemsAreItsScoresRanked(retrieval: Int) throws {
        let settings = retrieval > 0 ? Self.retrievalSettings(retrieval) : nil
        let checkpoint = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"] + (settings.map { ["--config", $0] } ?? []))
        let ranker = try ServableSlateRanker.load(checkpoint: checkpoint)
        var configuration = EcommerceConfiguration()
        configuration.retrieval = retrieval
        let simulator = EcommerceSimulator(configuration: configuration)
        var observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        let slateSize = simulator.slateSize
        var compared = 0
        for seed in UInt64(40)..<UInt64(46) {
            simulator.reset(seed: seed, observation: &observation)
            var history = simulator.lastEvents
            for step in 0..<4 {
                let context = simulator.observed.context
                let noise = step % 2 == 1 ? ActionNoise(scale: 0.3, impression: "list-\(seed)-\(step)") : nil
                for k in [1, slateSize, slateSize + 7, 200] {
                    let scores = ranker.scores(history: history, context: context, actionNoise: noise)
                    let choice = ServedListChoice(scores: scores, k: k, candidates: nil, seen: [], withPool: false)
                    let ranked = try #require(ranker.rankedItems(k, history: history, context: context, actionNoise: noise))
                    #expect(ranked.items == choice.greedy, "seed \(seed), step \(step), k \(k)")
                    #expect(ranked.scores == choice.greedy.map { scores[Int($0)] })
                    #expect(ranked.eligible.elements == scores.indices.filter { scores[$0] > -.infinity }.map(Int32.init))
                    for item in stride(from: Int32(seed), to: Int32(scores.count), by: 37) where scores[Int(item)] > -.infinity {
                        #expect(ranked.score(item) == scores[Int(item)])
                    }
                    compared += 1
                }
                #expect(ranker.rankedItems(201, history: history, context: context, actionNoise: noise) == nil)
                let slate = ranker.slate(history: history, context: context, actionNoise: noise)
                let result = simulator.step(.slate(slate), observation: &observation)
                history += simulator.lastEvents
                if result.terminated || result.truncated { break }
            }
        }
        #expect(compared >= 24)
    }

    /// A server started with `--parent-pid` stops in order once its parent ends (it says so and
    /// exits as on SIGTERM), as the servers of `drlrec loop --http` do when the loop is killed.
    @Test func aServerStopsWhenItsParentEnds() throws {
        let checkpoint = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"])
        let directory = Fixtures.scratchDirectory("orphan")
        _ = try Self.drlrec(["registry", "register", "--registry", directory + "/registry", "--checkpoint", checkpoint, "--scenario", "ecommerce"])
        _ = try Self.drlrec(["registry", "promote", "--registry", directory + "/registry", "v1"])
        let log = directory + "/serve.log"
        func logText() -> String { String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self) }
        // A shell starts the server as its child, writes its id and ends once it serves.
        let idFile = directory + "/server.pid"
        let script = #""$1" serve --registry "$2" --port 0 --parent-pid $$ > "$3" 2>&1 < /dev/null & echo $! > "$4"; "#
            + #"for i in $(seq 600); do grep -q '^serving ' "$3" && exit 0; sleep 0.1; done; exit 1"#
        let shellStatus = try Self.shell(script, [CommandLineTests.tool, directory + "/registry", log, idFile])
        let pid = try #require(Int32(String(decoding: FileManager.default.contents(atPath: idFile) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        // Gone, or a zombie left to a parent that does not reap it.
        func ended() -> Bool {
            guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return true }
            let text = String(decoding: stat, as: UTF8.self)
            return text.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        defer { if !ended() { kill(pid, SIGKILL) } }
        try #require(shellStatus == 0, "the server did not start: \(logText())")
        var waited = 0
        while !ended() && waited < 100 { usleep(100_000); waited += 1 }
        #expect(ended(), "the server outlived its parent by 10 s: \(logText())")
        #expect(logText().contains("has ended"), "\(logText())")
    }

    /// Runs `/bin/sh -c script sh arguments…` with its standard streams on /dev/null, waits for
    /// the shell alone and gives its exit status. Not Foundation's `Process`: on Linux it learns
    /// that a child ended when a socket the child inherits is closed, so it would also wait for
    /// whatever the shell left running in the background with that socket open.
    static func shell(_ script: String, _ arguments: [String]) throws -> Int32 {
        let argv = (["/bin/sh", "-c", script, "sh"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, flags) in [(Int32(0), O_RDONLY), (1, O_WRONLY), (2, O_WRONLY)] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", flags, 0)
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        try #require(spawned == 0, "posix_spawn /bin/sh: \(String(cString: strerror(spawned)))")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }

    @Test func theServedTutorGivesTheTaskOfTheSimulatedTutor() async throws {
        let checkpoint = try Self.trainedCheckpoint(["--env", "education", "--steps", "20000"])
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("tutor-registry"))
        let version = try registry.register(checkpoint: checkpoint, scenario: "education", dataHash: "")
        #expect(version.kind == ServableTutor.checkpointKind)
        try registry.promote(version.id)

        let simulator = EducationSimulator()
        let tutor = try PolicyCatalogue(scenario: .education).taskPolicy(checkpoint, for: simulator)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        try await Self.withServer(registry) { port in
            var compared = 0, levels = Set<Int>()
            for (learner, keptByServer) in [(0, false), (1, false), (2, true), (3, true)] {
                let id = "learner-\(learner)"
                simulator.reset(seed: 700 + UInt64(learner), observation: &observation)
                var history: [UserEvent] = [], pending: [UserEvent] = []
                for _ in 0..<20 {
                    let task = tutor.choose(simulator, observation: observation)
                    levels.insert(task.level)
                    let context = Self.context(EducationObservedLearner.contextColumns, simulator.observed.context)
                    if keptByServer { await Self.post(pending, user: id, port: port, id: Self.taskId) }
                    let body = keptByServer ? #"{"user_id": "\#(id)", "k": 1, "context": {\#(context)}}"#
                        : #"{"user_id": "\#(id)", "k": 1, "context": {\#(context)}, "history": [\#(history.map { Self.json($0, id: Self.taskId) }.joined(separator: ", "))]}"#
                    let answer = await LoopbackClient.post(port, "/v1/recommend", body)
                    #expect(answer.status == 200, "\(answer.body)")
                    let served = (answer.json["items"] as? [[String: Any]] ?? []).compactMap { $0["item_id"] as? String }
                    #expect(served == [Self.taskId(EducationObservedLearner.item(level: task.level, type: task.type))], "learner \(learner), task \(compared)")
                    compared += 1
                    let result = simulator.step(.multiDiscrete([Int32(task.level), Int32(task.type.rawValue)]), observation: &observation)
                    history += simulator.lastEvents
                    pending = simulator.lastEvents.filter { $0.event != .impression }
                    if result.terminated || result.truncated { break }
                }
            }
            #expect(compared >= 30)
            #expect(levels.count >= 2, "the tutor chose one difficulty throughout: \(levels)")
        }
    }
}
