import DRLEvaluation
import DRLSimulation
import DRLTensor
import Foundation

/// A simulated A/B test: a control and a treatment policy each serve the same population (user u
/// is seeded with `seed + u` in both arms), and every metric of the scenario's report is compared
/// with a paired-bootstrap interval of the difference over users. Given several treatments (the
/// same recipe trained with different seeds), each is compared with the control on the same users,
/// and their mean difference gets an interval over both the users and the seeds.
public struct ABTest {
    public var scenario: Scenario
    /// The control: a baseline name or a checkpoint path (nil: the scenario's strongest baseline).
    public var control: String?
    /// The treatments: baseline names or checkpoint paths, typically one per training seed (empty:
    /// the scenario's default checkpoint).
    public var treatments: [String] = []
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
    /// On education: where and by which metric the "fixed" and "staircase" tutors are tuned.
    public var tuning = TutorTuning()

    public init(scenario: Scenario) { self.scenario = scenario }

    /// The comparisons, and the names of the arms as their policies call themselves.
    public struct Result: Sendable {
        public let control: String
        public let treatments: [String]
        public let users: Int
        /// Each treatment against the control, in the order given.
        public let rows: [[MetricComparison]]
        /// With more than one treatment: their mean difference from the control, metric by metric.
        public let acrossSeeds: [SeedComparison]?
    }

    /// Simulates both arms and compares them. `progress` gets what is being done, `armProgress`
    /// the arm being simulated (its policy's name) with the users done and in all, after each user.
    public func run(progress: @escaping ProgressReport = { _ in },
                    armProgress: (_ arm: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }) throws(ScenarioError) -> Result {
        require(users >= 2 && resamples >= 1, "ABTest: a paired comparison needs at least 2 users and 1 resample, got \(users) and \(resamples)")
        require(coldStartTransfer != true || scenario == .ecommerce, "ABTest: cold-start transfer applies to ecommerce, whose users have demographics")
        let controlName = control ?? PolicyCatalogue(scenario: scenario).strongestBaseline
        let treatmentNames = treatments.isEmpty ? [scenario.defaultCheckpoint] : treatments
        let names: [String], comparison: (rows: [[MetricComparison]], acrossSeeds: [SeedComparison]?)
        switch scenario {
        case .ecommerce:
            // A ranker trained with a state encoder reads the sequence observation, of the length it was trained on.
            var histories: [Int] = []
            for path in [controlName] + treatmentNames where FileManager.default.fileExists(atPath: path) {
                histories.append(try ScenarioCheckpoint(path: path).stateEncoder?.history ?? 0)
            }
            guard Set(histories).count <= 1 else { throw .differentObservations(histories: histories) }
            let simulator = try ScenarioSimulators.slate(.ecommerce, configuration: configuration,
                                                         historyTokens: histories.first { $0 > 0 })() as! EcommerceSimulator
            let catalogue = PolicyCatalogue(scenario: scenario, seed: seed,
                                            existing: ExistingUserModels(environment: simulator, groups: groups, progress: progress))
            var arms = try ([controlName] + treatmentNames).map { name throws(ScenarioError) in try catalogue.slatePolicy(name, for: simulator) }
            if coldStartTransfer ?? true {
                let profiles = try catalogue.existing!.profiles()
                for t in 1..<arms.count { arms[t] = ColdStartTransferPolicy(base: arms[t], profiles: profiles) }
            }
            names = arms.map(\.name)
            comparison = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, users: users, seed: seed, progress: $0) }) },
                                     progress: progress, armProgress: armProgress)
        case .video:
            let simulator = try ScenarioSimulators.slate(.video, configuration: configuration)() as! VideoFeedSimulator
            let catalogue = PolicyCatalogue(scenario: scenario, seed: seed)
            let arms = try ([controlName] + treatmentNames).map { name throws(ScenarioError) in try catalogue.slatePolicy(name, for: simulator) }
            names = arms.map(\.name)
            comparison = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, viewers: users, seed: seed, progress: $0) }) },
                                     progress: progress, armProgress: armProgress)
        case .education:
            let simulator = EducationSimulator(configuration: try ScenarioSimulators.education(configuration: configuration))
            var catalogue = PolicyCatalogue(scenario: scenario, seed: seed)
            catalogue.tuning = tuning
            // A tuned tutor must not be tuned on the learners it is then tested on.
            let population = learnerSeeds(first: seed, count: users)
            let tuned = ([controlName] + treatmentNames).contains { $0 == "fixed" || $0 == "staircase" }
            guard !tuned || !population.overlaps(catalogue.tuning.population) else {
                throw .populationOverlapsTuning(population: population, tuning: catalogue.tuning.population)
            }
            let arms = try ([controlName] + treatmentNames).map { name throws(ScenarioError) in try catalogue.taskPolicy(name, for: simulator) }
            names = arms.map(\.name)
            comparison = compareArms(arms.map { policy in (policy.name, { simulatePopulation(policy, on: simulator, learners: users, seed: seed, progress: $0) }) },
                                     progress: progress, armProgress: armProgress)
        }
        return Result(control: names[0], treatments: Array(names.dropFirst()), users: users, rows: comparison.rows,
                      acrossSeeds: comparison.acrossSeeds)
    }

    /// Simulates the control and then each treatment (name and simulation each), compares each
    /// treatment with the control, and with several treatments their mean with the control.
    private func compareArms<Report: PopulationReport>(_ arms: [(name: String, simulate: ((Int) -> Void) -> Report)], progress: ProgressReport,
                                                       armProgress: (String, Int, Int) -> Void)
        -> (rows: [[MetricComparison]], acrossSeeds: [SeedComparison]?) {
        let reports = arms.enumerated().map { a, arm in
            progress("simulating the \(a == 0 ? "control" : arms.count > 2 ? "treatment \(a)" : "treatment") (\(arm.name)) on \(users) users...")
            let start = ContinuousClock.now
            let report = arm.simulate { armProgress(arm.name, $0, users) }
            progress(String(format: "  done in %.1f s", secondsSince(start)))
            return report
        }
        let treatments = Array(reports.dropFirst())
        let rows = treatments.map { compare(control: reports[0], treatment: $0, resamples: resamples, seed: seed) }
        return (rows, treatments.count > 1 ? compareAcrossSeeds(control: reports[0], treatments: treatments, resamples: resamples, seed: seed) : nil)
    }
}
