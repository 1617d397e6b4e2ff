/// Settings of `EducationSimulator`; every number of the learner model is here.
public struct EducationConfiguration: Sendable {
    /// Skills of the course, practised in order: the current skill is the first not yet mastered.
    public var skills = 8
    /// Difficulty levels of a task, 0 (easiest) to levels − 1, on the same 0...1 scale as mastery.
    public var difficultyLevels = 5
    /// A skill counts as mastered at this level.
    public var masteryThreshold: Float = 0.8
    public var days = 7
    /// Tasks a session allows at most.
    public var sessionTasks = 12
    /// Completion, an item-response curve: p = completionBase·σ((stretch − gap)/scale)·(1 − fatigue)·typeFit
    /// with gap = difficulty − mastery. Easy tasks are almost always completed; a task `stretch`
    /// above the learner, half the time.
    public var completionBase: Float = 0.95, stretch: Float = 0.1, scale: Float = 0.08
    /// Learning gain on completion: rate[type]·(1 − mastery)·(0.3 + gap⁺·4) (challenge teaches more,
    /// capped at 1.5×), and `failureGain`× that on a failed attempt.
    public var learningRate: [Float] = [0.10, 0.16, 0.08]
    public var failureGain: Float = 0.2
    /// Fatigue added per task by type (exercises tire most), and its decay between tasks.
    public var effort: [Float] = [0.05, 0.10, 0.06]
    public var fatigueRecovery: Float = 0.9
    /// The learner's preferred type completes this much more often; others this much less.
    public var preferenceBoost: Float = 1.1, otherTypes: Float = 0.9
    /// A session ends early after this many consecutive failures (too hard) or consecutive tasks
    /// easier than mastery − 0.2 (too easy, boring), or when fatigue passes `fatigueLimit`.
    public var frustrationLimit = 2, boredomLimit = 3
    public var fatigueLimit: Float = 0.7
    /// Probability of coming back the next day: returnBase + returnSlope·(completion rate of the
    /// session), less `boredomPenalty` after a session that ended in boredom.
    public var returnBase: Float = 0.35, returnSlope: Float = 0.6, boredomPenalty: Float = 0.4
    public var reward = RewardMapping.education
    /// Reward per unit of mastery gained (the long-term objective made explicit). At 40 one of
    /// two training seeds lingered on skills its learners already completed, practising fewer
    /// of them than the staircase tutor; at 80 three seeds out of three covered more.
    public var masteryReward: Float = 80

    public init() {}
}
