import DRLData
import DRLEvaluation
import DRLTensor
import Foundation
import Testing
@testable import DRLServing

/// Off-policy evaluation on the service's own logs: lists served with exploration by one model,
/// clicks from a known position-based user model, feedback naming the lists, and the replay of
/// another model on them against that model's value measured by serving it.
@Suite struct ServedLogEvaluationTests {
    static let items = (0..<30).map { "i\($0)" }
    /// Item i's attraction and position j's examination: a click at j on i has probability their product.
    static let attraction = (0..<30).map { 0.05 + 0.5 * Double($0) / 29 }, examination = [1.0, 0.7, 0.5, 0.3]
    static let exploration = SlateExploration(epsilon: 0.5, shuffle: 0.3)

    /// A service over a registry with two fixed-score versions: v1 ranks by index (the attractive
    /// items first), v2 the other way round; `production` is promoted.
    func service(production: String, directory: String, exploration: SlateExploration = Self.exploration) throws -> RecommendationService {
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory(directory))
        for (name, sign) in [("rising", Float(1)), ("falling", -1)] {
            let path = "\(registry.directory)/\(name).safetensors"
            try FixedScoresModel.save(items: Self.items, contextColumns: [], scores: Self.items.indices.map { sign * Float($0) / 4 }, to: path)
            try registry.register(checkpoint: path, scenario: "fixed", dataHash: "d")
        }
        try registry.promote(production)
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        configuration.modelKinds = ServableModelKinds([FixedScoresModel.self])
        configuration.exploration = exploration
        configuration.explorationSeed = 3
        configuration.impressionLogPath = registry.directory + "/impressions.csv"
        return try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
    }

    /// Serves `users` users one list of 4 each (each first clicked i0 and i29 long ago, which are
    /// then left out) and posts the clicks the user model draws, naming the list and position.
    /// Returns the mean reward (clicks) per list.
    func run(_ service: RecommendationService, users: Int, seed: UInt64) async throws -> Double {
        var rng = RandomGenerator(seed: seed)
        var clicks = 0
        let later = Int64(Date().timeIntervalSince1970) + 100_000
        for u in 0..<users {
            for seen in ["i0", "i29"] { try await service.feedback(FeedbackEvent(user: "u\(u)", item: seen, timestamp: 1, event: .click)) }
            let answer = try await service.recommend(RecommendRequest(user: "u\(u)", k: 4))
            for (j, shown) in answer.items.enumerated() where Double(rng.uniform()) < Self.attraction[Int(shown.id.dropFirst())!] * Self.examination[j] {
                clicks += 1
                let served = try service.servedList(impression: answer.impression!, position: j + 1, item: shown.id, user: "u\(u)")
                try await service.feedback(FeedbackEvent(user: "u\(u)", item: shown.id, timestamp: later, event: .click, served: served))
            }
        }
        service.feedbackLog.shutDown()
        service.impressionLog!.shutDown()
        return Double(clicks) / Double(users)
    }

    func logs(of service: RecommendationService) throws -> (ServedSlateLog, LoggedInteractions) {
        let impressions = try LoggedInteractions.read(csv: service.impressionLog!.path)
        let feedback = try LoggedInteractions.read(csv: service.feedbackLog.path)
        return (try ServedSlateLog(impressions: impressions, named: "impressions.csv", feedback: feedback, named: "feedback.csv") { _, _ in 1 }, feedback)
    }

    /// The falling model's value, estimated from lists the rising model served (with ε = 0.5
    /// uniform exploration and the order shuffled in 30% of the lists, as the falling model is
    /// replayed too: without the shuffle, the logs never show the rising model's top items at
    /// other positions than its own, where the falling model's explored lists put them), is covered by the IIPS, SNIPS
    /// and DR intervals, where the truth is the falling model's own click rate over 6,000 lists
    /// served by it (its standard error, about 0.007, is added to the intervals); the direct
    /// method, whose model reads no user, is reported but not held to it. The rising model's
    /// replay on its own logs has every weight 1: its IIPS is its logged click rate exactly.
    /// With noise on the models' actions (here their scores; 0.3 against 0.25 between neighbours,
    /// so the greedy lists vary), every list's propensities are given its noise, the replay draws
    /// the same noise from the list's id, and the same holds; replayed without the noise, the
    /// rising model's own weights are no longer all 1.
    @Test(arguments: [ServedLogEvaluationTests.exploration, SlateExploration(epsilon: 0.5, shuffle: 0.3, actionNoise: 0.3)])
    func aModelsValueIsEstimatedFromAnotherModelsServedLists(exploration: SlateExploration) async throws {
        let noisy = exploration.actionNoise > 0 ? "-noisy" : ""
        let logging = try service(production: "v1", directory: "ope-logged" + noisy, exploration: exploration)
        let loggedRate = try await run(logging, users: 6_000, seed: 1)
        let truthService = try service(production: "v2", directory: "ope-truth" + noisy, exploration: exploration)
        let truth = try await run(truthService, users: 6_000, seed: 2)
        let (log, feedback) = try logs(of: logging)
        #expect(log.slates.count == 6_000 && log.slates.allSatisfy { $0.items.count == 4 && !$0.items.contains("i0") && !$0.items.contains("i29") })
        let rewardModel = SlateRewardModel(slates: log.slates)
        let falling = try FixedScoresModel.load(checkpoint: try logging.registry.checkpointPath(of: "v2"))
        let rising = try FixedScoresModel.load(checkpoint: try logging.registry.checkpointPath(of: "v1"))
        let data = try ServedLogReplay.offPolicyData(of: falling, exploration: exploration, log: log, feedback: feedback, rewardModel: rewardModel)
        #expect(truth < loggedRate - 0.3, "the falling model must be clearly worse for the test to mean something: \(truth) against \(loggedRate)")
        for estimator in [SlateOffPolicyEstimator.independentIPS, .selfNormalizedIPS, .doublyRobust] {
            let (value, low, high) = estimator.estimateWithInterval(data, resamples: 400, seed: 5)
            #expect(low - 0.014 <= truth && truth <= high + 0.014, "\(estimator): \(value) [\(low), \(high)] against the served \(truth)")
            #expect(high - low < 0.5 * truth, "\(estimator): [\(low), \(high)] says little")
        }
        // Keyed by the replayed model's ranks: a model that ranks the items the same way for every
        // list (as here without action noise: every user has seen the same two items) has rank i
        // stand for one item, so the model is the item model. With the noise the lists differ, and
        // DR and switch-DR on the rank model stay unbiased either way.
        let byRank = try ServedLogReplay.offPolicyData(of: falling, exploration: exploration, log: log, feedback: feedback,
                                                       rewardModel: SlateRewardModel(slates: log.slates, key: .policyRank))
        #expect(byRank.weights == data.weights && byRank.rewards == data.rewards)
        let sameModel = [(byRank.modelRewards, data.modelRewards), (byRank.directValues, data.directValues)].allSatisfy { byRankRows, byItemRows in
            zip(byRankRows, byItemRows).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) < 1e-12 } }
        }
        #expect(sameModel == (exploration.actionNoise == 0))
        for estimator in [SlateOffPolicyEstimator.doublyRobust, .switchDoublyRobust] {
            let (value, low, high) = estimator.estimateWithInterval(byRank, resamples: 400, seed: 5)
            #expect(low - 0.014 <= truth && truth <= high + 0.014, "\(estimator) by rank: \(value) [\(low), \(high)] against the served \(truth)")
        }
        let own = try ServedLogReplay.offPolicyData(of: rising, exploration: exploration, log: log, feedback: feedback, rewardModel: rewardModel)
        #expect(own.weights.allSatisfy { $0.allSatisfy { abs($0 - 1) < 1e-6 } })
        if exploration.actionNoise > 0 {
            let withoutNoise = SlateExploration(epsilon: exploration.epsilon, shuffle: exploration.shuffle)
            let blind = try ServedLogReplay.offPolicyData(of: rising, exploration: withoutNoise, log: log, feedback: feedback, rewardModel: rewardModel)
            let off = blind.weights.filter { $0.contains { abs($0 - 1) > 1e-6 } }.count
            #expect(off > log.slates.count / 10, "only \(off) of \(log.slates.count) lists' weights depend on the noise")
        }
        #expect(abs(SlateOffPolicyEstimator.independentIPS.estimate(own, over: Array(0..<own.lists)) - loggedRate) < 1e-4)

        // The gate refuses the falling model against the rising one in production, and passes the
        // rising one against the falling one, from the same logs.
        let gate = OffPolicyGate(estimator: .doublyRobust, resamples: 400, exploration: exploration)
        let refused = try gate.verdict(candidate: falling, production: rising, log: log, feedback: feedback)
        #expect(!refused.passes && refused.summary.contains("below production's estimate"), "\(refused.summary)")
        #expect(try gate.verdict(candidate: rising, production: falling, log: log, feedback: feedback).passes)
        // So does switch-DR on the rank-keyed model, and its summary names both.
        let switchGate = OffPolicyGate(estimator: .switchDoublyRobust, resamples: 400, exploration: exploration, rewardModel: .policyRank)
        let switchRefused = try switchGate.verdict(candidate: falling, production: rising, log: log, feedback: feedback)
        #expect(!switchRefused.passes && switchRefused.summary.hasPrefix("off-policy switch-dr (τ 100) on the policy-rank reward model over 6000 served lists"),
                "\(switchRefused.summary)")
        #expect(try switchGate.verdict(candidate: rising, production: falling, log: log, feedback: feedback).passes)
    }

    /// A history is rebuilt from the feedback logged strictly before a list: a model that leaves
    /// out seen items is replayed with the items clicked earlier left out, so an item the user
    /// clicked before the list has probability 0 there, and one clicked only after it does not.
    @Test func historiesAreRebuiltFromEarlierFeedbackOnly() throws {
        func row(_ user: String, _ item: String, _ t: Int64, _ event: FeedbackKind, list: String?, position: Int, propensity: Float) -> String {
            let served = list.map { LoggedInteractions.Served(impression: $0, position: position, version: "v1", arm: "control") }
            return LoggedInteractions.csvRow(user: user, item: item, timestamp: t, event: event, value: 1, propensity: propensity,
                                             served: served, servedColumns: true, context: [])
        }
        let header = LoggedInteractions.csvHeader(servedColumns: true, contextColumns: [])
        let directory = Fixtures.scratchDirectory("ope-history")
        try ([header] + [row("u", "i28", 10, .impression, list: "L", position: 1, propensity: 0.5)]).joined(separator: "\n")
            .appending("\n").write(toFile: directory + "/imp.csv", atomically: true, encoding: .utf8)
        for (name, clickTime) in [("before", Int64(9)), ("after", Int64(10))] {
            try ([header] + [row("u", "i29", clickTime, .click, list: nil, position: 0, propensity: .nan)]).joined(separator: "\n")
                .appending("\n").write(toFile: "\(directory)/\(name).csv", atomically: true, encoding: .utf8)
            let feedback = try LoggedInteractions.read(csv: "\(directory)/\(name).csv")
            let log = try ServedSlateLog(impressions: try LoggedInteractions.read(csv: directory + "/imp.csv"), named: "imp.csv",
                                         feedback: feedback, named: "\(name).csv") { _, _ in 1 }
            let model = FixedScoresModel(itemIds: Self.items, contextColumns: [], itemCounts: Self.items.map { _ in 0 },
                                         fixedScores: Self.items.indices.map(Float.init))
            let data = try ServedLogReplay.offPolicyData(of: model, exploration: .greedy, log: log, feedback: feedback,
                                                         rewardModel: SlateRewardModel(slates: log.slates))
            // Greedy: i28 is the top item only once i29 is left out.
            #expect(data.weights == [[name == "before" ? 2 : 0]], "\(name)")
        }
    }
}
