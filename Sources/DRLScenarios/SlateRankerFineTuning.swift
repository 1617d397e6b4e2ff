import DRLAgents
import DRLData
import DRLEvaluation
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// A candidate ranker learnt from a service's own logs: production's list-wise ranker (its actor,
/// critics, temperature and their optimiser states: a hot start) trained further, off-policy, by
/// its own agent's updates on the transitions the served lists make, and nothing else (the
/// simulator's transitions in its checkpoint are dropped).
///
/// Each served list is a transition of its user's episode: the state is the ranker's observation
/// of the user rebuilt from the logged history and context as in serving (`ServedLogReplay.walk`,
/// `ServableSlateRanker.decision`), the action the ranking weights of the version that served
/// the list (recomputed from that version's checkpoint, under the list's action noise when the
/// service explored in the action; lists of other versions and popularity fallbacks are left
/// out), the reward the feedback credited to the list (delayed purchases
/// included, through the list they name), and the next state that of the user's next list; a
/// user's last list in the logs ends their episode. The number of gradient steps bounds how far
/// the candidate moves from production (the soft freeze): the off-policy gate then judges it.
/// With `discountTimeUnit`, a transition is discounted by the time to the user's next list rather
/// than once per list.
public struct SlateRankerFineTuning: ServedLogLearning {
    public var reward: RewardMapping
    public var gradientSteps = 500
    /// Events kept per user, as the service kept them.
    public var historyCapacity = 200
    /// Seconds that one step of the agent's discount γ stands for: a list followed by the user's
    /// next one Δt seconds later is discounted by γ^(Δt / unit), so that a user back next week
    /// counts for less than one who scrolls on. nil: γ per list, as the agent learnt in simulation.
    public var discountTimeUnit: Double?

    public init(reward: RewardMapping) { self.reward = reward }

    /// Trains the ranker at `production` on the served lists and saves the candidate. With action
    /// noise in `exploration`, each list's action is its version's weights under the noise drawn
    /// from the list's impression id, the action that built the list: without it the critics see
    /// only the serving version's own actions and cannot rank others.
    public func fineTune(production: String, servedBy: [String: String], log: ServedSlateLog, feedback: LoggedInteractions,
                         exploration: SlateExploration, to output: String) throws -> ServedLogLearningSummary {
        let learner = try ServableSlateRanker.load(checkpoint: production, trainingState: true)
        var rankers: [String: ServableSlateRanker] = [:]
        for (version, path) in servedBy { rankers[version] = path == production ? learner : try ServableSlateRanker.load(checkpoint: path) }
        // Every list's decision, before any training changes the learner.
        var decisions = [(observation: Tensor, action: Tensor)?](repeating: nil, count: log.slates.count)
        ServedLogReplay.walk(log, feedback: feedback, itemIds: learner.itemIds, readsImpressions: true, historyCapacity: historyCapacity) {
            (s: Int, events: [UserEvent], _: UserHistories) in
            guard let ranker = rankers[log.slates[s].version] else { return }
            decisions[s] = ranker.decision(history: events, context: log.slates[s].context,
                                           actionNoise: exploration.actionNoise(impression: log.slates[s].id))
        }
        var byUser: [String: [Int]] = [:]
        for s in log.slates.indices where decisions[s] != nil { byUser[log.slates[s].user, default: []].append(s) }
        let agent = learner.agent
        guard let replay = agent.checkpointReplay else { throw ClosedLoopError("the \(type(of: agent)) keeps no replay to learn from") }
        replay.removeAll()
        var transitions = 0, total = 0.0
        let gamma = agent.discountFactor
        for user in byUser.keys.sorted() {
            let lists = byUser[user]!.sorted { (log.slates[$0].timestamp, $0) < (log.slates[$1].timestamp, $1) }
            for (t, s) in lists.enumerated() {
                let (observation, action) = decisions[s]!
                let last = t == lists.count - 1
                let reward = log.slates[s].rewards.reduce(0, +)
                var discount = gamma
                if let unit = discountTimeUnit, !last {
                    discount = Float(pow(Double(gamma), Double(log.slates[lists[t + 1]].timestamp - log.slates[s].timestamp) / unit))
                }
                agent.store(observation: observation, action: action, reward: Float(reward),
                            nextObservation: last ? observation : decisions[lists[t + 1]]!.observation, terminated: last, discount: discount)
                transitions += 1
                total += reward
            }
        }
        guard transitions > 0 else { throw ClosedLoopError("no served list of the given versions to learn from") }
        for _ in 0..<gradientSteps { try agent.trainStep() }
        try agent.save(to: output, labels: learner.labels)
        return ServedLogLearningSummary(transitions: transitions, users: byUser.count, skipped: log.slates.count - transitions,
                                        meanReward: total / Double(transitions), loss: agent.lastLoss)
    }
}
