import DRLEvaluation
import DRLSimulation
import DRLTensor
import Foundation

/// A simulated A/B test: a control and a treatment policy each serve the same population (user u
/// is seeded with `seed + u` in both arms), and every metric of the scenario's report is compared
/// with a paired-bootstrap interval of the difference over users.
public struct ABTest {
    public var scenario: Scenario
    /// The control: a baseline name or a checkpoint path (nil: the scenario's strongest baseline).
    public var control: String?
    /// The treatment: a baseline name or a checkpoint path (nil: the scenario's default checkpoint).
    public var treatment: String?
    /// A simulator settings file (the one the treatment was trained with).
    public var configuration: String?
    /// Simulated users per arm.
    public var users = 2_000
    /// On e-commerce (nil: on there): the treatment's users who arrive without history start from
    /// the profiles of their likely user groups, learned from the existing users' logs.
    public var coldStartTransfer: Bool?
    /// User groups of cold-start transfer.
    public var groups = 32
    /// The population's seed (and the random policies').
    public var seed: UInt64 = 0
    /// Bootstrap resamples.
    public var resamples = 1_000

    public init(scenario: Scenario) { self.scenario = scenario }

    /// The comparison, and the names of the two arms as their policies call themselves.
    public struct Result: Sendable {
        public let control: String, treatment: String
        public let users: Int
        public let rows: [MetricComparison]
    }

    /// Simulates both arms (reporting progress) and compares them.
    public func run(progress: @escaping ProgressReport = { _ in }) throws(ScenarioError) -> Result {
        require(users >= 2 && resamples >= 1, "ABTest: a paired comparison needs at least 2 users and 1 resample, got \(users) and \(resamples)")
        require(coldStartTransfer != true || scenario == .ecommerce, "ABTest: cold-start transfer applies to ecommerce, whose users have demographics")
        let controlName = control ?? PolicyCatalogue(scenario: scenario).strongestBaseline
        let treatmentName = treatment ?? scenario.defaultCheckpoint
        let names: [String], rows: [MetricComparison]
        switch scenario {
        case .ecommerce:
            // A ranker trained with a state encoder reads the sequence observation, of the length it was trained on.
            var histories: [Int] = []
            for path in [controlName, treatmentName] where FileManager.default.fileExists(atPath: path) {
                histories.append(try ScenarioCheckpoint(path: path).stateEncoder?.history ?? 0)
            }
            guard Set(histories).count <= 1 else { throw .differentObservations(histories: histories) }
            let simulator = try ScenarioSimulators.slate(.ecommerce, configuration: configuration,
                                                         historyTokens: histories.first { $0 > 0 })() as! EcommerceSimulator
            let catalogue = PolicyCatalogue(scenario: scenario, seed: seed,
                                            existing: ExistingUserModels(environment: simulator, groups: groups, progress: progress))
            var arms = [try catalogue.slatePolicy(controlName, for: simulator), try catalogue.slatePolicy(treatmentName, for: simulator)]
            if coldStartTransfer ?? true { arms[1] = ColdStartTransferPolicy(base: arms[1], profiles: try catalogue.existing!.profiles()) }
            names = arms.map(\.name)
            rows = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, users: users, seed: seed) }) },
                               progress: progress)
        case .video:
            let simulator = try ScenarioSimulators.slate(.video, configuration: configuration)() as! VideoFeedSimulator
            let catalogue = PolicyCatalogue(scenario: scenario, seed: seed)
            let arms = [try catalogue.slatePolicy(controlName, for: simulator), try catalogue.slatePolicy(treatmentName, for: simulator)]
            names = arms.map(\.name)
            rows = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, viewers: users, seed: seed) }) },
                               progress: progress)
        case .education:
            let simulator = EducationSimulator(configuration: try ScenarioSimulators.education(configuration: configuration))
            let catalogue = PolicyCatalogue(scenario: scenario, seed: seed)
            let arms = [try catalogue.taskPolicy(controlName, for: simulator), try catalogue.taskPolicy(treatmentName, for: simulator)]
            names = arms.map(\.name)
            rows = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, learners: users, seed: seed) }) },
                               progress: progress)
        }
        return Result(control: names[0], treatment: names[1], users: users, rows: rows)
    }

    /// Simulates the control and the treatment (name and simulation each) and compares them.
    private func compareArms<Report: PopulationReport>(_ arms: [(name: String, simulate: () -> Report)],
                                                       progress: ProgressReport) -> [MetricComparison] {
        let reports = zip(["control", "treatment"], arms).map { label, arm in
            progress("simulating the \(label) (\(arm.name)) on \(users) users...")
            let start = ContinuousClock.now
            let report = arm.simulate()
            progress(String(format: "  done in %.1f s", secondsSince(start)))
            return report
        }
        return compare(control: reports[0], treatment: reports[1], resamples: resamples, seed: seed)
    }
}
