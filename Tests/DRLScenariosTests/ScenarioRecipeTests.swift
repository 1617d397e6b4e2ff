import DRLData
import DRLEvaluation
import DRLScenarios
import DRLSimulation
import Foundation
import ScratchFiles
import Testing

@Suite struct ScenarioRecipeTests {
    /// A settings file that asks for the sequence observation is refused without a state encoder,
    /// naming the file; with one, the simulator keeps the file's history length.
    @Test func aSequenceObservationNeedsAStateEncoder() throws {
        let path = Scratch.path("settings.json")
        try Data(#"{"history_tokens": 6}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try ScenarioSimulators.slate(.ecommerce, configuration: path) } throws: {
            "\($0)" == "\(path): 'history_tokens' makes the observation a sequence of item ids, which only a state encoder reads (train with --state-encoder)"
        }
        let simulator = try ScenarioSimulators.slate(.ecommerce, configuration: path, historyTokens: 10)() as! EcommerceSimulator
        #expect(simulator.configuration.historyTokens == 6)
        let defaults = try ScenarioSimulators.slate(.ecommerce, configuration: nil, historyTokens: 10)() as! EcommerceSimulator
        #expect(defaults.configuration.historyTokens == 10)
    }

    @Test func aBadSettingsFileIsAConfigurationError() throws {
        let path = Scratch.path("settings.json")
        try Data(#"{"difficulty_levels": "hard"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try ScenarioSimulators.education(configuration: path) } throws: { error in
            guard case .configuration(let file)? = error as? ScenarioError else { return false }
            return file.path == path && file.key == "difficulty_levels"
        }
    }

    /// A policy against itself on the same users: every difference and every interval is zero.
    @Test func anAATestFindsNoDifference() throws {
        var test = ABTest(scenario: .education)
        test.control = "staircase"
        test.treatments = ["staircase"]
        test.users = 24
        test.resamples = 100
        var lines: [String] = []
        let result = try test.run { lines.append($0) }
        #expect(result.treatments == [result.control] && result.acrossSeeds == nil)
        #expect(result.users == 24)
        #expect(result.rows.count == 1 && result.rows[0].map(\.metric) == EducationReport.metricNames)
        for row in result.rows[0] {
            #expect(row.control == row.treatment)
            #expect(row.difference == 0 && row.ciLow == 0 && row.ciHigh == 0)
            #expect(!row.isSignificant)
        }
        #expect(lines.first == "simulating the control (\(result.control)) on 24 users...")
    }

    /// Two different tutors do differ, and the report's differences are treatment − control.
    @Test func anABTestComparesTheArmsOnTheSameUsers() throws {
        var test = ABTest(scenario: .education)
        test.control = "random"
        test.treatments = ["myopic"]
        test.users = 24
        test.resamples = 100
        let result = try test.run()
        #expect(result.rows[0].contains { $0.control != $0.treatment })
        for row in result.rows[0] {
            #expect(abs(row.difference - (row.treatment - row.control)) < 1e-5)
            #expect(row.ciLow <= row.difference && row.difference <= row.ciHigh)
        }
    }

    /// Tutors named with their settings are built as named; a malformed name says the form; an
    /// A/B test of a tuned tutor on learners of the tuning population is refused, and one of
    /// untuned tutors is not.
    @Test func tutorsNamedWithSettingsAndTheTuningPopulation() throws {
        let catalogue = PolicyCatalogue(scenario: .education)
        let simulator = EducationSimulator()
        #expect(try catalogue.taskPolicy("staircase:1:1:exercise", for: simulator).name == StaircasePolicy(.classic).name)
        #expect(try catalogue.taskPolicy("fixed:4:article", for: simulator).name == "fixed (level 4, article)")
        for bad in ["staircase:0:1:video", "staircase:1:5:video", "fixed:2", "fixed:2:quiz", "staircase:x:1:video", "fixed:-1:video"] {
            #expect { _ = try catalogue.taskPolicy(bad, for: simulator) } throws: { "\($0)".contains("'\(bad)' is not") }
        }
        var test = ABTest(scenario: .education)
        test.control = "random"
        test.treatments = ["myopic"]
        test.users = 24
        test.seed = TutorTuning.populationSeed - 10
        #expect(try test.run().users == 24)
        test.control = "staircase"
        #expect { _ = try test.run() } throws: { "\($0)".contains("include learners the baseline tutors are tuned on") }
    }

    /// Several treatments against one control on the same users: each has its own paired
    /// comparison, and the mean of their differences, its spread and an interval come across them.
    /// Two copies of one tutor differ by nothing across seeds; a tutor and a different one give a
    /// spread, and an interval around the mean that is at least as wide as each seed's own.
    @Test func severalTreatmentsAreComparedAcrossSeeds() throws {
        var test = ABTest(scenario: .education)
        test.control = "random"
        test.treatments = ["myopic", "myopic", "staircase"]
        test.users = 24
        test.resamples = 200
        let result = try test.run()
        #expect(result.treatments.count == 3 && result.rows.count == 3)
        let across = try #require(result.acrossSeeds)
        #expect(across.map(\.metric) == EducationReport.metricNames)
        for (m, row) in across.enumerated() {
            let perSeed = result.rows.map { $0[m].difference }
            #expect(zip(row.differences, perSeed).allSatisfy { abs($0 - $1) < 1e-5 })
            #expect(abs(row.meanDifference - perSeed.reduce(0, +) / 3) < 1e-5)
            #expect(row.ciLow <= row.meanDifference + 1e-6 && row.meanDifference - 1e-6 <= row.ciHigh)
            #expect(result.rows[0][m].difference == result.rows[1][m].difference)
        }
        #expect(across.contains { $0.seedSpread > 0 })
    }

    /// The protocol's report on a small synthetic log: one row per model in training order, and
    /// each RL agent's differences computed against the sequential ranker's row.
    @Test func theLeaveOneOutProtocolReportsEveryModel() throws {
        let log = SyntheticLog.generate(users: 40, items: 30, eventsPerUser: 12, seed: 5)
        var evaluation = LeaveOneOutEvaluation()
        evaluation.ranker.epochs = 1
        evaluation.agents = [.reinforce]
        let report = try evaluation.run(UserSequences(log), categories: [Int32](repeating: 0, count: log.itemCount))
        #expect(report.testUsers == 40)
        #expect(report.rows.map { String($0.model.prefix(while: { $0 != " " && $0 != "," })) } == ["popularity", "als", "sequential", "reinforce"])
        #expect(report.comparisons.map(\.agent) == [.reinforce])
        let sequential = report.rows[2].metrics, reinforce = report.rows[3].metrics
        let hr = report.comparisons[0].differences.first { $0.metric == "hr@10" }!
        #expect(abs(Double(hr.control) - sequential.hitRate) < 1e-6 && abs(Double(hr.treatment) - reinforce.hitRate) < 1e-6)
        for row in report.rows { #expect((0...1).contains(row.metrics.hitRate) && row.metrics.users == 40) }
    }

    /// λ of the novelty-rewarded agent is chosen on the validation items by every guarded metric:
    /// each λ's validation line names them all, and the row kept is the largest λ on par on all
    /// of them (else the smallest).
    @Test func theNoveltyWeightIsChosenByEveryGuardedMetric() throws {
        let log = SyntheticLog.generate(users: 40, items: 30, eventsPerUser: 12, seed: 5)
        var evaluation = LeaveOneOutEvaluation()
        evaluation.ranker.epochs = 2
        evaluation.agents = [.reinforceNovelty]
        evaluation.noveltyRewards = [3, 300]
        evaluation.noveltyGuards = ["hr@10", "ndcg@10"]
        var lines: [String] = []
        let report = try evaluation.run(UserSequences(log), categories: [Int32](repeating: 0, count: log.itemCount)) { lines.append($0) }
        let verdicts = lines.filter { $0.contains("on the validation items") }
        #expect(verdicts.count == 2 && verdicts.allSatisfy { $0.contains("HR@10 ") && $0.contains("NDCG@10 ") })
        let onPar = verdicts.map { $0.contains("(on par)") }
        let kept = onPar[1] ? "λ 300 ×" : "λ 3 ×"
        #expect(report.rows[3].model.contains(kept), "\(report.rows[3].model) after \(verdicts)")
    }

    /// RL agents on top of the ranker: each trains the fine-tuning's epochs from the ranker's
    /// weights (its row says so), and the progress counts the epochs `epochsAtMost` promised.
    @Test func agentsCanTrainOnTopOfTheRanker() throws {
        let log = SyntheticLog.generate(users: 40, items: 30, eventsPerUser: 12, seed: 5)
        var evaluation = LeaveOneOutEvaluation()
        evaluation.ranker.epochs = 3
        evaluation.agents = [.reinforce, .reinforceNovelty]
        evaluation.noveltyRewards = [3]
        evaluation.fineTuning = .init(epochs: 2, learningRate: 1e-4)
        var counted = 0, agentEpochs: [String: Int] = [:]
        let report = try evaluation.run(UserSequences(log), categories: [Int32](repeating: 0, count: log.itemCount), progress: { line in
            if !line.hasPrefix("  sequential"), let range = line.range(of: " epoch ") { agentEpochs[String(line[..<range.lowerBound]), default: 0] += 1 }
        }, epochs: { counted += $0 })
        #expect(counted == evaluation.epochsAtMost() && counted == 3 + 2 * 2)
        #expect(agentEpochs.count == 2 && agentEpochs.values.allSatisfy { $0 == 2 }, "\(agentEpochs)")
        #expect(report.rows[3...].allSatisfy { $0.model.contains("on top of the ranker") }, "\(report.rows.map(\.model))")
        #expect(!report.rows[2].model.contains("on top of"))
    }

    /// The KL anchor holds an agent on top of the ranker to the ranker's recommendations: pushed
    /// hard towards novel items, the anchored agent's top 10 share more with the ranker's than the
    /// free agent's do, and the free agent's differ from the ranker's (so the push is real).
    @Test func anAnchorHoldsTheAgentToTheRanker() throws {
        let log = SyntheticLog.generate(users: 40, items: 30, eventsPerUser: 12, seed: 5)
        var evaluation = LeaveOneOutEvaluation()
        evaluation.ranker.epochs = 3
        evaluation.agents = [.reinforceNovelty]
        evaluation.noveltyRewards = [300]
        func sharedWithTheRanker(anchor: Float?) throws -> Double {
            evaluation.fineTuning = .init(epochs: 3, anchor: anchor)
            let report = try evaluation.run(UserSequences(log), categories: [Int32](repeating: 0, count: log.itemCount))
            let ranker = report.sequential.userTopItems, agent = try #require(report.agentMetrics[.reinforceNovelty]).userTopItems
            let k = report.sequential.k, users = ranker.count / k
            #expect(users > 0 && agent.count == ranker.count)
            var shared = 0
            for u in 0..<users { shared += Set(ranker[(u * k)..<((u + 1) * k)]).intersection(agent[(u * k)..<((u + 1) * k)]).count }
            return Double(shared) / Double(ranker.count)
        }
        let free = try sharedWithTheRanker(anchor: nil), anchored = try sharedWithTheRanker(anchor: 100)
        #expect(free < 0.95, "the novelty reward did not move the free agent (\(free) of its top items are the ranker's)")
        #expect(anchored > free + 0.02, "anchored \(anchored), free \(free) of the top items shared with the ranker")
    }

    /// Over several seeds: one report per seed, each trained with its seed, and each RL agent's
    /// difference from the sequential ranker of the same seed, averaged over the seeds.
    @Test func theLeaveOneOutProtocolComparesAcrossSeeds() throws {
        let log = SyntheticLog.generate(users: 40, items: 30, eventsPerUser: 12, seed: 5)
        var evaluation = LeaveOneOutEvaluation()
        evaluation.ranker.epochs = 1
        evaluation.agents = [.reinforce]
        let result = try evaluation.run(UserSequences(log), categories: [Int32](repeating: 0, count: log.itemCount), seeds: [3, 4])
        #expect(result.reports.count == 2 && result.comparisons.map(\.agent) == [.reinforce])
        #expect(result.reports[0].sequential.userGains != result.reports[1].sequential.userGains, "the seeds trained the same ranker")
        let hr = try #require(result.comparisons[0].differences.first { $0.metric == "hr" })
        let perSeed = result.reports.map { Float($0.agentMetrics[.reinforce]!.hitRate - $0.sequential.hitRate) }
        #expect(zip(hr.differences, perSeed).allSatisfy { abs($0 - $1) < 1e-5 }, "\(hr.differences) against \(perSeed)")
        #expect(abs(hr.meanDifference - (perSeed[0] + perSeed[1]) / 2) < 1e-5 && hr.ciLow <= hr.ciHigh)
    }
}
