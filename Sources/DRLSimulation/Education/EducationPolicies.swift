import DRLAgents
import DRLTensor

/// A tutor that picks the next task (difficulty level and content type) for the current learner.
public protocol TaskPolicy: AnyObject {
    var name: String { get }
    func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType)
}

/// Uniformly random tasks.
public final class RandomTaskPolicy: TaskPolicy {
    public let name = "random"
    private var rng: RandomGenerator
    public init(seed: UInt64) { rng = RandomGenerator(seed: seed, stream: 0x7A5C) }

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        (rng.nextIndex(below: simulator.configuration.difficultyLevels), ContentType(rawValue: rng.nextIndex(below: ContentType.allCases.count))!)
    }
}

/// A fixed syllabus: every task at one difficulty level, of one content type.
public final class FixedCurriculumPolicy: TaskPolicy {
    /// The level and the content type of every task.
    public struct Settings: Hashable, Sendable, CustomStringConvertible {
        public let level: Int, type: ContentType
        public init(level: Int, type: ContentType) {
            require(level >= 0, "FixedCurriculumPolicy: level \(level) is negative")
            (self.level, self.type) = (level, type)
        }
        public var description: String { "level \(level), \(type)" }
    }

    public let name: String
    public let settings: Settings

    public init(_ settings: Settings) {
        self.settings = settings
        name = "fixed (\(settings))"
    }

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        require(settings.level < simulator.configuration.difficultyLevels,
                "FixedCurriculumPolicy: level \(settings.level) is outside the simulator's 0..<\(simulator.configuration.difficultyLevels)")
        return (settings.level, settings.type)
    }
}

/// The classic adaptive rule, a k-up one-down staircase (Levitt, 1971): one level harder after
/// `up` completed tasks in a row, one easier after a failed one; each new skill (and each new
/// learner) starts at `startLevel`; every task of one content type. A one-up one-down staircase
/// settles where half the tasks are completed, two-up near 71%, three-up near 79%.
public final class StaircasePolicy: TaskPolicy {
    /// Completions in a row before a harder level, the starting level and the content type.
    public struct Settings: Hashable, Sendable, CustomStringConvertible {
        public let up: Int, startLevel: Int, type: ContentType
        public init(up: Int, startLevel: Int, type: ContentType) {
            require(up >= 1 && startLevel >= 0, "StaircasePolicy: \(up)-up from level \(startLevel); up is at least 1 and the level non-negative")
            (self.up, self.startLevel, self.type) = (up, startLevel, type)
        }
        /// The rule of most adaptive tutors' textbooks: one-up one-down from the second level, exercises.
        public static let classic = Settings(up: 1, startLevel: 1, type: .exercise)
        public var description: String { "\(up)-up 1-down from level \(startLevel), \(type)" }
    }

    public let name: String
    public let settings: Settings
    private var level = 0, skill = -1, tasks = -1, completedInARow = 0

    public init(_ settings: Settings) {
        self.settings = settings
        name = "staircase (\(settings))"
    }

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        let statistics = simulator.statistics, levels = simulator.configuration.difficultyLevels
        require(settings.startLevel < levels, "StaircasePolicy: start level \(settings.startLevel) is outside the simulator's 0..<\(levels)")
        if simulator.currentSkill != skill || statistics.tasks < tasks || statistics.tasks == 0 {
            // A new skill or a new learner.
            (level, skill, completedInARow) = (settings.startLevel, simulator.currentSkill, 0)
        } else {
            let completedLast = observation[flat: simulator.configuration.skills + 2] == 1
            completedInARow = completedLast ? completedInARow + 1 : 0
            if !completedLast {
                level = max(level - 1, 0)
            } else if completedInARow >= settings.up {
                (level, completedInARow) = (min(level + 1, levels - 1), 0)
            }
        }
        tasks = statistics.tasks
        return (level, settings.type)
    }
}

/// The myopic tutor: it maximises the chance that the next task is completed, so it gives the
/// easiest level, in the content type with the best completion rate so far for this learner.
public final class MyopicTaskPolicy: TaskPolicy {
    public let name = "myopic"
    private var attempts = [Int](repeating: 0, count: ContentType.allCases.count)
    private var completions = [Int](repeating: 0, count: ContentType.allCases.count)
    private var lastType: ContentType?, tasks = -1, completionsSeen = 0

    public init() {}

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        let statistics = simulator.statistics
        if statistics.tasks < tasks || statistics.tasks == 0 {
            for t in attempts.indices { (attempts[t], completions[t]) = (0, 0) }
            lastType = nil
            completionsSeen = 0
        } else if let lastType {
            attempts[lastType.rawValue] += 1
            if statistics.completions > completionsSeen { completions[lastType.rawValue] += 1 }
        }
        tasks = statistics.tasks
        completionsSeen = statistics.completions
        // Optimistic start: untried types rate 1.
        let rates = attempts.indices.map { attempts[$0] == 0 ? 1 : Float(completions[$0]) / Float(attempts[$0]) }
        let type = ContentType(rawValue: rates.indices.max { rates[$0] < rates[$1] }!)!
        lastType = type
        return (0, type)
    }
}

/// A trained two-path actor (A2C with a difficulty head and a content-type head) as a tutor: the
/// most probable choice of each head.
public final class ActorTaskPolicy: TaskPolicy {
    public let name: String
    public let agent: A2CAgent

    public init(name: String, agent: A2CAgent) {
        require(agent.choices.count == 2, "ActorTaskPolicy needs a two-head actor, got heads \(agent.choices)")
        self.name = name
        self.agent = agent
    }

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        guard case .multiDiscrete(let choice) = agent.act(observation, mode: .greedy) else { requirementFailure("a two-head actor acts with two choices") }
        return (Int(choice[0]), ContentType(rawValue: Int(choice[1]))!)
    }
}
