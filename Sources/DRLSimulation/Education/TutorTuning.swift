import DRLTensor

/// The rule-based tutors at their best: each rule's free settings chosen by grid search on a
/// population of learners of its own, so that an A/B test compares a learned tutor with the best
/// the rule can do on this simulator rather than with one arbitrary setting of it, by the measure
/// of `objective`.
public struct TutorTuning: Sendable {
    /// The first learner seed of the default tuning population, far from the seeds A/B tests and
    /// training use (an A/B population with seed s and n users is learners s..<s + n).
    public static let populationSeed: UInt64 = 1 << 40

    /// Learners of the tuning population, seeded `seed`, `seed + 1`, ….
    public var learners = 1_000
    public var seed = populationSeed
    /// The `EducationReport` metric a setting is chosen by, largest first: by default the return
    /// per learner, the reward the learned tutor maximises.
    public var objective = "return_per_learner"

    public init() {}

    /// The learner seeds the tuning simulates.
    public var population: Range<UInt64> { learnerSeeds(first: seed, count: learners) }

    /// One setting of a rule and how its tutor did on the tuning population.
    public struct Trial<Settings: Sendable>: Sendable {
        public let settings: Settings
        public let report: EducationReport
        /// The tuning objective's value.
        public let score: Float
    }

    /// Every k-up one-down staircase with k in 1...4, each start level and each content type,
    /// best first (ties keep the grid's order).
    public func staircases(on simulator: EducationSimulator) -> [Trial<StaircasePolicy.Settings>] {
        let grid = (1...4).flatMap { up in
            (0..<simulator.configuration.difficultyLevels).flatMap { start in
                ContentType.allCases.map { StaircasePolicy.Settings(up: up, startLevel: start, type: $0) }
            }
        }
        return ranked(grid, on: simulator) { StaircasePolicy($0) }
    }

    /// Every fixed syllabus (each level and content type), best first.
    public func fixedCurricula(on simulator: EducationSimulator) -> [Trial<FixedCurriculumPolicy.Settings>] {
        let grid = (0..<simulator.configuration.difficultyLevels).flatMap { level in
            ContentType.allCases.map { FixedCurriculumPolicy.Settings(level: level, type: $0) }
        }
        return ranked(grid, on: simulator) { FixedCurriculumPolicy($0) }
    }

    private func ranked<Settings>(_ grid: [Settings], on simulator: EducationSimulator, tutor: (Settings) -> TaskPolicy) -> [Trial<Settings>] {
        require(learners >= 1, "TutorTuning: the tuning population needs at least one learner, got \(learners)")
        require(EducationReport.metricNames.contains(objective), "TutorTuning: objective '\(objective)' is not one of \(EducationReport.metricNames)")
        let trials = grid.map { settings in
            let report = simulatePopulation(tutor(settings), on: simulator, learners: learners, seed: seed)
            return Trial(settings: settings, report: report, score: report.value(of: objective))
        }
        return trials.indices.sorted { trials[$0].score > trials[$1].score || (trials[$0].score == trials[$1].score && $0 < $1) }.map { trials[$0] }
    }
}
