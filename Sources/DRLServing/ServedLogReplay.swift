import DRLData
import DRLEvaluation

/// The evaluation policy's side of an off-policy estimate on a service's own logs: every served
/// list is recomputed as the service would have served it with `model` and `exploration`, from
/// the history the service would have kept for that user at that moment. The histories are
/// rebuilt by the service's own `UserHistories` from the feedback log, and from the earlier
/// served lists when the model reads them; an event joins a history before a list only if it is
/// logged strictly earlier (a list's own feedback comes after it). Each list's scores go through
/// `ServedListChoice` and the exploration's `marginals`, as a served list's do, so the
/// probabilities are the ones the model's lists would be logged with; with action noise, each
/// list's scores are the model's under the noise drawn from the list's impression id, as served.
public enum ServedLogReplay {
    /// The weights and reward-model terms of every list of `log` for `model`.
    /// - Parameters:
    ///   - model: the policy whose value is estimated.
    ///   - exploration: the exploration it would be served with.
    ///   - log: the served lists, with their logged propensities and rewards.
    ///   - feedback: the feedback log, every row of which enters its user's history.
    ///   - rewardModel: the direct method's model of each (position, item)'s reward; keyed by
    ///     `.policyRank`, its ranks' attractions are fitted here, on `model`'s lists, and the
    ///     data carries the fit (`rankFit`) for a bootstrap to refit.
    ///   - popularityBase: the counts the popularity explorer starts from (the service uses its
    ///     first production version's training counts); default the model's own.
    ///   - historyCapacity: events kept per user, as `drlrec serve --user-events`.
    public static func offPolicyData(of model: any ServableModel, exploration: SlateExploration, log: ServedSlateLog,
                                     feedback: LoggedInteractions, rewardModel: SlateRewardModel, popularityBase: [Float]? = nil,
                                     historyCapacity: Int = 200) throws(ServedLogError) -> SlateOffPolicyData {
        guard log.contextColumns == model.contextColumns else {
            throw ServedLogError("the served lists have the context columns \(log.contextColumns); the model reads \(model.contextColumns)")
        }
        let itemIds = model.itemIds
        let index = Dictionary(uniqueKeysWithValues: itemIds.enumerated().map { ($1, Int32($0)) })
        let attractions = rewardModel.attractions(of: itemIds)
        let base = popularityBase ?? model.itemCounts
        var weights = [[Double]](repeating: [], count: log.slates.count), rewards = weights, modelRewards = weights, directValues = weights
        // With the policy-rank key: each logged item's rank in the policy's list, and each
        // position's probabilities of the list's items.
        var ranks = [[Int?]](repeating: [], count: log.slates.count), rankShares = [[[Double]]](repeating: [], count: log.slates.count)
        try walk(log, feedback: feedback, itemIds: itemIds, readsImpressions: model.readsImpressions, historyCapacity: historyCapacity) {
            (s: Int, events: [UserEvent], histories: UserHistories) throws(ServedLogError) in
            let slate = log.slates[s]
            if let problem = model.contextProblem(slate.context) {
                throw ServedLogError("list '\(slate.id)' was served in a context the model cannot score: \(problem)")
            }
            let scores = model.scores(history: events, context: slate.context, actionNoise: exploration.actionNoise(impression: slate.id))
            guard scores.count == itemIds.count, !scores.contains(where: { $0.isNaN || $0 == .infinity }) else {
                throw ServedLogError("the model's scores for list '\(slate.id)' are not one finite score (or −∞) per item")
            }
            let choice = ServedListChoice(scores: scores, k: slate.items.count, candidates: nil,
                                          seen: model.decidesEligibility ? [] : events, withPool: exploration.epsilon > 0)
            let popularity = exploration.explorer == .popularity ? zip(base, histories.popularity()).map { $0 + $1 } : []
            let marginals = exploration.marginals(greedy: choice.greedy, pool: choice.pool, scores: scores, popularity: popularity)
            for (j, id) in slate.items.enumerated() {
                let position = j + 1
                let target = position <= choice.greedy.count ? index[id].map { marginals.probability(of: $0, at: position) } ?? 0 : 0
                weights[s].append(target / slate.propensities[j])
                rewards[s].append(slate.rewards[j])
                modelRewards[s].append(rewardModel.estimate(item: id, position: position))
                let theta = position <= rewardModel.positionRewards.count ? rewardModel.positionRewards[j] : 0
                // The policy's own items are valued by their attractions here with the item key,
                // by their ranks' (fitted once every list has been seen) with the policy-rank key.
                var attraction = 0.0, greedyShares: [Double] = []
                if position <= choice.greedy.count {
                    if rewardModel.key == .policyRank {
                        greedyShares = choice.greedy.indices.map { marginals.probability(ofGreedy: $0, at: position) }
                    } else {
                        for (i, item) in choice.greedy.enumerated() { attraction += marginals.probability(ofGreedy: i, at: position) * attractions[Int(item)] }
                    }
                    if !marginals.poolProbabilities.isEmpty {
                        for (e, item) in choice.pool.enumerated() { attraction += marginals.poolProbabilities[j][e] * attractions[Int(item)] }
                    }
                }
                directValues[s].append(theta * attraction)
                if rewardModel.key == .policyRank {
                    ranks[s].append(index[id].flatMap { item in choice.greedy.firstIndex(of: item) })
                    rankShares[s].append(greedyShares)
                }
            }
        }
        var rankFit: RankAttractionFit?
        if rewardModel.key == .policyRank {
            let fit = RankAttractionFit(model: rewardModel, ranks: ranks, shares: rankShares, rewards: rewards)
            for s in ranks.indices {
                for j in ranks[s].indices {
                    let theta = j < rewardModel.positionRewards.count ? rewardModel.positionRewards[j] : 0
                    if let rank = ranks[s][j] { modelRewards[s][j] = theta * fit.attractions[rank] }
                    var attraction = 0.0
                    for (i, share) in rankShares[s][j].enumerated() { attraction += share * fit.attractions[i] }
                    directValues[s][j] += theta * attraction
                }
            }
            rankFit = fit
        }
        // Resampled by user: a user's lists share the user's tastes and state.
        var userIndex: [String: Int] = [:]
        let clusters = log.slates.map { slate in
            if let u = userIndex[slate.user] { return u }
            userIndex[slate.user] = userIndex.count
            return userIndex.count - 1
        }
        return SlateOffPolicyData(weights: weights, rewards: rewards, modelRewards: modelRewards, directValues: directValues, clusters: clusters,
                                  rankFit: rankFit)
    }

    /// Calls `body` for every list of `log` in time order with the events the service would have
    /// kept for the list's user just before serving it (items as indices of `itemIds`), and the
    /// histories (for the interaction counts so far). Feedback rows on items outside `itemIds` are
    /// left out; with `readsImpressions`, each list joins its user's history after `body`.
    public static func walk<Failure: Error>(_ log: ServedSlateLog, feedback: LoggedInteractions, itemIds: [String], readsImpressions: Bool,
                                            historyCapacity: Int = 200,
                                            _ body: (_ list: Int, _ history: [UserEvent], _ histories: UserHistories) throws(Failure) -> Void) throws(Failure) {
        let index = Dictionary(uniqueKeysWithValues: itemIds.enumerated().map { ($1, Int32($0)) })
        let histories = UserHistories(capacity: historyCapacity, items: itemIds.count)
        let feedbackOrder = (0..<feedback.count).sorted { (feedback.timestamps[$0], $0) < (feedback.timestamps[$1], $1) }
        let listOrder = log.slates.indices.sorted { (log.slates[$0].timestamp, $0) < (log.slates[$1].timestamp, $1) }
        var next = 0
        for s in listOrder {
            let slate = log.slates[s]
            while next < feedbackOrder.count, feedback.timestamps[feedbackOrder[next]] < slate.timestamp {
                let k = feedbackOrder[next]
                next += 1
                guard let item = index[feedback.itemIds[Int(feedback.items[k])]] else { continue }
                histories.record(user: feedback.userIds[Int(feedback.users[k])],
                                 UserEvent(item: item, event: feedback.events[k], value: feedback.values[k], timestamp: feedback.timestamps[k]),
                                 context: [])
            }
            try body(s, histories.entry(for: slate.user)?.events ?? [], histories)
            if readsImpressions {
                histories.recordImpressions(user: slate.user, items: slate.items.compactMap { index[$0] }, timestamp: slate.timestamp)
            }
        }
    }
}

/// Served logs that cannot be replayed for a model, saying which list and why.
public struct ServedLogError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
