import DRLData
import DRLNN
import DRLReport
import DRLEvaluation
import DRLScenarios
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation
import Testing

/// The closed loop on the e-commerce simulator with the ranker `drlrec train` wrote for the
/// serving tests (in their suite, which runs one test at a time and trains it once): traffic
/// through the service, the frozen control, the off-policy gate, release, and the decision the
/// night after, each in the reports and the registry's audit trail.
extension ServedPoliciesTests {
    func loop(days: Int, users: Int, margin: Double, directory: String, learn: Bool = false, discountTimeUnit: Double? = nil,
              actionNoise: Float = 0) throws -> ClosedLoop {
        // Learning hot-starts from production's training state; serving needs its policy alone.
        let checkpoint = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"] + (learn ? ["--save-state"] : []))
        var configuration = ClosedLoop.Configuration(scenario: .ecommerce, directory: Fixtures.scratchDirectory(directory) + "/run",
                                                     production: checkpoint, reward: .ecommerce)
        if learn {
            var learning = SlateRankerFineTuning(reward: .ecommerce)
            learning.gradientSteps = 20
            learning.discountTimeUnit = discountTimeUnit
            configuration.learning = learning
        } else {
            configuration.candidates = [checkpoint]  // the same policy again: as good as production, no better
        }
        configuration.days = days
        configuration.usersPerDay = users
        configuration.controlShare = 0.2
        configuration.candidateShare = 0.5
        configuration.gateMargin = margin
        configuration.exploration = SlateExploration(epsilon: 0.1, shuffle: 0.3, actionNoise: actionNoise)
        return ClosedLoop(configuration)
    }

    /// Without a margin, a candidate that is production again is refused: its lower bound is below
    /// its own estimate, which is production's. The refusal and its numbers are in the report and
    /// in the audit trail, and no rollout starts.
    @Test func aCandidateNoBetterThanProductionIsRefusedWithoutAMargin() async throws {
        let loop = try loop(days: 2, users: 12, margin: 0, directory: "loop-refused")
        let reports = try await loop.run()
        #expect(reports.count == 2)
        #expect(reports[0].events.count == 1 && reports[0].events[0].hasPrefix("refused v2") && reports[0].events[0].contains("below production's estimate"),
                "\(reports[0].events)")
        #expect(reports[1].arms.allSatisfy { $0.arm != "candidate" } && reports[1].candidate == nil)
        let state = try ModelRegistry(directory: loop.configuration.directory + "/registry").state()
        #expect(state.rollout == nil && state.production == "v1")
        #expect(state.events.contains { $0.action == "refuse-rollout" && $0.version == "v2" && ($0.note ?? "").contains("off-policy dr") })
    }

    /// With a margin wide enough, the candidate is released: the next day it serves its share of
    /// users (beside production and the frozen control), its off-policy estimate is reported
    /// beside the reward per list it realised, and the night after it is promoted or rolled back,
    /// as the audit trail records.
    @Test func aReleasedCandidateServesItsShareAndIsDecidedTheNightAfter() async throws {
        let loop = try loop(days: 3, users: 12, margin: 2, directory: "loop-released")
        let reports = try await loop.run()
        #expect(reports.count == 3)
        #expect(reports[0].events.first?.hasPrefix("released v2") == true, "\(reports[0].events)")
        let day2 = reports[1]
        #expect(day2.candidate == "v2" && day2.estimate != nil && day2.realised != nil)
        #expect(Set(day2.arms.map(\.arm)) == ["frozen", "production", "candidate"], "\(day2.arms.map(\.arm))")
        #expect(day2.arms.allSatisfy { $0.users > 0 && $0.low <= $0.meanReturn && $0.meanReturn <= $0.high })
        #expect(day2.arms.reduce(0) { $0 + $1.users } == 12)
        // The learning system against the frozen version from day 2 on: every non-frozen user of
        // days 2 and 3 against the frozen ones, the Welch interval computed here from the returns.
        let late = reports.filter { $0.day >= 2 }.flatMap(\.arms)
        let learning = late.filter { $0.arm != "frozen" }.flatMap(\.returns), frozen = late.filter { $0.arm == "frozen" }.flatMap(\.returns)
        if learning.count > 1, frozen.count > 1 {
            let comparison = try #require(ClosedLoop.learningAgainstFrozen(reports, from: 2))
            func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
            func variance(_ x: [Double]) -> Double { x.map { ($0 - mean(x)) * ($0 - mean(x)) }.reduce(0, +) / Double(x.count - 1) }
            let half = 1.96 * (variance(learning) / Double(learning.count) + variance(frozen) / Double(frozen.count)).squareRoot()
            #expect(comparison.learningUsers == learning.count && comparison.frozenUsers == frozen.count)
            #expect(abs(comparison.difference - (mean(learning) - mean(frozen))) < 1e-9 && abs(comparison.high - comparison.low - 2 * half) < 1e-9)
        } else {
            #expect(ClosedLoop.learningAgainstFrozen(reports, from: 2) == nil)
        }
        let decision = try #require(day2.events.first { $0.hasPrefix("promoted v2") || $0.hasPrefix("rolled back v2") })
        let state = try ModelRegistry(directory: loop.configuration.directory + "/registry").state()
        #expect(state.events.contains { $0.action == "rollout" && $0.version == "v2" && ($0.note ?? "").contains("off-policy dr") })
        #expect(decision.hasPrefix("promoted") ? state.production == "v2" : (state.production == "v1" && state.rollout == nil))
        // The served lists and the feedback naming them are in the logs, in the logged-interactions format.
        let impressions = try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-impressions.csv")
        let feedback = try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-feedback.csv")
        let log = try ServedSlateLog(impressions: impressions, named: "impressions", feedback: feedback, named: "feedback") { _, _ in 1 }
        #expect(log.slates.count > 12 && log.slates.contains { $0.rewards.contains { $0 > 0 } })
    }

    /// With twin control, every user is served by the learning system and each control user
    /// also, as the same simulated user, by the frozen version. Without exploration both systems
    /// serve the same policy (production, and a candidate that is production again), so each
    /// twin's two returns (and measures) are equal to the last bit, and the paired difference is
    /// exactly 0; the learning system's arms hold every user.
    @Test func twinsOfTheControlUsersAreTheSameUsers() async throws {
        var configuration = try loop(days: 3, users: 16, margin: 2, directory: "loop-twins").configuration
        configuration.twinControl = true
        configuration.controlShare = 0.3
        configuration.exploration = .greedy
        let reports = try await ClosedLoop(configuration).run()
        let twins = reports.flatMap(\.twins)
        #expect(twins.count == reports.flatMap(\.arms).filter { $0.arm == "frozen" }.reduce(0) { $0 + $1.users } && twins.count >= 4, "\(twins.count) twins")
        #expect(twins.allSatisfy { $0.learning == $0.frozen } && Set(twins.map(\.learning)).count > twins.count / 2, "\(twins)")
        #expect(reports.allSatisfy { day in day.arms.filter { $0.arm != "frozen" }.reduce(0) { $0 + $1.users } == 16 })
        #expect(reports.contains { $0.arms.contains { $0.arm == "candidate" } }, "the candidate was never released: \(reports.flatMap(\.events))")
        let comparison = try #require(ClosedLoop.learningAgainstFrozen(reports, from: 1))
        #expect(comparison.paired && comparison.learningUsers == twins.count && comparison.difference == 0 && comparison.low == 0 && comparison.high == 0)
        // The platform's measures per user, compared the same way, are equal too.
        #expect(comparison.measures.map(\.name) == ["purchases", "sessions", "sessions_with_purchase"], "\(comparison.measures.map(\.name))")
        #expect(comparison.measures.allSatisfy { $0.difference == 0 && $0.low == 0 && $0.high == 0 && $0.learning == $0.frozen && $0.learning > 0 })
    }

    /// A run's events without what differs between equal runs: its directory and the seconds a
    /// candidate's learning took.
    static func untimed(_ events: [String], _ directory: String) -> [String] {
        events.map { $0.replacingOccurrences(of: directory, with: "DIR").replacingOccurrences(of: #"in [0-9.]+ s"#, with: "in _ s", options: .regularExpression) }
    }

    /// With twin control the control share sets only how many users also get a frozen twin: the
    /// learning system serves every user either way, so a larger share leaves its candidates, its
    /// verdicts, its users' returns and its logs as they were (the same events; the logs the same
    /// but for their timestamps, since the simulation's clock ticks for the twins' requests too,
    /// which only a learner discounting by time gaps would see), and pairs the comparison with
    /// the frozen version over more twins: a free, more precise measurement (docs/RESULTS.md).
    @Test func withTwinsTheControlShareMovesOnlyTheComparison() async throws {
        var runs: [(reports: [ClosedLoop.DayReport], directory: String)] = []
        for share in [0.2, 0.9] {
            var configuration = try loop(days: 3, users: 12, margin: 2, directory: "loop-twin-share-\(share)", learn: true, actionNoise: 0.2).configuration
            configuration.twinControl = true
            configuration.controlShare = share
            runs.append((try await ClosedLoop(configuration).run(), configuration.directory))
        }
        let (few, many) = (runs[0], runs[1])
        #expect(few.reports.flatMap(\.events).contains { $0.hasPrefix("released v2") }, "\(few.reports.flatMap(\.events))")
        for (a, b) in zip(few.reports, many.reports) {
            #expect(Self.untimed(a.events, few.directory) == Self.untimed(b.events, many.directory), "\(a.events) against \(b.events)")
            let learning = { (day: ClosedLoop.DayReport) in day.arms.filter { $0.arm != "frozen" }.map(\.returns) }
            #expect(learning(a) == learning(b))
            #expect(a.twins.count < b.twins.count)
        }
        /// A log's lines without their third field, the timestamp.
        func withoutTimestamps(_ log: String, in directory: String) throws -> [String] {
            try String(contentsOfFile: directory + "/" + log, encoding: .utf8).split(separator: "\n").map { line in
                var fields = line.split(separator: ",", omittingEmptySubsequences: false)
                fields.remove(at: 2)
                return fields.joined(separator: ",")
            }
        }
        for log in ["registry-impressions.csv", "registry-feedback.csv"] {
            let (a, b) = (try withoutTimestamps(log, in: few.directory), try withoutTimestamps(log, in: many.directory))
            #expect(a == b, "\(log) differs")
            #expect(a.count > 100 && a[0].hasPrefix("user,item,event,"), "\(a.prefix(1))")
        }
        let frozen = { (run: (reports: [ClosedLoop.DayReport], directory: String)) in run.reports.flatMap(\.twins).count }
        #expect(frozen(many) > 2 * frozen(few) && frozen(many) <= 36, "\(frozen(few)) and \(frozen(many)) twins")
    }

    /// Learning starts each candidate from production's critics and optimisers: a production
    /// checkpoint that holds only the policy (`drlrec train` without --save-state) is refused
    /// before the first day, saying what to write instead; nothing is created.
    @Test func learningFromAPolicyOnlyProductionIsRefusedBeforeTheFirstDay() async throws {
        let loop = try loop(days: 2, users: 12, margin: 2, directory: "loop-policy-only", learn: true)
        var configuration = loop.configuration
        configuration.production = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"])
        await #expect {
            _ = try await ClosedLoop(configuration).run()
        } throws: { error in
            "\(error)".contains("holds only its policy") && "\(error)".contains("--save-state")
        }
        #expect(!FileManager.default.fileExists(atPath: configuration.directory))
    }

    /// With learning on, the night's candidate is production fine-tuned on the day's served
    /// lists (every one of them: production served them all), registered as production's child:
    /// a ranker the service loads, whose actor and critics moved from production's. The service
    /// explores in the ranker's action too, and each transition's action is the one that built its
    /// list: production's weights under the noise drawn from the list's id.
    @Test func aCandidateIsLearntFromTheServedLists() async throws {
        let unit = 600.0, noise: Float = 0.2
        let loop = try loop(days: 2, users: 12, margin: 2, directory: "loop-learnt", learn: true, discountTimeUnit: unit, actionNoise: noise)
        let reports = try await loop.run()
        let firstDay = try ServedSlateLog(impressions: try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-impressions.csv"),
                                          named: "impressions", feedback: try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-feedback.csv"),
                                          named: "feedback") { kind, value in Double(RewardMapping.ecommerce.reward(for: Feedback(kind, value: value))) }
            .slates.filter { $0.user.hasPrefix("d1-") }
        #expect(firstDay.allSatisfy { $0.version == "v1" })
        #expect(reports[0].events.first?.hasPrefix("learnt a candidate from \(firstDay.count) served lists of \(Set(firstDay.map(\.user)).count) users") == true,
                "\(reports[0].events)")
        #expect(reports[0].events.contains { $0.hasPrefix("released v2") })
        let registry = try ModelRegistry(directory: loop.configuration.directory + "/registry")
        #expect(try registry.version("v2").parent == "v1" && registry.version("v2").kind == ServableSlateRanker.checkpointKind)
        let learnt = try SafeTensors.read(from: try registry.checkpointPath(of: "v2")).tensors
        let production = try SafeTensors.read(from: try registry.checkpointPath(of: "v1")).tensors
        for name in ["actor.mean.weight", "critic.q1.0.weight"] {
            let before = try #require(production.first { $0.name == name }?.tensor), after = try #require(learnt.first { $0.name == name }?.tensor)
            #expect(before.shape == after.shape && before.scalars != after.scalars, "\(name) did not move")
        }
        _ = try ServableSlateRanker.load(checkpoint: try registry.checkpointPath(of: "v2"))
        // What it learnt from, kept in its replay: one transition per list, one episode end per
        // user, the lists' rewards, and each other transition leading to the next one's state.
        let (tensors, metadata) = try SafeTensors.read(from: try registry.checkpointPath(of: "v2"))
        func replay(_ name: String) throws -> Tensor { try #require(tensors.first { $0.name == "replay.\(name)" }?.tensor) }
        let count = try #require(metadata["drlrec.replay.count"].flatMap { Int($0) })
        #expect(count == firstDay.count)
        let dones = try replay("dones"), rewards = try replay("rewards")
        let observations = try replay("observations"), next = try replay("next_observations")
        #expect((0..<count).filter { dones[flat: $0] == 1 }.count == Set(firstDay.map(\.user)).count)
        let logged = firstDay.map { $0.rewards.reduce(0, +) }.reduce(0, +), stored = (0..<count).reduce(0.0) { $0 + Double(rewards[flat: $1]) }
        #expect(abs(stored - logged) < 1e-3 * max(1, logged), "stored rewards \(stored), logged \(logged)")
        let width = observations.shape[1]
        for t in 0..<(count - 1) where dones[flat: t] == 0 {
            #expect((0..<width).allSatisfy { next[t, $0] == observations[t + 1, $0] }, "transition \(t) does not lead to the next list's state")
        }
        // Each transition is discounted by the time to the user's next list: γ^(Δt / unit), users
        // in id order and their lists in time order, as they were stored.
        let discounts = try replay("discounts"), gamma = Double(SlateRanker.gamma(for: .ecommerce))
        let ordered = Dictionary(grouping: firstDay, by: \.user).sorted { $0.key < $1.key }
            .flatMap { $0.value.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element) }
        #expect(ordered.count == count)
        var spans = Set<Int64>()
        for t in 0..<(count - 1) where dones[flat: t] == 0 {
            let gap = ordered[t + 1].timestamp - ordered[t].timestamp
            spans.insert(gap)
            #expect(abs(Double(discounts[flat: t]) - pow(gamma, Double(gap) / unit)) < 1e-6, "transition \(t): gap \(gap) s, discount \(discounts[flat: t])")
        }
        #expect(spans.count > 1, "the lists' gaps \(spans) should differ for the test to say anything")
        // Each stored action is production's decision for the list under the list's noise.
        let feedback = try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-feedback.csv")
        let served = try ServedSlateLog(impressions: try LoggedInteractions.read(csv: loop.configuration.directory + "/registry-impressions.csv"),
                                        named: "impressions", feedback: feedback, named: "feedback") { _, _ in 0 }
        let v1 = try ServableSlateRanker.load(checkpoint: try registry.checkpointPath(of: "v1"))
        var taken: [String: (noisy: Tensor, greedy: Tensor)] = [:]
        ServedLogReplay.walk(served, feedback: feedback, itemIds: v1.itemIds, readsImpressions: true) { (s: Int, events: [UserEvent], _: UserHistories) in
            let list = served.slates[s]
            taken[list.id] = (v1.decision(history: events, context: list.context, actionNoise: ActionNoise(scale: noise, impression: list.id)).action,
                              v1.decision(history: events, context: list.context).action)
        }
        let actions = try replay("actions")
        var moved = 0
        for t in 0..<count {
            let (noisy, greedy) = try #require(taken[ordered[t].id])
            #expect((0..<noisy.count).allSatisfy { abs(actions[t, $0] - noisy[flat: $0]) < 1e-6 }, "transition \(t): not the served action")
            if (0..<noisy.count).contains(where: { abs(noisy[flat: $0] - greedy[flat: $0]) > 1e-3 }) { moved += 1 }
        }
        #expect(moved > count / 2, "the noise moved only \(moved) of \(count) actions")

        // The command-line estimate on the same logs, as an operator runs it before a release.
        let output = try Self.drlrec(["ope", "served", "--impressions", loop.configuration.directory + "/registry-impressions.csv",
                                      "--feedback", loop.configuration.directory + "/registry-feedback.csv",
                                      "--evaluation", try registry.checkpointPath(of: "v2"), "--production", try registry.checkpointPath(of: "v1"),
                                      "--explore", "0.1", "--shuffle", "0.3", "--resamples", "200", "--json",
                                      "--report", loop.configuration.directory + "/ope.html"])
        let lines = output.split(separator: "\n").map(String.init), estimators = SlateOffPolicyEstimator.allCases.count
        #expect(lines.filter { $0.contains("\"policy\": \"evaluation\"") }.count == estimators
                    && lines.filter { $0.contains("\"policy\": \"production\"") }.count == estimators, "\(output)")
        #expect(lines.last?.hasPrefix("{\"gate\": \"dr\", \"passes\": ") == true, "\(output)")
        // Its report: every estimator's estimate for both, each beside the logged reward per list, and the gate's verdict.
        let page = try String(contentsOfFile: loop.configuration.directory + "/ope.html", encoding: .utf8)
        #expect(HTMLReport.missingCharts(in: page, expected: ["estimates"]).isEmpty)
        #expect(page.components(separatedBy: "data-marker=").count - 1 == 2 * estimators && page.contains("The gate (dr): "))
    }

    /// The loop on the education platform, with the tutor `drlrec train --env education` wrote:
    /// each learner is served one task per request, the completions and masteries are posted as
    /// feedback naming the list that gave the task; the first night a tutor is learnt by V-trace
    /// from every task served that day (registered as production's child, its actor and critic
    /// moved), and the second night a broken tutor (its logits negated) is refused by the gate.
    @Test func theEducationLoopLearnsATutorAndRefusesABrokenOne() async throws {
        let checkpoint = try Self.trainedCheckpoint(["--env", "education", "--steps", "20000", "--save-state"])
        var configuration = ClosedLoop.Configuration(scenario: .education, directory: Fixtures.scratchDirectory("loop-education") + "/run",
                                                     production: checkpoint, reward: .education)
        var learning = TutorFineTuning()
        learning.settings.gradientSteps = 20
        learning.settings.criticWarmUpSteps = 20
        configuration.learning = learning
        configuration.days = 3
        configuration.usersPerDay = 30
        configuration.controlShare = 0.2
        configuration.candidateShare = 0.5
        configuration.gateMargin = 0.1
        configuration.badCandidateDay = 3
        configuration.exploration = SlateExploration(epsilon: 0.2)
        let reports = try await ClosedLoop(configuration).run()
        let directory = configuration.directory
        let feedback = try LoggedInteractions.read(csv: directory + "/registry-feedback.csv")
        let log = try ServedSlateLog(impressions: try LoggedInteractions.read(csv: directory + "/registry-impressions.csv"), named: "impressions",
                                     feedback: feedback, named: "feedback") { kind, value in Double(RewardMapping.education.reward(for: Feedback(kind, value: value))) }
        #expect(log.slates.allSatisfy { $0.items.count == 1 && $0.items[0].hasPrefix("level-") })
        #expect(Set(feedback.events) == [.completion, .mastery] || Set(feedback.events) == [.completion], "\(Set(feedback.events))")
        #expect(log.slates.contains { $0.rewards[0] >= 5 })
        let firstDay = log.slates.filter { $0.user.hasPrefix("d1-") }
        #expect(reports[0].events.first?.hasPrefix("learnt a candidate from \(firstDay.count) served lists of \(Set(firstDay.map(\.user)).count) users") == true,
                "\(reports[0].events)")
        let registry = try ModelRegistry(directory: directory + "/registry")
        #expect(try registry.version("v2").parent == "v1" && registry.version("v2").kind == ServableTutor.checkpointKind)
        let learnt = try SafeTensors.read(from: try registry.checkpointPath(of: "v2")).tensors
        let production = try SafeTensors.read(from: try registry.checkpointPath(of: "v1")).tensors
        for name in ["policy.head0.weight", "policy.head1.weight", "value.0.weight"] {
            let before = try #require(production.first { $0.name == name }?.tensor), after = try #require(learnt.first { $0.name == name }?.tensor)
            #expect(before.shape == after.shape && before.scalars != after.scalars, "\(name) did not move")
        }
        _ = try ServableTutor.load(checkpoint: try registry.checkpointPath(of: "v2"))
        #expect(reports[1].events.contains { $0.hasPrefix("refused v3 (\(directory)/broken-3.safetensors)") }, "\(reports[1].events)")
        #expect(try registry.state().events.contains { $0.action == "refuse-rollout" && $0.version == "v3" })
    }

    /// `drlrec loop` as a user runs it: progress over the users served as JSON events, the days'
    /// rows, a summary naming the production's hash, the OpenBLAS kernel and the vector kernels, and
    /// a report with the arms' returns day by day and each released candidate's estimate beside the
    /// value it realised.
    @Test func theLoopCommandReportsItsProgressAndWritesItsReport() throws {
        let checkpoint = try Self.trainedCheckpoint(["--env", "ecommerce", "--steps", "1100"])
        let directory = Fixtures.scratchDirectory("loop-command")
        let lines = try JSONOutputTests.json(["loop", "--env", "ecommerce", "--days", "3", "--users", "12", "--production", checkpoint,
                                              "--candidates", checkpoint, checkpoint, "--gate-margin", "2", "--control-share", "0.2",
                                              "--candidate-share", "0.5", "--directory", directory + "/run", "--report", directory + "/loop.html"])
        let progress = lines.filter { $0["event"] == .string("progress") }
        #expect(!progress.isEmpty && progress.allSatisfy { $0["task"] == .string("serving") && $0["unit"] == .string("users") && $0["total"] == .number(36) })
        #expect(progress.last?["done"] == .number(36))
        #expect(lines.filter { $0["arm"] != nil }.count >= 6 && lines.last?["summary"] == .string("ecommerce"))
        // What a rerun needs: the production's bytes, the OpenBLAS kernel and the vector kernels the run rounded with.
        #expect(lines.last?["production_sha256"] == .string(try SHA256.hex(ofFile: checkpoint).digest))
        #expect(lines.last?["openblas_kernel"] == .string(Engine.info.openBLASKernel))
        #expect(lines.last?["vector_isa"] == .string(Engine.info.vectorISA.name))
        let page = try String(contentsOfFile: directory + "/loop.html", encoding: .utf8)
        #expect(HTMLReport.missingCharts(in: page, expected: ["return-per-user", "estimates"]).isEmpty)
        #expect(page.contains("released v2") && page.contains("<th>realised</th>"))
    }
}

extension ServedPoliciesTests {
    /// The loop served over HTTP (the real server on loopback, `RecommendationClient`) is the loop
    /// served in process, to the number: the same lists (ids, items, propensities) and feedback
    /// in the logs, the same returns, estimates and events, with learning, exploration, shuffling
    /// and action noise on. Every request's context, time and list id goes through JSON and back.
    @Test func theLoopOverHTTPIsTheLoopInProcess() async throws {
        var runs: [(reports: [ClosedLoop.DayReport], directory: String)] = []
        for (name, services) in [("loop-in-process", InProcessLoopServices() as any LoopServiceHost), ("loop-over-http", LoopbackLoopServices())] {
            var configuration = try loop(days: 3, users: 12, margin: 2, directory: name, learn: true, actionNoise: 0.2).configuration
            configuration.services = services
            runs.append((try await ClosedLoop(configuration).run(), configuration.directory))
        }
        let (local, remote) = (runs[0], runs[1])
        #expect(local.reports.count == 3 && remote.reports.count == 3)
        #expect(local.reports.flatMap(\.events).contains { $0.hasPrefix("released v2") }, "\(local.reports.flatMap(\.events))")
        for (a, b) in zip(local.reports, remote.reports) {
            #expect(a.arms.map(\.returns) == b.arms.map(\.returns) && a.arms.map(\.listValue) == b.arms.map(\.listValue) && a.arms.map(\.version) == b.arms.map(\.version))
            #expect(a.estimate?.value == b.estimate?.value && a.estimate?.low == b.estimate?.low && a.realised == b.realised)
            #expect(Self.untimed(a.events, local.directory) == Self.untimed(b.events, remote.directory), "\(a.events) against \(b.events)")
        }
        for log in ["registry-impressions.csv", "registry-feedback.csv", "frozen-impressions.csv", "frozen-feedback.csv"] {
            let (a, b) = (try String(contentsOfFile: local.directory + "/" + log, encoding: .utf8), try String(contentsOfFile: remote.directory + "/" + log, encoding: .utf8))
            #expect(a == b, "\(log) differs")
            #expect(a.split(separator: "\n").count > 100)
        }
    }
}
