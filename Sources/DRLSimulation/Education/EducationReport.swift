import DRLAgents
import DRLEvaluation
import DRLTensor

/// The education metrics of one tutor over a simulated population of learners: task completion
/// rate, session length in tasks, personalised coverage (the share of the course's skills each
/// learner got to practise), mastery gained (summed over skills), sessions, the share of sessions
/// that ended early, and the return.
public struct EducationReport: PopulationReport, Sendable {
    public let policy: String
    public let learners: [EducationEpisodeStatistics]
    public let returns: [Float]

    public var userCount: Int { learners.count }

    public static let metricNames = ["task_completion_rate", "tasks_per_session", "personalised_coverage", "mastery_gained",
                                     "sessions_per_learner", "early_session_ends", "return_per_learner"]

    public func value(of metric: String, over subset: [Int]) -> Float {
        func sum(_ key: (EducationEpisodeStatistics) -> Float) -> Float { subset.reduce(0) { $0 + key(learners[$1]) } }
        let n = Float(max(subset.count, 1))
        switch metric {
        case "task_completion_rate": return sum { Float($0.completions) } / max(sum { Float($0.tasks) }, 1)
        case "tasks_per_session": return sum { Float($0.tasks) } / max(sum { Float($0.sessions) }, 1)
        case "personalised_coverage": return sum { Float($0.skillsPractised) } / max(sum { Float($0.courseSkills) }, 1)
        case "mastery_gained": return sum(\.masteryGained) / n
        case "sessions_per_learner": return sum { Float($0.sessions) } / n
        case "early_session_ends": return sum { Float($0.earlyEnds) } / max(sum { Float($0.sessions) }, 1)
        case "return_per_learner": return subset.reduce(0) { $0 + returns[$1] } / n
        default: requirementFailure("EducationReport: unknown metric '\(metric)'")
        }
    }
}

/// The seeds of `count` learners from `first` (learner u is seeded `first + u`, wrapping past
/// `UInt64.max` to small numbers, so the range stops there).
public func learnerSeeds(first: UInt64, count: Int) -> Range<UInt64> {
    first..<(first > UInt64.max - UInt64(count) ? UInt64.max : first + UInt64(count))
}

/// Runs `policy` on `learners` simulated learners, learner u seeded with `seed + u`. `progress` gets
/// the number done after each.
public func simulatePopulation(_ policy: TaskPolicy, on simulator: EducationSimulator, learners: Int, seed: UInt64,
                              progress: (_ done: Int) -> Void = { _ in }) -> EducationReport {
    require(learners > 0, "simulatePopulation needs at least one learner")
    var observation = Tensor(zeros: Shape(simulator.observationDimension))
    var statistics: [EducationEpisodeStatistics] = [], returns: [Float] = []
    for u in 0..<learners {
        simulator.reset(seed: seed &+ UInt64(u), observation: &observation)
        var total: Float = 0
        while true {
            let (level, type) = policy.choose(simulator, observation: observation)
            let result = simulator.step(.multiDiscrete([Int32(level), Int32(type.rawValue)]), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
        statistics.append(simulator.statistics)
        returns.append(total)
        progress(u + 1)
    }
    return EducationReport(policy: policy.name, learners: statistics, returns: returns)
}
