import DRLAgents
import DRLData
import DRLEvaluation
import DRLServing
import DRLSimulation
import DRLTensor

/// A candidate tutor learnt from a service's own logs: production's two-path actor-critic (actor,
/// critic and optimiser state: a hot start) trained further off-policy by V-trace
/// (`A2CAgent.trainOffPolicy`) on the episodes the served tasks make.
///
/// Each served list (one task) is a step of its learner's episode: the observation is the
/// tutor's, rebuilt from the logged history and course context as in serving
/// (`ServedLogReplay.walk`, `ServableTutor`); the action is the task served (its difficulty and
/// content type); the behaviour probability is the task's logged propensity, whichever version
/// or fallback served it (so every list counts); the reward is the feedback's credited to the
/// list (a completion). A learner's last list in the logs ends their episode. Production's critic
/// learnt the simulator's rewards, which the logs do not show (mastery), so it first learns the
/// logged ones alone (`criticWarmUpSteps`): with 200 warm-up steps rather than 2,000, the
/// candidates of `drlrec loop --env education` raised the completions per task and halved the
/// learners' return (docs/RESULTS.md). V-trace truncates the ratios π/μ, and the actor's loss
/// carries β·KL(production ‖ candidate) over the logged learners' states (`anchorWeight`, the soft
/// freeze): the candidate moves from production where the logged advantages outweigh the
/// divergence, towards π ∝ π_production·exp(A/β). Without it the number of gradient steps was the
/// only bound, and a poor one: even 50 steps made candidates far worse than the production they
/// were learnt from on some nights, and with 200 more than a third were no better, the worst by
/// more than half its return; anchored, four in five were better and none worse by more than about
/// 5% (docs/RESULTS.md, "A tutor anchored to production"). The off-policy gate then judges the candidate.
public struct TutorFineTuning: ServedLogLearning {
    /// 2,000 critic warm-up steps, then 1,000 of the actor and critic, anchored to production with
    /// β = 1 (chosen among 0, 0.3, 1 and 10 by the candidates' quality; see `TutorFineTuning`).
    public var settings: A2CAgent.VTraceSettings = {
        var settings = A2CAgent.VTraceSettings()
        (settings.criticWarmUpSteps, settings.gradientSteps, settings.anchorWeight) = (2000, 1000, 1)
        return settings
    }()
    /// Events kept per learner, as the service kept them.
    public var historyCapacity = 200
    public var seed: UInt64 = 0

    public init() {}

    public func fineTune(production: String, servedBy: [String: String], log: ServedSlateLog, feedback: LoggedInteractions,
                         exploration: SlateExploration, to output: String) throws -> ServedLogLearningSummary {
        let tutor = try ServableTutor.load(checkpoint: production, trainingState: true)
        guard log.contextColumns == tutor.contextColumns else {
            throw ClosedLoopError("the served lists have the context columns \(log.contextColumns); the tutor reads \(tutor.contextColumns)")
        }
        let index = Dictionary(uniqueKeysWithValues: tutor.itemIds.enumerated().map { ($1, Int32($0)) })
        let dimension = tutor.agent.observationDimension
        var observations = [Tensor?](repeating: nil, count: log.slates.count)
        var observation = Tensor(zeros: Shape(dimension))
        try ServedLogReplay.walk(log, feedback: feedback, itemIds: tutor.itemIds, readsImpressions: true, historyCapacity: historyCapacity) {
            (s: Int, events: [UserEvent], _: UserHistories) throws(ClosedLoopError) in
            let list = log.slates[s]
            guard list.items.count == 1, index[list.items[0]] != nil else {
                throw ClosedLoopError("list '\(list.id)' served \(list.items); a tutor's list is one task of the course")
            }
            if let problem = tutor.contextProblem(list.context) { throw ClosedLoopError("list '\(list.id)' was served in a context the tutor cannot read: \(problem)") }
            tutor.observe(history: events, context: list.context, into: &observation)
            observations[s] = observation
        }
        var byUser: [String: [Int]] = [:]
        for s in log.slates.indices { byUser[log.slates[s].user, default: []].append(s) }
        guard !byUser.isEmpty else { throw ClosedLoopError("no served list to learn from") }
        var rows = Tensor(zeros: Shape(log.slates.count, dimension))
        var levels: [Int32] = [], types: [Int32] = [], rewards: [Float] = [], probabilities: [Float] = [], ends: [Bool] = []
        for user in byUser.keys.sorted() {
            let lists = byUser[user]!.sorted { (log.slates[$0].timestamp, $0) < (log.slates[$1].timestamp, $1) }
            for (t, s) in lists.enumerated() {
                let list = log.slates[s], task = EducationObservedLearner.task(index[list.items[0]]!)
                let row = rewards.count
                observations[s]!.withUnsafeBufferPointer { o in for d in 0..<dimension { rows[row, d] = o[d] } }
                levels.append(Int32(task.level))
                types.append(Int32(task.type.rawValue))
                rewards.append(Float(list.rewards.reduce(0, +)))
                probabilities.append(Float(list.propensities[0]))
                ends.append(t == lists.count - 1)
            }
        }
        let episodes = LoggedEpisodes(observations: rows, actions: [levels, types], rewards: rewards, behaviourProbabilities: probabilities,
                                      episodeEnds: ends)
        let summary = try tutor.agent.trainOffPolicy(on: episodes, settings: settings, seed: seed)
        try tutor.agent.save(to: output, labels: tutor.labels)
        return ServedLogLearningSummary(transitions: rewards.count, users: byUser.count, skipped: 0,
                                        meanReward: Double(rewards.reduce(0, +)) / Double(rewards.count), loss: summary.losses.value)
    }
}
