import DRLData
import DRLEvaluation
import DRLNN
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct OffPolicyEstimatorTests {

    /// Logged data with a known truth: contexts x ∈ ℝ³, click probabilities σ(θₐ·x − 1) for five
    /// actions, a softmax logging policy and another softmax evaluation policy. The truth is the
    /// evaluation policy's expected reward on these contexts.
    static func synthetic(rounds: Int = 10_000, rewardModel: (_ truth: Float) -> Float = { $0 }, propensityScale: Float = 1)
        -> (data: OffPolicyData, truth: Double) {
        let k = 5
        var rng = RandomGenerator(seed: 11)
        let theta = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        let behaviourScores = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        let evaluationScores = (0..<k).map { _ in (0..<3).map { _ in rng.normal() } }
        func softmax(_ z: [Float]) -> [Float] { let m = z.max()!; let e = z.map { expf($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        var actions: [Int32] = [], rewards: [Float] = [], propensities: [Float] = []
        var evaluation: [Float] = [], estimates: [Float] = [], truth = 0.0
        for _ in 0..<rounds {
            let x = (0..<3).map { _ in rng.normal() }
            func score(_ w: [Float]) -> Float { zip(w, x).reduce(0) { $0 + $1.0 * $1.1 } }
            let click = theta.map { 1 / (1 + expf(-(score($0) - 1))) }
            let behaviour = softmax(behaviourScores.map(score)), target = softmax(evaluationScores.map(score))
            let a = rng.categorical(behaviour)
            actions.append(Int32(a))
            rewards.append(rng.uniform() < click[a] ? 1 : 0)
            propensities.append(behaviour[a] * propensityScale)
            evaluation += target
            estimates += click.map(rewardModel)
            truth += zip(target, click).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        return (OffPolicyData(actions: actions, rewards: rewards, propensities: propensities,
                              evaluationProbabilities: Tensor(shape: Shape(rounds, k), scalars: evaluation),
                              rewardEstimates: Tensor(shape: Shape(rounds, k), scalars: estimates)), truth / Double(rounds))
    }

    /// IPW and DR are unbiased: the truth lies in their intervals, DR's even with a wrong reward
    /// model (a constant), and DR's interval is the narrower with the right one.
    @Test func ipwAndDoublyRobustCoverTheTruth() {
        let (data, truth) = Self.synthetic()
        let ipw = OffPolicyEstimator.ipw.estimateWithInterval(data, resamples: 200)
        let dr = OffPolicyEstimator.dr.estimateWithInterval(data, resamples: 200)
        #expect(ipw.low <= truth && truth <= ipw.high, "IPW \(ipw), truth \(truth)")
        #expect(dr.low <= truth && truth <= dr.high, "DR \(dr), truth \(truth)")
        #expect(dr.high - dr.low < ipw.high - ipw.low)
        let (wrongModel, _) = Self.synthetic(rewardModel: { _ in 0.5 })
        let robust = OffPolicyEstimator.dr.estimateWithInterval(wrongModel, resamples: 200)
        #expect(robust.low <= truth && truth <= robust.high, "DR with a constant model \(robust), truth \(truth)")
        let biased = OffPolicyEstimator.dm.estimate(wrongModel, over: Array(0..<wrongModel.rounds))
        #expect(abs(biased - truth) > 0.1)
    }

    @Test func theDirectMethodIsExactWithTheTrueRewardModel() {
        let (data, truth) = Self.synthetic()
        #expect(abs(OffPolicyEstimator.dm.estimate(data, over: Array(0..<data.rounds)) - truth) < 1e-6)
    }

    /// Rescaling every propensity by the same factor leaves the self-normalised estimators
    /// unchanged (and moves IPW by the inverse factor).
    @Test func selfNormalisedEstimatorsIgnoreAPropensityScale() {
        let (data, _) = Self.synthetic(rounds: 2_000), (scaled, _) = Self.synthetic(rounds: 2_000, propensityScale: 0.5)
        let all = Array(0..<data.rounds)
        for estimator in [OffPolicyEstimator.snipw, .sndr] {
            #expect(abs(estimator.estimate(data, over: all) - estimator.estimate(scaled, over: all)) < 1e-9)
        }
        #expect(abs(OffPolicyEstimator.ipw.estimate(scaled, over: all) - 2 * OffPolicyEstimator.ipw.estimate(data, over: all)) < 1e-9)
    }

    /// Switch-DR is DR with an infinite threshold and the direct method with a zero one; DRos the
    /// same with an infinite and a zero shrinkage.
    @Test func switchAndShrinkageSpanDirectAndDoublyRobust() {
        let (data, _) = Self.synthetic(rounds: 2_000, rewardModel: { $0 * 0.8 })
        let all = Array(0..<data.rounds)
        let dr = OffPolicyEstimator.dr.estimate(data, over: all), dm = OffPolicyEstimator.dm.estimate(data, over: all)
        #expect(abs(dr - dm) > 0.01)
        for estimator in [OffPolicyEstimator.switchDR, .dros] {
            #expect(abs(estimator.estimate(data, over: all, hyperparameters: .init(switchThreshold: .infinity, shrinkage: .infinity)) - dr) < 1e-12)
            #expect(abs(estimator.estimate(data, over: all, hyperparameters: .init(switchThreshold: 0, shrinkage: 0)) - dm) < 1e-12)
        }
        // A round the evaluation policy never takes (w = 0) adds no residual, even at λ = 0.
        var never = Tensor(zeros: Shape(1, data.actionCount))
        never[0, (Int(data.actions[0]) + 1) % data.actionCount] = 1
        let zeroWeight = OffPolicyData(actions: [data.actions[0]], rewards: [1], propensities: [0.5], evaluationProbabilities: never,
                                       rewardEstimates: Tensor(shape: Shape(1, data.actionCount), repeating: 0.25))
        #expect(OffPolicyEstimator.dros.estimate(zeroWeight, over: [0], hyperparameters: .init(shrinkage: 0)) == 0.25)
        // In between: DRos keeps a residual with weight w at λw/(w² + λ) of it.
        let lambda = 3.0, w = data.weight(7)
        #expect(abs(lambda * w / (w * w + lambda) - 1) > 0.01)
        let one = OffPolicyEstimator.dros.estimate(data, over: [7], hyperparameters: .init(shrinkage: lambda))
        #expect(abs(one - (data.directValue(7) + lambda * w / (w * w + lambda) * data.residual(7))) < 1e-12)
    }

    /// Tuned by Lepski's method: with a reward model that is wrong by a constant, leaving
    /// residuals to it moves the estimate away, so the search stops while the estimate is still
    /// within DR's own uncertainty of the truth (Lepski's guarantee: the error is a small multiple
    /// of the best candidate's), where the direct method is far off; with the true model,
    /// residuals carry only noise, so finite thresholds are chosen and the intervals are narrower
    /// than DR's, still around the truth.
    @Test func tunedThresholdsTradeVarianceOnlyWhereNoBiasShows() {
        let (wrong, truth) = Self.synthetic(rewardModel: { _ in 0.5 })
        let h = OffPolicyEstimator.tuned(wrong)
        let dmError = abs(OffPolicyEstimator.dm.estimate(wrong, over: Array(0..<wrong.rounds)) - truth)
        let drInterval = OffPolicyEstimator.dr.estimateWithInterval(wrong, resamples: 200)
        #expect(dmError > 0.1)
        for estimator in [OffPolicyEstimator.switchDR, .dros] {
            let value = estimator.estimate(wrong, over: Array(0..<wrong.rounds), hyperparameters: h)
            #expect(abs(value - truth) < min(drInterval.high - drInterval.low, dmError / 3),
                    "\(estimator) with \(h): \(value), truth \(truth), DR \(drInterval), DM off by \(dmError)")
        }
        let (exact, exactTruth) = Self.synthetic(rewardModel: { $0 })
        let tuned = OffPolicyEstimator.tuned(exact)
        #expect(tuned.switchThreshold.isFinite && tuned.shrinkage.isFinite, "\(tuned)")
        let dr = OffPolicyEstimator.dr.estimateWithInterval(exact, resamples: 200)
        for estimator in [OffPolicyEstimator.switchDR, .dros] {
            let (value, low, high) = estimator.estimateWithInterval(exact, resamples: 200, hyperparameters: tuned)
            #expect(low <= exactTruth && exactTruth <= high, "\(estimator) with \(tuned): \(value) [\(low), \(high)], truth \(exactTruth)")
            #expect(high - low < dr.high - dr.low, "\(estimator) [\(low), \(high)] against DR's [\(dr.low), \(dr.high)]")
        }
        #expect(abs(OffPolicyEstimator.normalQuantile(0.975) - 1.959963985) < 1e-8)
    }

    /// With a deterministic evaluation policy and a reward model of the action alone (its mean
    /// click rate), the plain bootstrap holds q̂ fixed and gives DM an interval of no width.
    /// Refitting the model in every resample gives DM the model's own spread, which covers the
    /// true value. IPW uses no model and gets the plain bootstrap's interval either way.
    @Test func refittingTheRewardModelGivesTheDirectMethodItsSpread() {
        let clickRates: [Float] = [0.3, 0.1, 0.5, 0.2, 0.05], rounds = 3_000
        var rng = RandomGenerator(seed: 11)
        let actions = (0..<rounds).map { _ in Int32(rng.nextIndex(below: 5)) }
        let rewards = actions.map { Float(rng.uniform() < clickRates[Int($0)] ? 1 : 0) }
        var alwaysFirst = Tensor(zeros: Shape(rounds, 5))
        for i in 0..<rounds { alwaysFirst[i, 0] = 1 }
        func meanClickRates(_ subset: [Int]) -> Tensor {
            var clicks = [Float](repeating: 0, count: 5), shown = [Float](repeating: 0, count: 5)
            for i in subset { clicks[Int(actions[i])] += rewards[i]; shown[Int(actions[i])] += 1 }
            let means = (0..<5).map { clicks[$0] / max(shown[$0], 1) }
            return Tensor(shape: Shape(rounds, 5), scalars: (0..<rounds).flatMap { _ in means })
        }
        let data = OffPolicyData(actions: actions, rewards: rewards, propensities: [Float](repeating: 0.2, count: rounds),
                                 evaluationProbabilities: alwaysFirst, rewardEstimates: meanClickRates(Array(0..<rounds)))
        let fixed = OffPolicyEstimator.dm.estimateWithInterval(data, resamples: 200)
        #expect(fixed.low == fixed.high)
        let refitted = OffPolicyEstimator.refittedIntervals([.dm, .ipw], data: data, resamples: 200, refit: meanClickRates)
        #expect(refitted[0].value == fixed.value)
        #expect(refitted[0].high - refitted[0].low > 0.04, "DM interval \(refitted[0])")
        #expect(refitted[0].low < 0.3 && 0.3 < refitted[0].high, "DM interval \(refitted[0])")
        let ipw = OffPolicyEstimator.ipw.estimateWithInterval(data, resamples: 200)
        #expect(refitted[1].value == ipw.value && refitted[1].low == ipw.low && refitted[1].high == ipw.high)
    }
}

@Suite struct OpenBanditLogTests {
    static let header = ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2"

    static func directory(_ rows: [String]) -> String {
        let root = Scratch.path("obd")
        try? FileManager.default.createDirectory(atPath: root + "/random/all", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/random/all/all.csv", contents: Data(([header] + rows).joined(separator: "\n").utf8))
        return root
    }

    /// Rounds, positions 1-3 as 0-2, user features numbered, affinities per item; the per-position
    /// action distribution; and line-numbered refusals.
    @Test func readsRoundsAndRefusesBadOnes() throws {
        let good = ["0,2019-11-24 00:00:17,2,1,0,0.333,a,b,c,d,0.1,0.2,0.3", "1,2019-11-24 00:00:18,0,1,1,0.333,a,x,c,d,1,2,3",
                    "2,2019-11-24 00:00:19,2,3,0,0.333,e,b,c,d,0,0,0"]
        let root = Self.directory(good)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = try OpenBanditLog.load(directory: root, policy: "random", campaign: "all")
        #expect(log.rounds == 3 && log.itemCount == 3 && log.items == [2, 0, 2] && log.positions == [0, 0, 2] && log.clicks == [0, 1, 0])
        #expect(log.userFeatures == [[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]] && log.affinities[1, 2] == 3)
        let table = log.positionActionDistribution()
        #expect(table[0, 0] == 0.5 && table[0, 2] == 0.5 && table[2, 2] == 1 && table[1, 0] == 0)
        #expect(log.timestamps == [1_574_553_617, 1_574_553_618, 1_574_553_619])
        let converted = log.interactions()
        #expect(converted.count == 3 && converted.events == [.impression, .click, .impression] && converted.propensities[0] == 0.333)
        #expect(converted.itemIds == ["2", "0"] && Array(converted.context[0..<6]) == [1, 0, 0, 0, 0, 0.3])
        let t = "2019-11-24 00:00:20.5+00:00"
        for (row, column) in [("3,\(t),5,1,0,0.3,a,b,c,d,0,0,0", "item_id"), ("3,\(t),1,4,0,0.3,a,b,c,d,0,0,0", "position"),
                              ("3,\(t),1,1,2,0.3,a,b,c,d,0,0,0", "click"), ("3,\(t),1,1,0,0,a,b,c,d,0,0,0", "propensity_score"),
                              ("3,2019-13-24 00:00:20,1,1,0,0.3,a,b,c,d,0,0,0", "timestamp"),
                              ("3,\(t),1,1,0,0.3,a,b,c,d,0,x,0", "user-item_affinity_1")] {
            let bad = Self.directory(good + [row])
            defer { try? FileManager.default.removeItem(atPath: bad) }
            do {
                _ = try OpenBanditLog.load(directory: bad, policy: "random", campaign: "all")
                Issue.record("read a bad round: \(row)")
            } catch {
                #expect(error.line == 5 && error.column == column, "\(error)")
            }
        }
    }

    /// A policy table per position; rows that do not sum to 1, or name no position or item, are refused.
    @Test func readsPolicyTables() throws {
        let root = Self.directory([])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/table.csv"
        _ = FileManager.default.createFile(atPath: path, contents: Data("item,position,probability\n0,1,1\n1,2,0.25\n2,2,0.75\n2,3,1\n".utf8))
        let read = try OpenBanditPolicyTable(contentsOf: path, items: 3)
        #expect(read.contextFeatures.isEmpty && read.fallback == nil && read.distributions.count == 1)
        let table = try #require(read.distributions[[]])
        #expect(table[0, 0] == 1 && table[1, 1] == 0.25 && table[1, 2] == 0.75 && table[2, 2] == 1 && table[0, 1] == 0)
        for (text, line, column) in [("position,item,probability\n1,0,1\n2,0,1\n3,0,0.9\n", 4, "probability"),
                                     ("position,item,probability\n4,0,1\n", 2, "position"), ("position,item,probability\n1,3,1\n", 2, "item"),
                                     ("position,item\n1,0\n", 1, nil as String?), ("position,item,probability,age\n1,0,1,3\n", 1, "age"),
                                     ("position,item,probability\n", 1, nil)] {
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do {
                _ = try OpenBanditPolicyTable(contentsOf: path, items: 3)
                Issue.record("read a bad table: \(text)")
            } catch {
                #expect(error.line == line && error.column == column, "\(error)")
            }
        }
    }

    /// A table per user context applies each round's own distribution, matched by the raw feature
    /// values, and the '*' default to contexts it does not list; without a default such rounds are
    /// refused with the first one's context. A context whose position does not sum to 1, or a row
    /// with '*' in only some feature columns, is refused at its line.
    @Test func appliesPolicyTablesPerContext() throws {
        let root = Self.directory(["0,2019-11-24 00:00:17,2,1,0,0.333,a,b,c,d,0,0,0", "1,2019-11-24 00:00:18,0,2,1,0.333,e,x,c,d,0,0,0",
                                   "2,2019-11-24 00:00:19,2,1,0,0.333,z,b,c,d,0,0,0", "3,2019-11-24 00:00:20,1,3,0,0.333,a,x,c,d,0,0,0"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = try OpenBanditLog.load(directory: root, policy: "random", campaign: "all")
        let path = root + "/table.csv"
        func write(_ rows: [String], header: String = "user_feature_0,position,item,probability") {
            _ = FileManager.default.createFile(atPath: path, contents: Data(([header] + rows).joined(separator: "\n").utf8))
        }
        let perContext = (1...3).flatMap { p in ["a,\(p),0,1", "e,\(p),1,0.5", "e,\(p),2,0.5"] }
        write(perContext + (1...3).map { "*,\($0),2,1" })
        let table = try OpenBanditPolicyTable(contentsOf: path, items: 3)
        #expect(table.contextFeatures == [0] && table.distributions.count == 2 && table.fallback != nil)
        let probabilities = try table.probabilities(for: log)
        #expect(probabilities.scalars == [1, 0, 0, 0, 0.5, 0.5, 0, 0, 1, 1, 0, 0])

        write(perContext)
        let partial = try OpenBanditPolicyTable(contentsOf: path, items: 3)
        do {
            _ = try partial.probabilities(for: log)
            Issue.record("applied a table that lacks round 2's context")
        } catch {
            #expect(error.table == path && error.context == "user_feature_0=z" && error.round == 2 && error.rounds == 1, "\(error)")
        }

        // Two feature columns: a context is the pair of values.
        write((1...3).flatMap { p in ["a,b,\(p),0,1", "*,*,\(p),1,1"] }, header: "user_feature_0,user_feature_1,position,item,probability")
        let pairs = try OpenBanditPolicyTable(contentsOf: path, items: 3).probabilities(for: log)
        #expect(pairs.scalars == [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0])

        for (rows, header, line, column) in [(perContext.dropLast() + ["e,3,2,0.4"], "user_feature_0,position,item,probability", 10, "probability"),
                                             (["a,*,1,0,1"], "user_feature_0,user_feature_1,position,item,probability", 2, "user_feature_0"),
                                             (["a,a,1,0,1"], "user_feature_0,user_feature_0,position,item,probability", 1, nil as String?)] {
            write(Array(rows), header: header)
            do {
                _ = try OpenBanditPolicyTable(contentsOf: path, items: 3)
                Issue.record("read a bad table: \(rows)")
            } catch {
                #expect(error.line == line && error.column == column, "\(error)")
            }
        }
    }
}

@Suite struct OpenBanditRewardModelTests {
    /// A log of three items whose clicks follow `clickRate(item, position)`, with one user
    /// feature of two values and no affinity.
    static func log(rounds: Int, seed: UInt64, clickRate: (Int, Int) -> Float) throws -> (OpenBanditLog, String) {
        var rng = RandomGenerator(seed: seed)
        let rows = (0..<rounds).map { i -> String in
            let item = rng.nextIndex(below: 3), position = 1 + rng.nextIndex(below: 3)
            let click = rng.uniform() < clickRate(item, position) ? 1 : 0
            return "\(i),2019-11-24 00:00:17,\(item),\(position),\(click),0.111,\(["a", "e"][rng.nextIndex(below: 2)]),b,c,d,0,0,0"
        }
        let root = OpenBanditLogTests.directory(rows)
        return (try OpenBanditLog.load(directory: root, policy: "random", campaign: "all"), root)
    }

    /// Newton's method reaches the penalised optimum: the objective's gradient in each item's
    /// weight, the mean of (p̂ − click) over its rounds plus l2·w, is zero to float precision.
    /// Cross-validation penalises item weights that only fit noise (every item clicks alike) more
    /// than ones the clicks support (items clicking at 2%, 10% and 30%).
    @Test func fitsToTheOptimumWithACrossValidatedPenalty() throws {
        let (noise, noiseRoot) = try Self.log(rounds: 3_000, seed: 3) { _, _ in 0.02 }
        let (signal, signalRoot) = try Self.log(rounds: 3_000, seed: 4) { item, _ in [0.02, 0.1, 0.3][item] }
        defer { for path in [noiseRoot, signalRoot] { try? FileManager.default.removeItem(atPath: path) } }
        let flat = try OpenBanditRewardModel(fitting: noise), fitted = try OpenBanditRewardModel(fitting: signal)
        #expect(flat.l2 > fitted.l2, "penalty \(flat.l2) on noise, \(fitted.l2) on signal")
        for (model, log) in [(flat, noise), (fitted, signal)] {
            let q = model.estimates(for: log)
            for item in 0..<3 {
                let rows = (0..<log.rounds).filter { log.items[$0] == Int32(item) }
                let gradient = rows.reduce(0.0) { $0 + Double(q[$1, item]) - Double(log.clicks[$1]) } / Double(log.rounds)
                    + model.l2 * Double(model.weights[item])
                #expect(abs(gradient) < 1e-5, "item \(item): gradient \(gradient) at penalty \(model.l2)")
            }
            // The mean estimate at the logged items is the click rate to the penalty's pull.
            let mean = (0..<log.rounds).reduce(0.0) { $0 + Double(q[$1, Int(log.items[$1])]) } / Double(log.rounds)
            #expect(abs(mean - log.clickRate) < 0.1 * log.clickRate, "mean estimate \(mean), click rate \(log.clickRate)")
        }
        let q = fitted.estimates(for: signal)
        #expect(q[0, 0] < q[0, 1] && q[0, 1] < q[0, 2] && abs(q[0, 2] - 0.3) < 0.05, "\(q[0, 0]), \(q[0, 1]), \(q[0, 2])")
    }

    /// Cross-fitting: a round's estimate does not move when the clicks of its fold (its own
    /// included) change, while a model fitted on every round follows them; and each fold's rows
    /// are those of a model fitted without the fold.
    @Test func crossFittedEstimatesNeverSeeTheirOwnClick() throws {
        var rng = RandomGenerator(seed: 5)
        let rows = (0..<600).map { i -> (item: Int, rest: String) in
            let item = rng.nextIndex(below: 3), position = 1 + rng.nextIndex(below: 3)
            let click = rng.uniform() < [0.05, 0.1, 0.2][item] ? 1 : 0
            return (item, "\(position),\(click),0.333,\(["a", "e"][rng.nextIndex(below: 2)]),b,c,d,0,0,0")
        }
        func csv(flipping flipped: Set<Int>) -> [String] {
            rows.enumerated().map { i, row in
                var fields = row.rest.split(separator: ",").map(String.init)
                if flipped.contains(i) { fields[1] = fields[1] == "1" ? "0" : "1" }
                return "\(i),2019-11-24 00:00:17,\(row.item)," + fields.joined(separator: ",")
            }
        }
        let root = OpenBanditLogTests.directory(csv(flipping: [])), flippedRoot = OpenBanditLogTests.directory(csv(flipping: [7, 10, 13]))
        defer { for path in [root, flippedRoot] { try? FileManager.default.removeItem(atPath: path) } }
        let log = try OpenBanditLog.load(directory: root, policy: "random", campaign: "all")
        let other = try OpenBanditLog.load(directory: flippedRoot, policy: "random", campaign: "all")
        let l2 = 0.01
        let crossFitted = try OpenBanditRewardModel.crossFittedEstimates(for: log, folds: 3, l2: l2)
        let crossFittedFlipped = try OpenBanditRewardModel.crossFittedEstimates(for: other, folds: 3, l2: l2)
        let plain = try OpenBanditRewardModel(fitting: log, l2: l2).estimates(for: log)
        let plainFlipped = try OpenBanditRewardModel(fitting: other, l2: l2).estimates(for: other)
        for i in [7, 10, 13] {
            let item = rows[i].item
            #expect(crossFitted[i, item] == crossFittedFlipped[i, item])
            #expect(abs(plain[i, item] - plainFlipped[i, item]) > 1e-4)
        }
        let withoutFold1 = try OpenBanditRewardModel(fitting: log.subset((0..<log.rounds).filter { $0 % 3 != 1 }), l2: l2)
        let fold1 = Array(stride(from: 1, to: log.rounds, by: 3))
        let expected = withoutFold1.estimates(for: log.subset(fold1))
        for (k, i) in fold1.enumerated() { for a in 0..<3 { #expect(crossFitted[i, a] == expected[k, a]) } }
    }

    /// A saved reward model loads with the same weights and gives the same estimates, also on a
    /// log that numbers the user-feature values differently (they are matched by value); a file
    /// of another kind is refused.
    @Test func savesLoadsAndMatchesFeaturesByValue() throws {
        let rows = ["0,2019-11-24 00:00:17,2,1,0,0.333,a,b,c,d,0.1,0.2,0.3", "1,2019-11-24 00:00:18,0,1,1,0.333,a,x,c,d,1,2,3",
                    "2,2019-11-24 00:00:19,1,2,1,0.333,e,b,c,d,0,0.5,0", "3,2019-11-24 00:00:20,2,3,0,0.333,e,x,c,d,0.3,0,1"]
        let root = OpenBanditLogTests.directory(rows)
        let reordered = OpenBanditLogTests.directory(Array(rows.reversed()))
        defer { for path in [root, reordered] { try? FileManager.default.removeItem(atPath: path) } }
        let log = try OpenBanditLog.load(directory: root, policy: "random", campaign: "all")
        let other = try OpenBanditLog.load(directory: reordered, policy: "random", campaign: "all")
        #expect(log.featureValues[0] == ["a", "e"] && other.featureValues[0] == ["e", "a"])
        let model = try OpenBanditRewardModel(fitting: log)
        let path = root + "/model.safetensors"
        try model.save(to: path, metadata: ["note": "kept"])
        let (loaded, metadata) = try OpenBanditRewardModel.load(from: path)
        #expect(loaded.weights == model.weights && metadata["note"] == "kept")
        #expect(loaded.estimates(for: log) == model.estimates(for: log))
        // Round k of `other` is round 3 − k of `log`.
        let original = model.estimates(for: log), remapped = loaded.estimates(for: other)
        for k in 0..<4 { for a in 0..<3 { #expect(remapped[k, a] == original[3 - k, a]) } }
        try SafeTensors.write([("weights", Tensor(shape: Shape(3), repeating: 0))], metadata: ["drlrec.model": "next-item"], to: path)
        #expect(throws: CheckpointError.self) { try OpenBanditRewardModel.load(from: path) }
    }
}

@Suite struct OpenBanditPolicyRuleTests {
    static let estimates = Tensor(shape: Shape(2, 3), scalars: [0.01, 0.03, 0.02, 0.5, 0.2, 0.2])

    /// ε-greedy puts 1 − ε on the best item and ε/items everywhere; the softmax over the log-odds
    /// orders items as the estimates do, sharpens as τ falls and flattens as it grows; both rows
    /// sum to 1.
    @Test func rulesMakeDistributionsThatFollowTheEstimates() {
        let greedy = OpenBanditPolicyRule.greedy(exploration: 0.3).probabilities(estimates: Self.estimates)
        #expect(abs(greedy[0, 1] - 0.8) < 1e-6 && abs(greedy[0, 0] - 0.1) < 1e-6 && abs(greedy[1, 0] - 0.8) < 1e-6)
        for temperature: Float in [0.1, 1, 100] {
            let soft = OpenBanditPolicyRule.softmax(temperature: temperature).probabilities(estimates: Self.estimates)
            for r in 0..<2 { #expect(abs(soft[r, 0] + soft[r, 1] + soft[r, 2] - 1) < 1e-5) }
            #expect(soft[0, 1] > soft[0, 2] && soft[0, 2] > soft[0, 0] && soft[1, 0] > soft[1, 1] && soft[1, 1] == soft[1, 2])
        }
        let sharp = OpenBanditPolicyRule.softmax(temperature: 0.05).probabilities(estimates: Self.estimates)
        let flat = OpenBanditPolicyRule.softmax(temperature: 100).probabilities(estimates: Self.estimates)
        #expect(sharp[0, 1] > 0.99 && abs(flat[0, 1] - 1.0 / 3) < 0.01)
        // At τ 1 the probabilities are proportional to the odds p/(1 − p).
        let plain = OpenBanditPolicyRule.softmax(temperature: 1).probabilities(estimates: Self.estimates)
        #expect(abs(plain[1, 0] / plain[1, 1] - (0.5 / 0.5) / (0.2 / 0.8)) < 1e-4)
    }

    /// A rule survives its metadata; files from before the softmax rule read as ε-greedy; bad
    /// metadata names its key.
    @Test func rulesRoundTripThroughMetadata() throws {
        for rule in [OpenBanditPolicyRule.greedy(exploration: 0.1), .softmax(temperature: 0.5)] {
            #expect(try OpenBanditPolicyRule.from(metadata: rule.metadata).get() == rule)
        }
        #expect(try OpenBanditPolicyRule.from(metadata: ["drlrec.obd.exploration": "0.2"]).get() == .greedy(exploration: 0.2))
        for (metadata, key) in [(["drlrec.obd.policy": "softmax", "drlrec.obd.temperature": "-1"], "drlrec.obd.temperature"),
                                (["drlrec.obd.policy": "boltzmann"], "drlrec.obd.policy"), ([:], "drlrec.obd.exploration")] {
            guard case .failure(let error) = OpenBanditPolicyRule.from(metadata: metadata) else {
                Issue.record("accepted \(metadata)")
                continue
            }
            #expect(error.key == key, "\(error)")
        }
    }
}
