import DRLData
@testable import DRLEvaluation
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct SlateOffPolicyTests {
    /// Served logs in the logged-interactions format, as the service writes its impression and
    /// feedback logs, read back.
    func log(_ rows: [(user: String, item: String, event: FeedbackKind, propensity: Float, list: String, position: Int)]) throws -> LoggedInteractions {
        var text = LoggedInteractions.csvHeader(servedColumns: true, contextColumns: ["device"]) + "\n"
        for (k, row) in rows.enumerated() {
            let served = LoggedInteractions.Served(impression: row.list, position: row.position, version: "v1", arm: "control")
            text += LoggedInteractions.csvRow(user: row.user, item: row.item, timestamp: Int64(k), event: row.event, value: 1,
                                              propensity: row.propensity, served: served, servedColumns: true, context: [Float(2)]) + "\n"
        }
        let path = Scratch.path("served.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try LoggedInteractions.read(csv: path)
    }

    @Test func feedbackIsCreditedToThePositionItNames() throws {
        let impressions = try log([("u", "a", .impression, 0.9, "L1", 1), ("u", "b", .impression, 0.05, "L1", 2),
                                   ("w", "c", .impression, 1, "L2", 1)])
        let feedback = try log([("u", "b", .click, .nan, "L1", 2), ("u", "b", .purchase, .nan, "L1", 2), ("w", "c", .click, .nan, "L2", 1)])
        let reward: (FeedbackKind, Float) -> Double = { kind, _ in kind == .purchase ? 5 : 1 }
        let served = try ServedSlateLog(impressions: impressions, named: "imp.csv", feedback: feedback, named: "fb.csv", reward: reward)
        #expect(served.slates.map(\.id) == ["L1", "L2"])
        #expect(served.slates[0].items == ["a", "b"] && served.slates[0].rewards == [0, 6] && served.slates[1].rewards == [1])
        #expect(served.slates[0].propensities.map { Float($0) } == [0.9, 0.05] && served.slates[0].context == [2] && served.slates[0].user == "u")

        let wrongItem = try log([("u", "a", .click, .nan, "L1", 2)])
        #expect { try ServedSlateLog(impressions: impressions, named: "imp.csv", feedback: wrongItem, named: "fb.csv", reward: reward) } throws: {
            "\($0)" == "fb.csv:2: names item 'a' at position 2 of list 'L1', which showed 'b' there"
        }
        let gap = try log([("u", "a", .impression, 0.9, "L1", 1), ("u", "b", .impression, 0.5, "L1", 3)])
        #expect { try ServedSlateLog(impressions: gap, named: "imp.csv", feedback: feedback, named: "fb.csv", reward: reward) } throws: {
            "\($0)".contains("list 'L1' has position 3 where position 2 belongs")
        }
        let unknown = try log([("u", "a", .impression, .nan, "L1", 1)])
        #expect { try ServedSlateLog(impressions: unknown, named: "imp.csv", feedback: feedback, named: "fb.csv", reward: reward) } throws: {
            "\($0)".contains("propensity of list 'L1' at position 1 is nan, not in (0, 1]")
        }
    }

    /// Lists logged by a uniform policy (each item at each position with probability 1/20) with
    /// clicks from a position-based model estimate a deterministic target list's value: the
    /// model-free estimators' intervals cover the true value and IIPS is within four standard
    /// errors of it; DR covers it with a wrong reward model (a constant guess) and, with the true
    /// one, gives a narrower interval than IIPS; DM is exact with the true model and off with the
    /// wrong one.
    @Test func independentPositionEstimatesRecoverATargetListsValue() {
        let items = 20, positions = 3, lists = 30_000
        var rng = RandomGenerator(seed: 5)
        let attraction = (0..<items).map { 0.1 + 0.8 * Double($0) / Double(items - 1) }, examination = [1.0, 0.6, 0.3]
        let target = [19, 18, 17]
        let truth = (0..<positions).map { attraction[target[$0]] * examination[$0] }.reduce(0, +)
        var weights: [[Double]] = [], rewards: [[Double]] = [], shownLists: [[Int]] = []
        for _ in 0..<lists {
            let shown = Array(rng.permutation(items).prefix(positions))
            shownLists.append(shown)
            weights.append((0..<positions).map { shown[$0] == target[$0] ? 1 / (1.0 / Double(items)) : 0 })
            rewards.append((0..<positions).map { Double(rng.uniform()) < attraction[shown[$0]] * examination[$0] ? 1 : 0 })
        }
        func data(_ model: (Int, Int) -> Double) -> SlateOffPolicyData {
            SlateOffPolicyData(weights: weights, rewards: rewards,
                               modelRewards: shownLists.map { shown in (0..<positions).map { model(shown[$0], $0) } },
                               directValues: shownLists.map { _ in (0..<positions).map { model(target[$0], $0) } })
        }
        let exact = data { attraction[$0] * examination[$1] }, wrong = data { _, _ in 0.5 }, modelFree = SlateOffPolicyData(weights: weights, rewards: rewards)
        var widths: [SlateOffPolicyEstimator: Double] = [:]
        for (estimator, data) in [(SlateOffPolicyEstimator.independentIPS, modelFree), (.selfNormalizedIPS, modelFree), (.doublyRobust, wrong)] {
            let (value, low, high) = estimator.estimateWithInterval(data, resamples: 300, seed: 1)
            #expect(low <= truth && truth <= high, "\(estimator): \(value) [\(low), \(high)] against \(truth)")
            #expect(high - low < 0.3 * truth, "\(estimator): an interval of \(high - low) says little")
            widths[estimator] = high - low
        }
        let (drValue, drLow, drHigh) = SlateOffPolicyEstimator.doublyRobust.estimateWithInterval(exact, resamples: 300, seed: 1)
        #expect(drLow <= truth && truth <= drHigh && drHigh - drLow < 0.8 * widths[.independentIPS]!, "DR with the true model: \(drValue) [\(drLow), \(drHigh)]")
        #expect(abs(SlateOffPolicyEstimator.directMethod.estimate(exact, over: Array(0..<lists)) - truth) < 1e-9)
        #expect(abs(SlateOffPolicyEstimator.directMethod.estimate(wrong, over: Array(0..<lists)) - 1.5) < 1e-9)
        let ips = SlateOffPolicyEstimator.independentIPS.estimate(modelFree, over: Array(0..<lists))
        let terms = zip(weights, rewards).map { zip($0, $1).map { $0 * $1 }.reduce(0, +) }
        let mean = terms.reduce(0, +) / Double(lists)
        let standardError = (terms.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(lists - 1) / Double(lists)).squareRoot()
        #expect(abs(ips - truth) < 4 * standardError)
    }

    /// The position-based reward model: θⱼ is each position's mean reward, an item's attraction
    /// is its rewards over what its positions predict, shrunk towards 1 when every propensity is
    /// the same (no exploration), and an unseen item has 1.
    @Test func positionBasedRewardModelFitsPositionsAndItems() {
        func slate(_ items: [String], _ rewards: [Double]) -> ServedSlateLog.Slate {
            ServedSlateLog.Slate(id: "s", user: "u", timestamp: 0, version: "v1", arm: "control", context: [], items: items,
                                 propensities: items.map { _ in 1 }, rewards: rewards)
        }
        let slates = [slate(["a", "b"], [1, 0]), slate(["b", "a"], [1, 1]), slate(["c", "a"], [0, 1]), slate(["a", "c"], [1, 0])]
        let model = SlateRewardModel(slates: slates, prior: 2)
        #expect(model.positionRewards == [0.75, 0.5])
        // a: earned 4 where positions predict 0.75 + 0.5 + 0.5 + 0.75 = 2.5; α = 2 · 0.625.
        let alpha = 1.25
        #expect(abs(model.estimate(item: "a", position: 2) - 0.5 * (4 + alpha) / (2.5 + alpha)) < 1e-12)
        #expect(abs(model.estimate(item: "c", position: 1) - 0.75 * (0 + alpha) / (1.25 + alpha)) < 1e-12)
        #expect(model.estimate(item: "z", position: 1) == 0.75 && model.estimate(item: "a", position: 3) == 0)
        #expect(model.attractions(of: ["z", "b"]) == [1, (1 + alpha) / (1.25 + alpha)])
        #expect(model.unseenAttraction == 1)
    }

    /// With exploration the attraction of an item the policy did not choose is what the explored
    /// appearances earned, weighted by 1 / propensity: a rarely shown item is shrunk towards it
    /// and an unseen item gets it, not the mean logged item's 1.
    @Test func itemsWithoutEvidenceEarnWhatExploredItemsEarn() {
        // Ten lists: the greedy "a" at position 1 (propensity 0.9) always earns 1; position 2 holds
        // the greedy "b" (0.9) in five lists, earning 1, and an explored item (0.01) in the other
        // five, earning nothing.
        let slates = (1...10).map { k in
            ServedSlateLog.Slate(id: "s\(k)", user: "u", timestamp: 0, version: "v1", arm: "control", context: [],
                                 items: ["a", k <= 5 ? "b" : "e\(k)"], propensities: [0.9, k <= 5 ? 0.9 : 0.01], rewards: [1, k <= 5 ? 1 : 0])
        }
        let model = SlateRewardModel(slates: slates, prior: 2)
        #expect(model.positionRewards == [1, 0.5])
        let base = (10 / 0.9 + 5 / 0.9) / (10 / 0.9 + 5 * 0.5 / 0.9 + 5 * 0.5 / 0.01)
        #expect(abs(model.unseenAttraction - base) < 1e-12 && base < 0.07)
        // α = 2 · mean θ = 1.5; an explored item earned 0 where θ₂ = 0.5 predicted.
        #expect(abs(model.attractions(of: ["e6"])[0] - 1.5 * base / 2) < 1e-12)
        #expect(model.attractions(of: ["never shown"]) == [base])
        #expect(abs(model.estimate(item: "never shown", position: 2) - 0.5 * base) < 1e-12)
    }

    /// Switch-DR is DR with τ = ∞ and the direct method with τ = 0; in between, a position's
    /// residual counts only where its weight is at most τ.
    @Test func switchDoublyRobustDropsTheResidualsOfLargeWeights() {
        let data = SlateOffPolicyData(weights: [[0.5, 2e4], [3, 150]], rewards: [[1, 1], [0, 1]],
                                      modelRewards: [[0.4, 0.1], [0.2, 0.3]], directValues: [[0.3, 0.05], [0.25, 0.1]])
        let all = [0, 1]
        let dr = SlateOffPolicyEstimator.doublyRobust.estimate(data, over: all)
        let dm = SlateOffPolicyEstimator.directMethod.estimate(data, over: all)
        #expect(abs(SlateOffPolicyEstimator.switchDoublyRobust.estimate(data, over: all, switchThreshold: .infinity) - dr) < 1e-12)
        #expect(abs(SlateOffPolicyEstimator.switchDoublyRobust.estimate(data, over: all, switchThreshold: 0) - dm) < 1e-12)
        // τ = 100 keeps the residuals of weights 0.5 and 3 and drops those of 2·10⁴ and 150.
        let expected = (0.3 + 0.05 + 0.25 + 0.1 + 0.5 * (1 - 0.4) + 3 * (0 - 0.2)) / 2
        #expect(abs(SlateOffPolicyEstimator.switchDoublyRobust.estimate(data, over: all) - expected) < 1e-12)
        let (value, low, high) = SlateOffPolicyEstimator.switchDoublyRobust.estimateWithInterval(data, resamples: 50)
        #expect(abs(value - expected) < 1e-12 && low <= value && value <= high)
    }

    /// Keyed by a policy's ranks, the attraction of rank i is what the items the policy ranks i-th
    /// earned over what their positions predict, shrunk towards what unchosen items earn (ρ₀, here
    /// 1: no exploration); appearances outside the policy's list count for no rank, and a rank it
    /// never placed has ρ₀. With exploration, ρ₀ is the explored items' ratio, not 1.
    @Test func rankAttractionsAreWhatThePolicysItemsEarnedByRank() {
        func slate(_ items: [String], _ rewards: [Double]) -> ServedSlateLog.Slate {
            ServedSlateLog.Slate(id: "s", user: "u", timestamp: 0, version: "v1", arm: "control", context: [], items: items,
                                 propensities: items.map { _ in 1 }, rewards: rewards)
        }
        let slates = [slate(["a", "b"], [1, 0]), slate(["b", "a"], [1, 1]), slate(["c", "a"], [0, 1]), slate(["a", "c"], [1, 0])]
        let model = SlateRewardModel(slates: slates, prior: 2, key: .policyRank)
        #expect(model.key == .policyRank && model.positionRewards == [0.75, 0.5])
        // Rank 0 holds the logged items of (list 0, position 0), (1, 1) and (3, 0): earned 3 where
        // 0.75 + 0.5 + 0.75 = 2 was predicted; rank 1 holds (2, 0): earned 0 against 0.75; the
        // items outside the list, (0, 1), (1, 0), (2, 1) and (3, 1), count for no rank.
        let ranks: [[Int?]] = [[0, nil], [nil, 0], [1, nil], [0, nil]]
        let rho = model.rankAttractions(ranks: ranks, rewards: slates.map(\.rewards), listLength: 3)
        let alpha = 1.25
        #expect(model.unseenAttraction == 1)
        #expect(abs(rho[0] - (3 + alpha) / (2 + alpha)) < 1e-12)
        #expect(abs(rho[1] - alpha / (0.75 + alpha)) < 1e-12)
        #expect(rho[2] == 1)
        // Ten lists with an explored second position (see itemsWithoutEvidenceEarnWhatExploredItemsEarn):
        // a rank without evidence gets the explored items' ratio.
        let explored = (1...10).map { k in
            ServedSlateLog.Slate(id: "s\(k)", user: "u", timestamp: 0, version: "v1", arm: "control", context: [],
                                 items: ["a", k <= 5 ? "b" : "e\(k)"], propensities: [0.9, k <= 5 ? 0.9 : 0.01], rewards: [1, k <= 5 ? 1 : 0])
        }
        let exploredModel = SlateRewardModel(slates: explored, prior: 2, key: .policyRank)
        let none = exploredModel.rankAttractions(ranks: explored.map { _ in [nil, nil] }, rewards: explored.map(\.rewards), listLength: 2)
        #expect(none == [exploredModel.unseenAttraction, exploredModel.unseenAttraction] && none[0] < 0.07)
    }

    /// A bootstrap resample refits the ranks' attractions: the refitted estimate over a subset of
    /// lists is the estimate of terms rebuilt, by hand, from attractions fitted on that subset, for
    /// every estimator that reads the model (the others ignore it); over every list it is the plain
    /// estimate. A rank whose items the logs show a few times then carries their noise into the
    /// interval, which the fixed model's leaves out.
    @Test func aBootstrapResampleRefitsTheRanksAttractions() {
        // 40 two-position lists; the policy's first item was logged at position 1 in every fourth
        // list (weight 2, earning 1 or 0 alternately) and its second at position 2 in every fifth
        // (weight 150, above switch-DR's τ); the others hold items outside its list (weight 0).
        var rng = RandomGenerator(seed: 11, stream: 2)
        var slates: [ServedSlateLog.Slate] = [], ranks: [[Int?]] = [], shares: [[[Double]]] = [], weights: [[Double]] = []
        for k in 0..<40 {
            let first: Int? = k % 4 == 0 ? 0 : nil, second: Int? = k % 5 == 0 ? 1 : nil
            let rewards: [Double] = [first != nil ? Double((k / 4) % 2) : (rng.uniform() < 0.3 ? 1 : 0), rng.uniform() < 0.2 ? 1 : 0]
            slates.append(ServedSlateLog.Slate(id: "s\(k)", user: "u\(k)", timestamp: 0, version: "v1", arm: "control", context: [],
                                               items: ["i\(k)", "j\(k)"], propensities: [0.5, 0.5], rewards: rewards))
            ranks.append([first, second])
            shares.append([[0.9, 0.05], [0.05, 0.9]])
            weights.append([first != nil ? 2 : 0, second != nil ? 150 : 0])
        }
        let model = SlateRewardModel(slates: slates, prior: 2, key: .policyRank)
        let rewards = slates.map(\.rewards), theta = model.positionRewards
        let fit = RankAttractionFit(model: model, ranks: ranks, shares: shares, rewards: rewards)
        // The terms of attractions ρ: an item outside the policy's list is valued 0.1 by the item
        // model and its explored share adds 0.02 · θⱼ.
        func data(_ rho: [Double], fit: RankAttractionFit? = nil) -> SlateOffPolicyData {
            let modelRewards = ranks.map { row in row.enumerated().map { j, rank in rank.map { theta[j] * rho[$0] } ?? 0.1 } }
            let directValues = shares.map { row in row.enumerated().map { j, p in theta[j] * (0.02 + p[0] * rho[0] + p[1] * rho[1]) } }
            return SlateOffPolicyData(weights: weights, rewards: rewards, modelRewards: modelRewards, directValues: directValues, rankFit: fit)
        }
        let fitted = data(fit.attractions, fit: fit), fixed = data(fit.attractions)
        let subset = [0, 0, 4, 8, 8, 8, 5, 13, 20, 33, 36, 39]
        let refitted = data(fit.attractions(rewards: rewards, over: subset))
        #expect(fit.attractions(rewards: rewards, over: subset) != fit.attractions)
        for estimator in SlateOffPolicyEstimator.allCases {
            let all = Array(0..<40)
            #expect(estimator.refittedEstimate(fitted, over: all) == estimator.estimate(fitted, over: all), "\(estimator)")
            let expected = estimator.estimate(estimator == .independentIPS || estimator == .selfNormalizedIPS ? fixed : refitted, over: subset)
            #expect(abs(estimator.refittedEstimate(fitted, over: subset) - expected) < 1e-12, "\(estimator)")
        }
        // Over τ's weights too: with τ = ∞ switch-DR is DR on the refitted terms.
        #expect(abs(SlateOffPolicyEstimator.switchDoublyRobust.refittedEstimate(fitted, over: subset, switchThreshold: .infinity)
                    - SlateOffPolicyEstimator.doublyRobust.estimate(refitted, over: subset)) < 1e-12)
        let withRefit = SlateOffPolicyEstimator.directMethod.estimateWithInterval(fitted, resamples: 400, seed: 4)
        let withoutRefit = SlateOffPolicyEstimator.directMethod.estimateWithInterval(fixed, resamples: 400, seed: 4)
        #expect(withRefit.value == withoutRefit.value)
        #expect(withRefit.high - withRefit.low > 2 * (withoutRefit.high - withoutRefit.low), "refitted \(withRefit), fixed \(withoutRefit)")
    }

    /// Lists of one user are resampled together: when each of 40 users' 8 lists are copies of
    /// one another, the interval over users is the interval of the 40 distinct lists (the same
    /// draws), and the interval over lists, which takes the copies for independent evidence, is
    /// narrower.
    @Test func anIntervalOverUsersDrawsEachUsersListsTogether() {
        var rng = RandomGenerator(seed: 3, stream: 1)
        let distinct = (0..<40).map { _ in [Double(rng.uniform()) * 2, Double(rng.uniform())] }
        let copies = distinct.flatMap { [[Double]](repeating: $0, count: 8) }
        let users = distinct.indices.flatMap { [Int](repeating: $0, count: 8) }
        func weights(_ rows: [[Double]]) -> [[Double]] { rows.map { _ in [1, 1] } }
        let byUser = SlateOffPolicyEstimator.independentIPS.estimateWithInterval(SlateOffPolicyData(weights: weights(copies), rewards: copies, clusters: users))
        let once = SlateOffPolicyEstimator.independentIPS.estimateWithInterval(SlateOffPolicyData(weights: weights(distinct), rewards: distinct))
        let byList = SlateOffPolicyEstimator.independentIPS.estimateWithInterval(SlateOffPolicyData(weights: weights(copies), rewards: copies))
        #expect(abs(byUser.value - once.value) < 1e-12 && abs(byUser.low - once.low) < 1e-12 && abs(byUser.high - once.high) < 1e-12,
                "\(byUser) against \(once)")
        #expect(abs(byList.value - byUser.value) < 1e-12)
        #expect((byList.high - byList.low) < 0.5 * (byUser.high - byUser.low), "over lists \(byList), over users \(byUser)")
    }
}
