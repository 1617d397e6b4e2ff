import CAllocationCounter
import DRLData
import DRLScenarios
import DRLServing
import DRLTensor
import Foundation

/// `drlrec bench serve`: where the time of a served request goes, without the network. A
/// registered checkpoint is served by an in-process `RecommendationService` with the given
/// exploration and an impression log; `users` users get histories from a warm-up of served lists
/// (as a load test's users do), then each stage of a request is timed on its own over the same
/// users (the model's scores, the greedy list and pool, the exploration's placement; for a model
/// that ranks without scoring every item, its ranked items and the placement from them) and whole
/// requests are timed at `concurrency` requests in flight, each with a replica of the model, so that
/// none waits for one (the impression log commits its fsyncs
/// in groups, as under a load test).
struct ServingBenchmarks {
    let checkpoint: String
    let exploration: SlateExploration
    let users: Int
    let warmUpLists: Int
    let concurrency: Int
    let requests: Int
    let k: Int
    let sampler: Sampler

    struct Failure: Error, CustomStringConvertible { let description: String }

    func run() async throws -> [BenchResult] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drlrec-bench-serve-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let registry = try ModelRegistry(directory: directory + "/registry")
        let version = try registry.register(checkpoint: checkpoint, scenario: "bench", dataHash: "")
        try registry.promote(version.id)
        var configuration = RecommendationService.Configuration()
        configuration.modelKinds = .drlrec
        configuration.exploration = exploration
        configuration.explorationSeed = 0
        configuration.impressionLogPath = directory + "/impressions.csv"
        configuration.replicas = concurrency
        configuration.latencyBudget = .seconds(10)
        let service = try RecommendationService(registry: registry, feedbackPath: directory + "/feedback.csv", configuration: configuration)
        defer {
            service.feedbackLog.shutDown()
            service.impressionLog?.shutDown()
        }
        let context = [Float](repeating: 0, count: service.contextColumns.count)
        let model = try ServableModelKinds.drlrec.load(checkpoint: try registry.checkpointPath(of: version.id))
        if let problem = model.contextProblem(context) {
            throw Failure(description: "the benchmark serves in the all-zero context, which this model refuses: \(problem)")
        }
        // Warm-up: every user is served `warmUpLists` lists, their histories filling as under load: a
        // model that reads its served lists sees them; any other, a click on each list's first item.
        try await serve(service, count: users * warmUpLists, clicking: !model.readsImpressions)

        // The stages, each over the same users' histories in turn.
        let histories = (0..<users).map { service.histories.entry(for: "u\($0)")?.events ?? [] }
        var next = 0
        func nextHistory() -> [UserEvent] {
            defer { next = (next + 1) % users }
            return histories[next]
        }
        var results: [BenchResult] = []
        /// The median milliseconds per call, and the heap allocations per call over 100 more calls.
        func stage(_ name: String, _ body: () -> Void) {
            let seconds = sampler.median(body)
            let before = drl_allocation_count()
            for _ in 0..<100 { body() }
            let allocations = drl_allocation_count() - before
            results.append(BenchResult(name: name, value: seconds * 1e3, unit: "ms",
                                       allocationsPerStep: before == UInt.max ? nil : Double(allocations) / 100))
        }
        let scores = model.scores(history: histories[0], context: context)
        let choice = ServedListChoice(scores: scores, k: k, candidates: nil, seen: [], withPool: exploration.epsilon > 0)
        var generator = RandomGenerator(seed: 1)
        let popularity = model.itemCounts
        // The service's path for a model that ranks without scoring every item, where the list
        // reads no other score: its ranked items, then the list placed from the pool as a set.
        if exploration.readsNoScores, let ranked = model.rankedItems(k, history: histories[0], context: context, actionNoise: nil) {
            var pool = ranked.eligible
            for item in ranked.items { pool.remove(item) }
            stage("serve.model_ranked") { _ = model.rankedItems(k, history: nextHistory(), context: context, actionNoise: nil) }
            stage("serve.exploration_ranked") { _ = exploration.place(greedy: ranked.items, pool: pool, popularity: popularity, using: &generator) }
        }

        stage("serve.model_scores") { _ = model.scores(history: nextHistory(), context: context) }
        stage("serve.list_choice") { _ = ServedListChoice(scores: scores, k: k, candidates: nil, seen: [], withPool: exploration.epsilon > 0) }
        stage("serve.exploration") {
            _ = exploration.place(greedy: choice.greedy, pool: choice.pool, scores: scores, popularity: popularity, using: &generator)
        }
        // Whole requests, `concurrency` in flight.
        let start = Sampler.now()
        try await serve(service, count: requests)
        let seconds = Sampler.now() - start
        results.append(BenchResult(name: "serve.requests c\(concurrency)", value: Double(requests) / seconds, unit: "requests/s"))
        return results
    }

    /// Serves `count` requests with `concurrency` in flight, for the users in turn.
    private func serve(_ service: RecommendationService, count: Int, clicking: Bool = false) async throws {
        let (users, k, concurrency) = (users, k, concurrency)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for i in stride(from: worker, to: count, by: concurrency) {
                        let user = "u\(i % users)"
                        // A user the service has not heard of starts from an empty history.
                        let known = service.histories.entry(for: user) != nil
                        var request = RecommendRequest(user: user, k: k)
                        if clicking && !known { request.history = [] }
                        let list = try await service.recommend(request)
                        guard clicking, let first = list.items.first else { continue }
                        try await service.feedback(FeedbackRequest(user: user, item: first.id, event: .click,
                                                                   impression: list.impression.map { ($0, 1) }))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
