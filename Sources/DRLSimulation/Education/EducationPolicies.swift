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

/// A fixed syllabus: the middle difficulty, always exercises.
public final class FixedCurriculumPolicy: TaskPolicy {
    public let name = "fixed"
    public init() {}

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        (simulator.configuration.difficultyLevels / 2, .exercise)
    }
}

/// The classic adaptive rule (a one-up, one-down staircase): one level harder after a completed
/// task, one easier after a failed one, starting each new skill at the second level; exercises.
public final class StaircasePolicy: TaskPolicy {
    public let name = "staircase"
    private var level = 1, skill = -1, tasks = -1

    public init() {}

    public func choose(_ simulator: EducationSimulator, observation: Tensor) -> (level: Int, type: ContentType) {
        let statistics = simulator.statistics
        if simulator.currentSkill != skill || statistics.tasks < tasks {
            // A new skill or a new learner.
            (level, skill) = (1, simulator.currentSkill)
        } else if statistics.tasks > 0 {
            let completedLast = observation[flat: simulator.configuration.skills + 2] == 1
            level = min(max(level + (completedLast ? 1 : -1), 0), simulator.configuration.difficultyLevels - 1)
        }
        tasks = statistics.tasks
        return (level, .exercise)
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
