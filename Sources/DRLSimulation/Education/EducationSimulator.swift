import DRLAgents
import DRLData
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kinds of learning content.
public enum ContentType: Int, CaseIterable, Sendable {
    case video, exercise, article
}

/// What one simulated learner did over an episode.
public struct EducationEpisodeStatistics: Sendable, Equatable {
    public var sessions = 0, tasks = 0, completions = 0
    /// Mastery summed over skills at the start and the end.
    public var initialMastery: Float = 0, finalMastery: Float = 0
    /// Skills the learner practised at least once (the part of the course they covered), and the
    /// course's skills.
    public var skillsPractised = 0, courseSkills = 0
    /// Sessions that ended early (frustration, boredom or fatigue).
    public var earlyEnds = 0

    public var masteryGained: Float { finalMastery - initialMastery }
}

/// An adaptive-learning platform: learners with a mastery per skill (Bayesian-knowledge-tracing
/// in spirit: mastery rises with practice and never falls), tasks with a difficulty and a content
/// type (video, exercise, article), completion that falls with the gap between difficulty and
/// mastery (an item-response curve), with fatigue and away from the learner's preferred type,
/// learning that is largest for tasks a little above the learner, and
/// sessions that end early when tasks are too hard (frustration) or too easy (boredom). A learner
/// comes back the next day more often after a session of completed tasks. The action is two
/// choices, difficulty and content type: the two-path actor's heads. An episode is one learner over
/// up to `days` days.
///
/// Observation (dimension 12 + skills): the current skill (one-hot over skills), the completion
/// rate of the last 5 tasks, the last task's difficulty, outcome and type (one-hot), the share of
/// the session's tasks done, the day, the tasks spent on the current skill, the failure and
/// too-easy streaks, and the course progress. Mastery and fatigue stay hidden.
public final class EducationSimulator: Environment {
    public let configuration: EducationConfiguration
    public let observationSpace: Space
    public let actionSpace: Space
    public private(set) var statistics = EducationEpisodeStatistics()
    private var rng = RandomGenerator(seed: 0)
    private var mastery: [Float]
    private var preferred = ContentType.video
    private var fatigue: Float = 0
    private var sessionCompletions = 0
    /// What the platform has observed of the learner: the course context and the tasks so far,
    /// from which the observation is built (as a served tutor builds it from a logged history).
    public private(set) var observed: EducationObservedLearner
    /// The events of the last `step` (none after `reset`), in order: what the platform logs of them.
    public private(set) var lastEvents: [UserEvent] = []
    private var practised: [Bool]

    public init(configuration: EducationConfiguration = EducationConfiguration()) {
        let c = configuration
        require(c.skills >= 1 && c.difficultyLevels >= 2 && c.days >= 1 && c.sessionTasks >= 1
                && c.learningRate.count == ContentType.allCases.count && c.effort.count == ContentType.allCases.count,
                "EducationConfiguration: skills, levels, days and session length must be positive, with a rate and an effort per content type")
        self.configuration = configuration
        observed = EducationObservedLearner(configuration: configuration)
        observationSpace = .box(low: Array(repeating: 0, count: 12 + c.skills), high: Array(repeating: 1, count: 12 + c.skills))
        actionSpace = .multiDiscrete([c.difficultyLevels, ContentType.allCases.count])
        mastery = Array(repeating: 0, count: c.skills)
        practised = Array(repeating: false, count: c.skills)
    }

    public var observationDimension: Int { observationSpace.dimension }

    /// The skill being practised: the first not yet mastered (the last once all are).
    public var currentSkill: Int { mastery.firstIndex { $0 < configuration.masteryThreshold } ?? configuration.skills - 1 }

    /// The learner's true mastery (hidden from the agent; for tests and analysis).
    public var currentMastery: [Float] { mastery }
    public var currentFatigue: Float { fatigue }
    /// Tasks left in the session before its length limit.
    public var remainingSessionTasks: Int { configuration.sessionTasks - observed.sessionTask }

    /// The difficulty of level `level` on the mastery scale.
    public func difficulty(_ level: Int) -> Float { Float(level) / Float(configuration.difficultyLevels - 1) }

    /// Probability that the learner completes a task of `level` and `type` now.
    public func completionProbability(level: Int, type: ContentType) -> Float {
        let c = configuration
        let gap = difficulty(level) - mastery[currentSkill]
        let typeFit = type == preferred ? c.preferenceBoost : c.otherTypes
        let p = c.completionBase / (1 + expf((gap - c.stretch) / c.scale)) * (1 - fatigue) * typeFit
        return min(max(p, 0), 1)
    }

    /// A new learner: with a seed, the learner (and the whole episode) is fixed by it.
    public func reset(seed: UInt64?, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed, stream: 0xED0) }
        let c = configuration
        // Prior knowledge: the first skills may be partly known, later ones less.
        let prior = rng.uniform(0, 0.5)
        for s in 0..<c.skills { mastery[s] = min(max(prior * (1 - Float(s) / Float(c.skills)) + rng.uniform(-0.1, 0.1), 0), 0.7) }
        preferred = ContentType(rawValue: rng.nextIndex(below: ContentType.allCases.count))!
        fatigue = 0
        observed.startOver()
        lastEvents.removeAll(keepingCapacity: true)
        for s in practised.indices { practised[s] = false }
        statistics = EducationEpisodeStatistics()
        statistics.sessions = 1
        statistics.initialMastery = mastery.reduce(0, +)
        startSession()
        writeObservation(&observation)
    }

    /// Gives the task `action` = `.multiDiscrete([difficulty level, content type])`.
    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .multiDiscrete(let choice) = action, choice.count == 2 else {
            requirementFailure("EducationSimulator takes .multiDiscrete([difficulty, content type]), got \(action)")
        }
        let c = configuration
        let level = Int(choice[0])
        require((0..<c.difficultyLevels).contains(level), "EducationSimulator: difficulty \(level) is outside 0..<\(c.difficultyLevels)")
        guard let type = ContentType(rawValue: Int(choice[1])) else {
            requirementFailure("EducationSimulator: content type \(choice[1]) is outside 0..<\(ContentType.allCases.count)")
        }
        lastEvents.removeAll(keepingCapacity: true)
        let skill = currentSkill
        practised[skill] = true
        let completed = rng.uniform() < completionProbability(level: level, type: type)
        let gap = difficulty(level) - mastery[skill]
        let challenge = min(0.3 + max(gap, 0) * 4, 1.5)
        var gain = c.learningRate[type.rawValue] * (1 - mastery[skill]) * challenge
        if !completed { gain *= c.failureGain }
        let mastered = mastery[skill] < c.masteryThreshold && mastery[skill] + gain >= c.masteryThreshold
        mastery[skill] = min(mastery[skill] + gain, 1)
        fatigue = min(fatigue * c.fatigueRecovery + c.effort[type.rawValue], 1)
        statistics.tasks += 1
        var reward = c.reward.reward(for: Feedback(.click)) + c.masteryReward * gain
        if completed {
            statistics.completions += 1
            sessionCompletions += 1
            reward += c.reward.reward(for: Feedback(.completion))
        }
        observed.failures = completed ? 0 : observed.failures + 1
        observed.easyStreak = gap < -0.2 ? observed.easyStreak + 1 : 0
        let task = EducationObservedLearner.item(level: level, type: type)
        emit(UserEvent(item: task, event: .impression, timestamp: Int64(statistics.tasks)))
        if completed { emit(UserEvent(item: task, event: .completion, timestamp: Int64(statistics.tasks))) }
        if mastered { emit(UserEvent(item: task, event: .mastery, timestamp: Int64(statistics.tasks))) }
        observed.tasksOnSkill = currentSkill == skill ? observed.tasksOnSkill + 1 : 0
        observed.sessionTask += 1
        var terminated = false, truncated = false
        let early = observed.failures >= c.frustrationLimit || observed.easyStreak >= c.boredomLimit || fatigue > c.fatigueLimit
        let allMastered = mastery.allSatisfy { $0 >= c.masteryThreshold }
        if early || observed.sessionTask >= c.sessionTasks || allMastered {
            // Early only if the session would have gone on: not on its last task, nor with the course mastered.
            if early && observed.sessionTask < c.sessionTasks && !allMastered { statistics.earlyEnds += 1 }
            observed.day += 1
            let returnProbability = c.returnBase + c.returnSlope * Float(sessionCompletions) / Float(observed.sessionTask)
                - (observed.easyStreak >= c.boredomLimit ? c.boredomPenalty : 0)
            if allMastered {
                terminated = true
            } else if observed.day >= c.days {
                truncated = true
            } else if rng.uniform() < returnProbability {
                statistics.sessions += 1
                startSession()
            } else {
                terminated = true
            }
        }
        if terminated || truncated {
            statistics.finalMastery = mastery.reduce(0, +)
            statistics.skillsPractised = practised.filter { $0 }.count
            statistics.courseSkills = c.skills
        }
        writeObservation(&observation)
        return StepResult(reward: reward, terminated: terminated, truncated: truncated)
    }

    private func startSession() {
        (observed.sessionTask, observed.failures, observed.easyStreak, sessionCompletions) = (0, 0, 0, 0)
        fatigue = 0
    }

    private func emit(_ event: UserEvent) {
        observed.record(event)
        lastEvents.append(event)
    }

    private func writeObservation(_ observation: inout Tensor) {
        require(observation.count == observationDimension,
                "EducationSimulator observations have \(observationDimension) elements; got a tensor of shape \(observation.shape)")
        observed.skill = currentSkill
        observed.writeObservation(into: &observation)
    }
}
