import DRLAgents
import DRLEvaluation
import DRLNN
import DRLSimulation
import ArgumentParser
import Foundation

struct ABTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abtest",
        abstract: "Compare two recommenders on the same simulated users, with bootstrap confidence intervals.",
        discussion: """
        Control and treatment each serve the same --users users (user u is seeded with --seed + u in \
        both arms). For every metric the table shows both arms, the difference (treatment − control), \
        the relative change and a 95% paired-bootstrap interval of the difference over users. \
        On ecommerce a policy is random, popularity, myopic (the greedy content-based recommender), \
        mmr (its diversified form), linucb (a contextual bandit learning online), als (implicit matrix \
        factorisation fitted on the logged clicks of the platform's 3,000 existing users), deep-ranker \
        (an attention state encoder trained on those users' click sequences to predict the next click) or a checkpoint \
        written by `drlrec train --env ecommerce`; --cold-start-transfer gives the treatment's users who \
        arrive without history the profiles of their likely user groups, learned from those logs. On video \
        the same baselines or a checkpoint of `drlrec train --env video`; on \
        education it is random, fixed (one syllabus), staircase (the adaptive one-up one-down rule), \
        myopic (the easiest tasks) or a checkpoint written by `drlrec train --env education`.
        """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable { case ecommerce, video, education }

    @Option(help: "Scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var env: Scenario = .ecommerce

    @Option(help: "Control policy (default: the strongest baseline: als on ecommerce, linucb on video, staircase on education).")
    var control: String?

    @Option(help: ArgumentHelp("Treatment policy or checkpoint (default: the agent `drlrec train --env ENV` saved).", valueName: "policy|path"))
    var treatment: String?

    @Option(help: ArgumentHelp("Simulator settings (the file given to `drlrec train --config`).", valueName: "path"))
    var config: String?

    @Option(help: "Simulated users per arm.")
    var users: Int = 2_000

    @Flag(inversion: .prefixedNo, help: "On ecommerce (the default there): start the treatment's users who arrive without history from the profiles of their likely user groups.")
    var coldStartTransfer: Bool?

    @Option(help: "On ecommerce: user groups for cold-start transfer.")
    var groups: Int = 32

    @Option(help: "Seed of the population (user u gets seed + u).")
    var seed: UInt64 = 0

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 1_000

    @Flag(help: "Print one JSON object per metric.")
    var json = false

    func validate() throws {
        guard users >= 2 else { throw ValidationError("--users must be at least 2, got \(users)") }
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100, got \(resamples)") }
        guard (1...EcommerceSetup.existingUsers).contains(groups) else {
            throw ValidationError("--groups must be in 1...\(EcommerceSetup.existingUsers) (the existing users), got \(groups)")
        }
        guard coldStartTransfer != true || env == .ecommerce else { throw ValidationError("--cold-start-transfer applies to --env ecommerce, whose users have demographics") }
    }

    func run() throws {
        let rows: [MetricComparison], names: [String]
        switch env {
        case .ecommerce:
            // A ranker trained with a state encoder reads the sequence observation, of the length it was trained on.
            let checkpoints = [control, treatment ?? EcommerceSetup.defaultCheckpoint].compactMap { $0 }
                .filter { FileManager.default.fileExists(atPath: $0) }
            let histories = try checkpoints.map { try checkpointStateEncoder($0)?.history ?? 0 }
            guard Set(histories).count <= 1 else {
                throw ValidationError("the two checkpoints read different observations (history lengths \(histories), 0 for the summary observation); both arms run on one simulator")
            }
            let simulator = try Scenarios.slateSimulatorFactory(video: false, config: config, historyTokens: histories.first { $0 > 0 })() as! EcommerceSimulator
            let existing = ExistingUserModels(environment: simulator, groups: groups)
            let treatmentName = treatment ?? EcommerceSetup.defaultCheckpoint
            var arms = try [control ?? "als", treatmentName].map {
                try slatePolicy($0, for: simulator, gamma: EcommerceSetup.gamma(video: false), trainWith: "drlrec train --env ecommerce",
                                existing: existing)
            }
            if coldStartTransfer ?? true { arms[1] = ColdStartTransferPolicy(base: arms[1], profiles: try existing.profiles()) }
            names = arms.map(\.name)
            rows = runArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, users: users, seed: seed) }) })
        case .video:
            let simulator = try Scenarios.slateSimulatorFactory(video: true, config: config)() as! VideoFeedSimulator
            let arms = try [control ?? "linucb", treatment ?? EcommerceSetup.videoCheckpoint].map {
                try slatePolicy($0, for: simulator, gamma: EcommerceSetup.gamma(video: true), trainWith: "drlrec train --env video")
            }
            names = arms.map(\.name)
            rows = runArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, viewers: users, seed: seed) }) })
        case .education:
            let simulator = EducationSimulator(configuration: try Scenarios.educationConfiguration(config))
            let arms = try [control ?? "staircase", treatment ?? EducationSetup.defaultCheckpoint].map { try taskPolicy($0, for: simulator) }
            names = arms.map(\.name)
            rows = runArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, learners: users, seed: seed) }) })
        }
        printTable(rows, control: names[0], treatment: names[1])
    }

    /// Simulates the control and the treatment (name and simulation each), reporting progress on
    /// standard error, and compares them.
    private func runArms<Report: PopulationReport>(_ arms: [(name: String, simulate: () -> Report)]) -> [MetricComparison] {
        let reports = zip(["control", "treatment"], arms).map { label, arm in
            say("simulating the \(label) (\(arm.name)) on \(users) users...")
            let start = Sampler.now()
            let report = arm.simulate()
            say(String(format: "  done in %.1f s", Sampler.now() - start))
            return report
        }
        return compare(control: reports[0], treatment: reports[1], resamples: resamples, seed: seed)
    }

    private func printTable(_ rows: [MetricComparison], control: String, treatment: String) {
        if json {
            for row in rows {
                print(JSONLine([
                    ("metric", .string(row.metric)), ("control", .float(row.control)), ("treatment", .float(row.treatment)),
                    ("diff", .float(row.difference)), ("relative_change", row.relativeChange.map { .float($0) } ?? .null),
                    ("ci_low", .float(row.ciLow)), ("ci_high", .float(row.ciHigh)), ("significant", .bool(row.isSignificant)),
                    ("control_policy", .string(control)), ("treatment_policy", .string(treatment)), ("users", .int(users)),
                ]).text)
            }
            return
        }
        print("\(env.rawValue): control \(control), treatment \(treatment), \(users) paired users, 95% bootstrap intervals")
        let header = ["metric", "control", "treatment", "diff", "change", "95% CI of diff", ""]
        var table = [header]
        for row in rows {
            table.append([row.metric, format(row.control), format(row.treatment), format(row.difference),
                          row.relativeChange.map { String(format: "%+.1f%%", 100 * $0) } ?? "-",
                          "[\(format(row.ciLow)), \(format(row.ciHigh))]", row.isSignificant ? "*" : ""])
        }
        printColumns(table)
        print("* the interval excludes 0")
    }

    private func format(_ value: Float) -> String { String(format: abs(value) >= 10 ? "%.2f" : "%.4f", value) }

    /// The agent kind a checkpoint holds, or an error that says what the file is not.
    private func checkpointKind(_ path: String, expected: [String], trainWith command: String, isDefault: Bool) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("'\(path)' is neither a policy nor a checkpoint file" + (isDefault ? "; train one first with `\(command)`" : ""))
        }
        do {
            let kind = try SafeTensors.describe(path).metadata["drlrec.agent"] ?? "?"
            guard expected.contains(kind) else {
                throw ValidationError("\(path) holds a '\(kind)' agent; this A/B test needs one written by `\(command)` (\(expected.joined(separator: " or ")))")
            }
            return kind
        } catch let error as CheckpointError {
            throw ValidationError("\(error)")
        }
    }

    /// The state encoder the agent in a checkpoint was trained with, if any.
    private func checkpointStateEncoder(_ path: String) throws -> (model: SequenceStateEncoder.Configuration.SequenceModel, history: Int)? {
        do { return EcommerceSetup.stateEncoder(of: try SafeTensors.describe(path).tensors) } catch { throw ValidationError("\(error)") }
    }

    /// An education tutor by name, or the two-path actor in a checkpoint.
    private func taskPolicy(_ name: String, for simulator: EducationSimulator) throws -> TaskPolicy {
        switch name {
        case "random": return RandomTaskPolicy(seed: seed)
        case "fixed": return FixedCurriculumPolicy()
        case "staircase": return StaircasePolicy()
        case "myopic": return MyopicTaskPolicy()
        default:
            _ = try checkpointKind(name, expected: ["a2c"], trainWith: "drlrec train --env education",
                                   isDefault: name == EducationSetup.defaultCheckpoint)
            let agent = EducationSetup.agent(observationDimension: simulator.observationDimension, configuration: simulator.configuration, seed: 0)
            do { try agent.load(from: name) } catch { throw ValidationError("\(error)") }
            return ActorTaskPolicy(name: "a2c (\(name))", agent: agent)
        }
    }

    /// A slate baseline by name, or the ranking agent in a checkpoint.
    private func slatePolicy(_ name: String, for simulator: RecommendationEnvironment, gamma: Float, trainWith command: String,
                             existing: ExistingUserModels? = nil) throws -> SlatePolicy {
        switch name {
        case "random": return RandomPolicy(seed: seed)
        case "popularity": return PopularityPolicy(catalogue: simulator.catalogue)
        case "myopic": return MyopicGreedyPolicy(catalogue: simulator.catalogue)
        case "mmr": return DiversifiedGreedyPolicy(catalogue: simulator.catalogue)
        case "linucb": return LinUCBPolicy(catalogue: simulator.catalogue)
        case "als" where existing != nil: return try existing!.als()
        case "deep-ranker" where existing != nil: return try existing!.deepRanker()
        default:
            let kind = try checkpointKind(name, expected: ["sac", "td3"], trainWith: command,
                                          isDefault: name == EcommerceSetup.defaultCheckpoint || name == EcommerceSetup.videoCheckpoint)
            let model = try existing?.als().model
            let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal, collaborative: model)
            let encoder = try checkpointStateEncoder(name)?.model
            guard encoder == nil || (simulator as? EcommerceSimulator)?.stateEncoderLayout != nil else {
                throw ValidationError("\(name) holds a ranker with a state encoder, trained by `drlrec train --env ecommerce --state-encoder`; it runs on ecommerce only")
            }
            let agent = EcommerceSetup.agent(kind, for: simulator, builder: builder, gamma: gamma, stateEncoder: encoder, seed: 0)
            do { try agent.load(from: name) } catch { throw ValidationError("\(error)") }
            return WeightedRankingPolicy(name: "\(kind) (\(name))", agent: agent, environment: simulator, collaborative: model)
        }
    }
}
