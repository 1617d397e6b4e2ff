import DRLData
import DRLEvaluation
import DRLNN
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// The platform's closed loop, day after day, on a simulated platform (a slate platform served by
/// a list-wise ranker, or the education platform served by a tutor): the simulator's users are the
/// traffic (`ServedTraffic`), served with exploration and an impression log through
/// `RecommendationService` in this process (the code path of `drlrec serve`) or through servers
/// the loop reaches over HTTP (`Configuration.services`); a frozen copy of the first production
/// version serves a control share of users throughout (or, with `twinControl`, twins of them: the
/// same simulated users served by both systems). Each night the next candidate is registered, judged by the
/// off-policy gate on the day's served lists, and when it passes released to a share of users the
/// next day under the guardrail; the night after, it is promoted when its users' mean return is not
/// below production's (or, with a `Promotion` confidence above 0.5, above it beyond doubt), and
/// rolled back otherwise. The candidates are checkpoints given in advance
/// (one per night), or learnt from the served logs; a deliberately broken one (production's policy
/// inverted, `BrokenCandidate`) can be injected on a chosen day.
public final class ClosedLoop {
    /// The run: the platform, the first production version, where candidates come from, the
    /// traffic and its shares, the exploration, the gate and the guardrail.
    public struct Configuration: Sendable {
        public var scenario: Scenario
        /// Where the registries and logs go (created; must not hold a previous run).
        public var directory: String
        /// The first production version's checkpoint.
        public var production: String
        /// The candidates, one per night in order (after them, or without them, the learnt ones).
        public var candidates: [String] = []
        /// When set, each night without a given candidate learns one from the served logs:
        /// production fine-tuned on the lists of the last `learningWindow` days
        /// (`SlateRankerFineTuning` for a ranker, `TutorFineTuning` for a tutor).
        public var learning: (any ServedLogLearning)?
        public var learningWindow = 3
        public var days = 14
        public var usersPerDay = 300
        /// The share of users the frozen first version serves. With `twinControl`, the share that
        /// also get a frozen twin: the learning system serves every user either way, so a larger
        /// share moves nothing it does and pairs the comparison over more twins.
        public var controlShare = 0.1
        /// Whether the frozen version serves twins rather than its own share: each control user is
        /// served by the learning system like every other user, and again, as the same simulated
        /// user (the same seed), by the frozen version, so that the learning system's difference
        /// from it is paired over the same users, as `drlrec abtest` pairs its arms. A platform
        /// cannot do this; a simulator can, and the users' own variation, most of a return's,
        /// then cancels. Without it, the control users are served by the frozen version only.
        public var twinControl = false
        /// A released candidate's share of the other users.
        public var candidateShare = 0.3
        public var exploration = SlateExploration(epsilon: 0.1, shuffle: 0.3)
        public var reward: RewardMapping
        public var gateEstimator = SlateOffPolicyEstimator.doublyRobust
        /// See `OffPolicyGate.margin`.
        public var gateMargin = 0.0
        /// See `OffPolicyGate.rewardModel`.
        public var gateRewardModel = SlateRewardModel.Key.item
        /// See `OffPolicyGate.switchThreshold`.
        public var gateSwitchThreshold = SlateOffPolicyEstimator.defaultSwitchThreshold
        public var guardrail = Guardrail()
        /// The night after a candidate's day: promoted or rolled back on its users' returns against production's.
        public var promotion = Promotion()
        /// With a holdback, each night production is rolled back to the version before it when the
        /// users it has served since its promotion return less than the frozen version's beyond
        /// doubt (`Holdback`); nil: a promoted version is never compared with the frozen one.
        public var holdback: Holdback?
        /// Where the services run: in this process, or as servers reached over HTTP.
        public var services: any LoopServiceHost = InProcessLoopServices()
        /// The day whose candidate is replaced by a broken one.
        public var badCandidateDay: Int?
        public var seed: UInt64 = 0

        public init(scenario: Scenario, directory: String, production: String, reward: RewardMapping) {
            (self.scenario, self.directory, self.production, self.reward) = (scenario, directory, production, reward)
        }
    }

    /// One arm's users of one day: their returns, the mean with a 95% normal interval, their mean
    /// reward per list, and the scenario's measures summed.
    public struct ArmDay: Sendable {
        public var arm: String
        public var version: String
        public var users: Int
        public var returns: [Double]
        public var meanReturn: Double, low: Double, high: Double
        public var listValue: Double
        public var measures: [String: Double]
    }

    /// One day of the loop: each arm's users, the candidate it served with its estimate and
    /// realised value, and what happened that day and the night after.
    public struct DayReport: Sendable {
        public var day: Int
        public var arms: [ArmDay]
        /// The candidate served this day, its off-policy estimate last night and the value it
        /// realised: the mean reward of its lists, with an interval over its users (a sample of
        /// about a hundred users' lists, not the candidate's exact value).
        public var candidate: String?
        public var estimate: OffPolicyGate.Estimate?
        public var realised: OffPolicyGate.Estimate?
        /// What happened during the day and the night after it: releases, refusals, rollbacks, promotions.
        public var events: [String]
        /// With twin control, each control user's return from the learning system and from the frozen version.
        public var twins: [Twin] = []
    }

    /// One simulated user served by both systems: the returns, and the scenario's measures
    /// (`ServedUserOutcome.measures`) from each.
    public struct Twin: Sendable {
        public var learning: Double, frozen: Double
        public var learningMeasures: [String: Double] = [:], frozenMeasures: [String: Double] = [:]
        /// The version that served every list of the learning system's twin (nil if several did).
        public var learningVersion: String?
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Runs the loop. `progress` gets a line per day and stage; `usersServed`, after each user,
    /// the users served so far in the run (of `days` × `usersPerDay`).
    public func run(progress: @escaping ProgressReport = { _ in }, usersServed: (Int) -> Void = { _ in }) async throws -> [DayReport] {
        let c = configuration
        let fm = FileManager.default
        if fm.fileExists(atPath: c.directory + "/registry") {
            throw ClosedLoopError("'\(c.directory)' holds a previous loop run; give an empty or new directory")
        }
        if c.learning != nil, try ScenarioCheckpoint(path: c.production).contents == .policy {
            throw ClosedLoopError("learning hot-starts each candidate from production's whole training state (critics, optimizers), "
                                  + "and '\(c.production)' holds only its policy: write it with the training state (drlrec train --save-state)")
        }
        try fm.createDirectory(atPath: c.directory, withIntermediateDirectories: true)
        // Every request and feedback carries the simulation's time (the services' clocks are unused).
        let clock = TickClock()
        let serving = servingConfiguration
        func service(_ name: String) async throws -> any LoopService {
            let registry = try ModelRegistry(directory: "\(c.directory)/\(name)")
            try registry.register(checkpoint: c.production, scenario: c.scenario.rawValue, dataHash: "")
            try registry.promote("v1", note: "the loop's first production version")
            var configuration = serving
            configuration.impressionLogPath = "\(c.directory)/\(name)-impressions.csv"
            return try await c.services.start(name: name, registry: registry.directory, feedbackPath: "\(c.directory)/\(name)-feedback.csv",
                                              configuration: configuration)
        }
        progress("loading the first production version \(c.production)...")
        let main = try await service("registry")
        let frozen: any LoopService
        do { frozen = try await service("frozen") } catch { await main.shutDown(); throw error }
        do {
            let reports = try await run(main: main, frozen: frozen, clock: clock, progress: progress, usersServed: usersServed)
            await main.shutDown(); await frozen.shutDown()
            return reports
        } catch {
            await main.shutDown(); await frozen.shutDown()
            throw error
        }
    }

    /// What the services are configured with: every DRLRec model kind, the loop's exploration
    /// (seeded) and guardrail, and no fallback for slowness (the loop measures the policies).
    public var servingConfiguration: RecommendationService.Configuration {
        var serving = RecommendationService.Configuration()
        serving.modelKinds = .drlrec
        serving.latencyBudget = .seconds(10)
        serving.exploration = configuration.exploration
        serving.explorationSeed = configuration.seed
        serving.guardrail = configuration.guardrail
        return serving
    }

    private func run(main: any LoopService, frozen: any LoopService, clock: TickClock, progress: @escaping ProgressReport,
                     usersServed: (Int) -> Void) async throws -> [DayReport] {
        let c = configuration
        let registry = try ModelRegistry(directory: "\(c.directory)/registry", create: false)
        let mainLogs = (impressions: "\(c.directory)/registry-impressions.csv", feedback: "\(c.directory)/registry-feedback.csv")
        let traffic: any ServedTraffic
        if c.scenario == .education {
            // The course the tutor was trained for: its observation has a slot per skill.
            let recorded = try ScenarioCheckpoint(path: c.production).settings
            let settings = try ScenarioSimulators.education(settings: recorded.map { .text($0, origin: "\(c.production) (its simulator settings)") })
            traffic = ServedTutorTraffic(simulator: EducationSimulator(configuration: settings), clock: clock)
        } else {
            traffic = ServedSlateTraffic(simulator: try ScenarioSimulators.slate(c.scenario, configuration: nil)() as! any ObservableSlatePlatform, clock: clock)
        }
        var reports: [DayReport] = []
        var nextCandidate = 0
        var released: (version: String, estimate: OffPolicyGate.Estimate)?
        // The night each version was promoted (or made production again by the holdback); the
        // first version is the holdback's own.
        var promotedOn: [String: Int] = [:]
        var assign = RandomGenerator(seed: c.seed, stream: 0x100F)
        var dayStarts: [Int64] = []
        for day in 1...c.days {
            let start = ContinuousClock.now
            let dayStart = clock.tick()
            dayStarts.append(dayStart)
            var outcomes: [(arm: String, ServedUserOutcome)] = []
            var events: [String] = []
            var twins: [Twin] = []
            for u in 0..<c.usersPerDay {
                let id = "d\(day)-u\(u)", seed = c.seed &* 1_000_003 &+ UInt64(day) &* 10_007 &+ UInt64(u)
                var twin: ServedUserOutcome?
                let control = Double(assign.uniform()) < c.controlShare
                if control {
                    let outcome = try await traffic.serve(user: id, seed: seed, through: frozen, reward: c.reward)
                    outcomes.append(("frozen", outcome))
                    twin = outcome
                }
                if !control || c.twinControl {
                    let outcome = try await traffic.serve(user: id, seed: seed, through: main, reward: c.reward)
                    outcomes.append((outcome.arm == .candidate ? "candidate" : "production", outcome))
                    if let twin {
                        twins.append(Twin(learning: outcome.simulatedReturn, frozen: twin.simulatedReturn,
                                          learningMeasures: outcome.measures, frozenMeasures: twin.measures,
                                          learningVersion: Set(outcome.versions).count == 1 ? outcome.versions.first : nil))
                    }
                    if let reason = try await main.checkGuardrail() { events.append("rolled back \(released?.version ?? "?") during the day: \(reason)") }
                }
                usersServed((day - 1) * c.usersPerDay + u + 1)
            }
            events += main.takeEvents() + frozen.takeEvents().map { "frozen: " + $0 }
            let state = try registry.state()
            var arms: [ArmDay] = []
            for arm in ["frozen", "production", "candidate"] {
                let users = outcomes.filter { $0.arm == arm }.map(\.1)
                guard !users.isEmpty else { continue }
                let version = arm == "frozen" ? "v1" : arm == "candidate" ? (released?.version ?? "-") : (state.production ?? "-")
                arms.append(Self.summary(arm, version: version, users))
            }
            var report = DayReport(day: day, arms: arms, candidate: released?.version, estimate: released?.estimate, realised: nil, events: events,
                                   twins: twins)
            if let released {
                // The on-policy estimate: every weight 1, resampled by user.
                var rewards: [[Double]] = [], users: [Int] = []
                for (user, outcome) in outcomes.enumerated() {
                    for (version, reward) in zip(outcome.1.versions, outcome.1.listRewards) where version == released.version {
                        rewards.append([reward])
                        users.append(user)
                    }
                }
                if !rewards.isEmpty {
                    let data = SlateOffPolicyData(weights: rewards.map { _ in [1] }, rewards: rewards, clusters: users)
                    let (value, low, high) = SlateOffPolicyEstimator.independentIPS.estimateWithInterval(data)
                    report.realised = .init(value: value, low: low, high: high)
                }
            }
            if let released, state.rollout?.candidate != released.version, !report.events.contains(where: { $0.hasPrefix("rolled back") }) {
                report.events.append("rolled back \(released.version) during the day by the server's guardrail (the registry's audit trail says why)")
            }
            progress(String(format: "day %d: %d users in %.1f s", day, c.usersPerDay, secondsSince(start)))
            let logs = try servedLogs(mainLogs)
            try Self.checkLogged(outcomes.filter { $0.arm != "frozen" }.map(\.1), since: dayStart, in: logs)
            guard day < c.days else { reports.append(report); break }

            // The night: decide on the running candidate, then judge and release the next one.
            if let current = released, state.rollout?.candidate == current.version {
                let returns = { (arm: String) in arms.first { $0.arm == arm }?.returns ?? [] }
                let (promote, note) = c.promotion.verdict(candidate: returns("candidate"), production: returns("production"))
                if promote {
                    try registry.promote(current.version, note: note)
                    promotedOn[current.version] = day
                    report.events.append("promoted \(current.version): \(note)")
                } else {
                    try registry.stopRollout(reason: note)
                    report.events.append("rolled back \(current.version): \(note)")
                }
            }
            if let holdback = c.holdback, let production = try registry.state().production, let since = promotedOn[production],
               case .rollBack(let reason) = holdbackVerdict(holdback, production: production, days: reports.filter { $0.day > since } + [report]) {
                let previous = try registry.rollback(note: reason)
                // Judged again from now on its own users; the first version is the holdback's policy.
                if previous != "v1" { promotedOn[previous] = day }
                report.events.append("rolled back production \(production) to \(previous): \(reason)")
            }
            released = nil
            let checkpoint: String?
            if c.badCandidateDay == day + 1 {
                checkpoint = "\(c.directory)/broken-\(day + 1).safetensors"
                try BrokenCandidate.write(from: try registry.checkpointPath(of: registry.state().production!), to: checkpoint!)
            } else if nextCandidate < c.candidates.count {
                checkpoint = c.candidates[nextCandidate]
                nextCandidate += 1
            } else if let learning = c.learning {
                checkpoint = "\(c.directory)/learnt-\(day + 1).safetensors"
                let since = dayStarts[max(0, dayStarts.count - c.learningWindow)]
                let learnt = try learn(learning, registry, log: logs.log.filter { $0.timestamp > since }, feedback: logs.feedback,
                                       to: checkpoint!)
                report.events.append(String(format: "learnt a candidate from %d served lists of %d users (mean reward per list %.3f) in %.1f s",
                                            learnt.summary.transitions, learnt.summary.users, learnt.summary.meanReward, learnt.seconds))
            } else {
                checkpoint = nil
            }
            if let checkpoint {
                let parent = checkpoint.hasPrefix("\(c.directory)/learnt-") ? try registry.state().production : nil
                let version = try registry.register(checkpoint: checkpoint, parent: parent, scenario: c.scenario.rawValue, dataHash: "").id
                let verdict = try gate(registry, candidate: version, log: logs.log.filter { $0.timestamp > dayStart }, feedback: logs.feedback)
                if verdict.passes {
                    try registry.startRollout(version, share: c.candidateShare, note: verdict.summary)
                    released = (version, verdict.candidate)
                    report.events.append("released \(version) (\(checkpoint)) to \(Int(c.candidateShare * 100))%: \(verdict.summary)")
                } else {
                    try registry.recordRefusal(of: version, action: "rollout", reason: verdict.summary)
                    report.events.append("refused \(version) (\(checkpoint)): \(verdict.summary)")
                }
            }
            try await main.catchUp()
            reports.append(report)
        }
        return reports
    }

    /// The holdback's verdict on `production` from the `days` since it became production: over the
    /// twins its users had (their learning side served by it alone), or else over its arm's users
    /// against the frozen arm's.
    private func holdbackVerdict(_ holdback: Holdback, production: String, days: [DayReport]) -> Guardrail.Verdict {
        let twins = days.flatMap(\.twins).filter { $0.learningVersion == production }
        if configuration.twinControl {
            return holdback.verdict(differences: twins.map { $0.learning - $0.frozen }, holdback: twins.map(\.frozen))
        }
        let served = days.flatMap { $0.arms.filter { $0.arm == "production" && $0.version == production }.flatMap(\.returns) }
        return holdback.verdict(production: served, holdback: days.flatMap { $0.arms.filter { $0.arm == "frozen" }.flatMap(\.returns) })
    }

    /// Checks that every list the service answered to the day's users (since `dayStart`) is in its
    /// impression log, and that its feedback log holds at least as many rows of the day as it
    /// acknowledged (more when a request was sent again after a server's crash).
    static func checkLogged(_ users: [ServedUserOutcome], since dayStart: Int64, in logs: (log: ServedSlateLog, feedback: LoggedInteractions)) throws {
        let logged = Set(logs.log.slates.lazy.filter { $0.timestamp > dayStart }.map(\.id))
        let missing = users.flatMap(\.impressions).filter { !logged.contains($0) }
        guard missing.isEmpty else {
            throw ClosedLoopError("\(missing.count) lists the service answered are not in its impression log (the first: \(missing[0]))")
        }
        let acknowledged = users.reduce(0) { $0 + $1.feedbackPosted }
        let rows = logs.feedback.timestamps.lazy.filter { $0 > dayStart }.count
        guard rows >= acknowledged else {
            throw ClosedLoopError("the service acknowledged \(acknowledged) feedback events today and its feedback log holds \(rows)")
        }
    }

    /// The learning system's logs: the lists it served with their rewards, and the feedback.
    private func servedLogs(_ paths: (impressions: String, feedback: String)) throws -> (log: ServedSlateLog, feedback: LoggedInteractions) {
        let shown = try LoggedInteractions.read(csv: paths.impressions), answered = try LoggedInteractions.read(csv: paths.feedback)
        let reward = configuration.reward
        let log = try ServedSlateLog(impressions: shown, named: paths.impressions, feedback: answered, named: paths.feedback) { kind, value in
            Double(reward.reward(for: Feedback(kind, value: value)))
        }
        return (log, answered)
    }

    /// A candidate learnt from the lists `log`, written to `output`.
    private func learn(_ learning: any ServedLogLearning, _ registry: ModelRegistry, log: ServedSlateLog, feedback: LoggedInteractions,
                       to output: String) throws -> (summary: ServedLogLearningSummary, seconds: Double) {
        let start = ContinuousClock.now
        var servedBy: [String: String] = [:]
        for version in Set(log.slates.map(\.version)) where version != "popularity" { servedBy[version] = try registry.checkpointPath(of: version) }
        let summary = try learning.fineTune(production: try registry.checkpointPath(of: try registry.state().production!), servedBy: servedBy,
                                            log: log, feedback: feedback, exploration: configuration.exploration, to: output)
        return (summary, secondsSince(start))
    }

    /// The gate's verdict on `candidate` against production, on the lists `log`.
    private func gate(_ registry: ModelRegistry, candidate: String, log: ServedSlateLog, feedback: LoggedInteractions) throws -> OffPolicyGate.Verdict {
        let serving = servingConfiguration
        let kinds = serving.modelKinds
        let gate = OffPolicyGate(estimator: configuration.gateEstimator, exploration: configuration.exploration,
                                 historyCapacity: serving.historyCapacity, margin: configuration.gateMargin,
                                 rewardModel: configuration.gateRewardModel, switchThreshold: configuration.gateSwitchThreshold)
        return try gate.verdict(candidate: try kinds.load(checkpoint: try registry.checkpointPath(of: candidate)),
                                production: try kinds.load(checkpoint: try registry.checkpointPath(of: try registry.state().production!)),
                                log: log, feedback: feedback)
    }

    /// How the released candidates' off-policy estimates compare with the values they realised.
    public struct EstimateCheck: Sendable, Equatable {
        /// Released candidates with both an estimate and a realised value.
        public var judged = 0
        /// Those whose estimate's interval holds the realised value.
        public var covered = 0
        /// Those estimated above what they realised.
        public var above = 0
        /// Those whose estimate and realised value differ by no more than the two samples' errors
        /// together allow: |e − r| ≤ 1.96·√(sₑ² + sᵣ²), each s its 95% interval's width / 3.92.
        /// The realised value is itself a sample of about a hundred users' lists, so an exact
        /// interval for the candidate's value covers it less often than 95% of the time.
        public var consistent = 0
    }

    /// The check over every day of `reports` whose candidate has an estimate and a realised value.
    public static func estimateCheck(_ reports: [DayReport]) -> EstimateCheck {
        var check = EstimateCheck()
        for report in reports {
            guard let e = report.estimate, let r = report.realised else { continue }
            check.judged += 1
            if e.low <= r.value && r.value <= e.high { check.covered += 1 }
            if e.value > r.value { check.above += 1 }
            let se = (e.high - e.low) / 3.92, sr = (r.high - r.low) / 3.92
            if abs(e.value - r.value) <= 1.96 * (se * se + sr * sr).squareRoot() { check.consistent += 1 }
        }
        return check
    }

    /// The learning system's users (production and candidates) against the frozen first
    /// version's over the days from `firstDay` on: their mean returns per user and the difference
    /// with a 95% normal interval (Welch's; with twin control, paired over the twins, whose
    /// learning-system returns alone are then the learning side). Nil when either side has fewer
    /// than two users.
    public struct Comparison: Sendable {
        public var learningUsers: Int, frozenUsers: Int
        public var learning: Double, frozen: Double
        public var difference: Double, low: Double, high: Double
        /// Whether the users are the same on both sides (twin control).
        public var paired: Bool
        /// With twin control, the scenario's measures per user compared the same way, by name.
        public var measures: [Measure] = []
    }

    /// One of the scenario's measures per user on both sides, and the paired difference with its
    /// 95% normal interval.
    public struct Measure: Sendable {
        public var name: String
        public var learning: Double, frozen: Double
        public var difference: Double, low: Double, high: Double
    }

    public static func learningAgainstFrozen(_ reports: [DayReport], from firstDay: Int) -> Comparison? {
        let late = reports.filter { $0.day >= firstDay }
        let twins = late.flatMap(\.twins)
        if !twins.isEmpty {
            guard twins.count > 1 else { return nil }
            func paired(_ learning: [Double], _ frozen: [Double]) -> (learning: Double, frozen: Double, difference: Double, half: Double) {
                let d = sampleMoments(zip(learning, frozen).map { $0 - $1 })
                let n = Double(learning.count)
                return (learning.reduce(0, +) / n, frozen.reduce(0, +) / n, d.mean, 1.96 * (d.variance / n).squareRoot())
            }
            let r = paired(twins.map(\.learning), twins.map(\.frozen))
            let names = Set(twins.flatMap { Array($0.learningMeasures.keys) + Array($0.frozenMeasures.keys) }).sorted()
            let measures = names.map { name in
                let m = paired(twins.map { $0.learningMeasures[name] ?? 0 }, twins.map { $0.frozenMeasures[name] ?? 0 })
                return Measure(name: name, learning: m.learning, frozen: m.frozen, difference: m.difference, low: m.difference - m.half, high: m.difference + m.half)
            }
            return Comparison(learningUsers: twins.count, frozenUsers: twins.count, learning: r.learning, frozen: r.frozen,
                              difference: r.difference, low: r.difference - r.half, high: r.difference + r.half, paired: true, measures: measures)
        }
        let learning = late.flatMap { $0.arms.filter { $0.arm != "frozen" }.flatMap(\.returns) }
        let frozen = late.flatMap { $0.arms.filter { $0.arm == "frozen" }.flatMap(\.returns) }
        guard learning.count > 1, frozen.count > 1 else { return nil }
        let (a, b) = (sampleMoments(learning), sampleMoments(frozen))
        let half = 1.96 * (a.variance / Double(learning.count) + b.variance / Double(frozen.count)).squareRoot()
        return Comparison(learningUsers: learning.count, frozenUsers: frozen.count, learning: a.mean, frozen: b.mean,
                          difference: a.mean - b.mean, low: a.mean - b.mean - half, high: a.mean - b.mean + half, paired: false)
    }

    private static func summary(_ arm: String, version: String, _ users: [ServedUserOutcome]) -> ArmDay {
        let returns = users.map(\.simulatedReturn)
        let (mean, variance) = sampleMoments(returns)
        let half = 1.96 * (variance / Double(returns.count)).squareRoot()
        let lists = users.flatMap(\.listRewards)
        var measures: [String: Double] = [:]
        for user in users { for (key, value) in user.measures { measures[key, default: 0] += value } }
        return ArmDay(arm: arm, version: version, users: users.count, returns: returns, meanReturn: mean, low: mean - half, high: mean + half,
                      listValue: lists.isEmpty ? 0 : lists.reduce(0, +) / Double(lists.count), measures: measures)
    }
}

/// What stops the closed loop or one of its parts: traffic the service answered in a way no
/// platform could show, a directory holding an earlier run, a checkpoint the loop cannot learn
/// from or break.
public struct ClosedLoopError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A deliberately broken candidate, for testing the loop's defences: production's policy
/// inverted. A SAC ranker's actor has its mean action negated, so that it ranks by the opposite of
/// what it learnt; a tutor's (A2C) policy heads have their logits negated, so that it gives the
/// tasks it found least fit.
public enum BrokenCandidate {
    public static func write(from source: String, to destination: String) throws {
        let (tensors, metadata) = try SafeTensors.read(from: source)
        let names = tensors.map(\.name)
        let inverted: Set<String>
        if names.contains("actor.mean.weight") {
            inverted = ["actor.mean.weight", "actor.mean.bias"]
        } else if metadata[ScenarioCheckpoint.scenarioKey] == Scenario.education.rawValue, names.contains(where: { $0.hasPrefix("policy.head") }) {
            inverted = Set(names.filter { $0.hasPrefix("policy.head") })
        } else {
            throw ClosedLoopError("'\(source)' is neither a SAC ranker (actor.mean.weight) nor a tutor (policy heads): the loop cannot break it")
        }
        let broken = tensors.map { entry -> (String, Tensor) in
            guard inverted.contains(entry.name) else { return (entry.name, entry.tensor) }
            return (entry.name, Tensor(shape: entry.tensor.shape, scalars: entry.tensor.scalars.map { -$0 }))
        }
        try SafeTensors.write(broken, metadata: metadata, to: destination)
    }
}
