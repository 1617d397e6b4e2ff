import DRLTensor

/// A position-based model of the reward of an item at a position of a served list, fitted on
/// served lists: q̂(a, j) = θⱼ ρₐ, where θⱼ is the mean reward logged at position j and ρₐ how much
/// more (or less) item a earned than the positions it was shown at would predict, shrunk towards
/// ρ₀ by `prior` lists' worth of evidence: ρₐ = (Rₐ + α ρ₀) / (Eₐ + α), with Rₐ the rewards logged
/// for a, Eₐ the sum of θⱼ over its appearances and α = prior · mean θ. An item never logged has
/// ρ₀. It reads neither the user nor the context: the doubly robust estimate built on it stays
/// unbiased with correct propensities, and the model only lowers its variance.
///
/// ρ₀ is what an item earns that the logging policy did not choose for its merit: the same ratio
/// over every appearance weighted by 1 / propensity, so that the explored appearances (drawn with
/// small probabilities from the whole catalogue) carry it. Logs without exploration give ρ₀ = 1,
/// the mean logged item. Shrinking towards 1 instead valued the rarely shown items of a policy
/// that leaves the logs' support at the mean reward per list, and the gate released such a
/// policy (a ranker with its action negated, on the video feed).
///
/// Keyed by `.policyRank`, the attraction of an item of the evaluated policy's own list is instead
/// that of its rank there: ρᵢ for the policy's i-th item in the list's state, fitted
/// on the logged appearances of the items the policy ranks i-th for that list's user, shrunk the
/// same way towards ρ₀. It reads the user through the policy: an item earns what
/// the items a personalised policy ranks alike earned when they were shown, where the item key
/// gave an item production seldom showed what a random item earns, which valued a candidate's new,
/// personalised choices at the explorer's level (the video feed's candidates, estimated far below
/// what they then realised). Items outside the policy's list keep their item attraction.
public struct SlateRewardModel: Sendable {
    /// What an item's attraction ρ is keyed by.
    public enum Key: String, Sendable, CaseIterable {
        /// The item itself, whoever it is shown to.
        case item
        /// The evaluated policy's rank of the item in the list's state, for the items of its list.
        case policyRank = "policy-rank"
    }
    /// θⱼ, by 0-based position.
    public let positionRewards: [Double]
    /// ρ₀: what an item earns that the logging policy did not choose, and the attraction of an
    /// item never logged.
    public let unseenAttraction: Double
    private let attraction: [String: Double]
    public let key: Key
    /// α of the shrinkage, in lists' worth of evidence.
    public let prior: Double

    public init(slates: [ServedSlateLog.Slate], prior: Double = 10, key: Key = .item) {
        var totals: [Double] = [], counts: [Double] = []
        for slate in slates {
            for (j, reward) in slate.rewards.enumerated() {
                if j >= totals.count { totals.append(0); counts.append(0) }
                totals[j] += reward
                counts[j] += 1
            }
        }
        let theta = zip(totals, counts).map { $1 > 0 ? $0 / $1 : 0 }
        var earned: [String: Double] = [:], expected: [String: Double] = [:]
        var weightedEarned = 0.0, weightedExpected = 0.0
        for slate in slates {
            for (j, item) in slate.items.enumerated() {
                earned[item, default: 0] += slate.rewards[j]
                expected[item, default: 0] += theta[j]
                weightedEarned += slate.rewards[j] / slate.propensities[j]
                weightedExpected += theta[j] / slate.propensities[j]
            }
        }
        let base = weightedExpected > 0 ? weightedEarned / weightedExpected : 1
        let alpha = prior * (theta.isEmpty ? 0 : theta.reduce(0, +) / Double(theta.count))
        var attraction: [String: Double] = [:]
        for (item, e) in expected where e + alpha > 0 { attraction[item] = (earned[item]! + alpha * base) / (e + alpha) }
        positionRewards = theta
        unseenAttraction = base
        self.attraction = attraction
        self.key = key
        self.prior = prior
    }

    /// ρᵢ of each rank i of an evaluated policy's lists (`key` `.policyRank`), from the logged
    /// appearances of the items it ranks i-th: `ranks[s][j]` is the policy's 0-based rank in list
    /// s's state of the item logged at position j (nil outside its list), `rewards[s][j]` what that
    /// item earned. Each ρᵢ is (Rᵢ + α ρ₀) / (Eᵢ + α) with Rᵢ and Eᵢ as for items: a policy whose
    /// items the logs seldom show is valued at what unchosen items earn. (Shrunk instead towards
    /// the ratio pooled over the policy's ranks, itself read off a few explored appearances for
    /// such a policy, a video ranker with its action negated was estimated at 0.345 [0.341, 0.349]
    /// against production's 0.196, and released.)
    /// With `subset`, only those lists count, as often as they occur in it (a bootstrap's draw).
    public func rankAttractions(ranks: [[Int?]], rewards: [[Double]], listLength: Int, over subset: [Int]? = nil) -> [Double] {
        var earned = [Double](repeating: 0, count: listLength), expected = earned
        for s in subset ?? Array(ranks.indices) {
            for (j, rank) in ranks[s].enumerated() {
                guard let rank, rank < listLength, j < positionRewards.count else { continue }
                earned[rank] += rewards[s][j]
                expected[rank] += positionRewards[j]
            }
        }
        let alpha = prior * (positionRewards.isEmpty ? 0 : positionRewards.reduce(0, +) / Double(positionRewards.count))
        return (0..<listLength).map {
            expected[$0] + alpha > 0 ? (earned[$0] + alpha * unseenAttraction) / (expected[$0] + alpha) : unseenAttraction
        }
    }

    /// ρₐ of each item of `itemIds`, in that order.
    public func attractions(of itemIds: [String]) -> [Double] { itemIds.map { attraction[$0] ?? unseenAttraction } }

    /// q̂(a, j) for the item `item` at the 1-based `position` (0 beyond the longest logged list).
    public func estimate(item: String, position: Int) -> Double {
        position <= positionRewards.count ? positionRewards[position - 1] * (attraction[item] ?? unseenAttraction) : 0
    }
}

/// The rank-keyed model's part of a slate off-policy estimate's terms, kept beside them so that a
/// bootstrap refits the ranks' attractions on each resample: the few appearances of a policy's
/// items that the logs may hold are a source of error the fixed model's interval leaves out. The
/// terms were computed with `attractions`, fitted on every list; each is linear in them (see
/// `SlateOffPolicyEstimator.refittedEstimate`).
public struct RankAttractionFit: Sendable {
    /// The model the ranks' attractions are fitted with (its θⱼ, ρ₀ and prior).
    public let model: SlateRewardModel
    /// Per list and logged position, the evaluated policy's rank of the logged item (nil outside its list).
    public let ranks: [[Int?]]
    /// Per list and position, the probability of the policy's i-th item there, by rank i.
    public let shares: [[[Double]]]
    /// ρᵢ fitted on every list.
    public let attractions: [Double]

    public init(model: SlateRewardModel, ranks: [[Int?]], shares: [[[Double]]], rewards: [[Double]]) {
        require(ranks.count == shares.count && ranks.count == rewards.count,
                "RankAttractionFit: \(ranks.count) lists of ranks, \(shares.count) of shares, \(rewards.count) of rewards")
        for s in ranks.indices {
            require(shares[s].count == ranks[s].count && rewards[s].count == ranks[s].count,
                    "RankAttractionFit: list \(s) has \(ranks[s].count) ranks, \(shares[s].count) positions of shares, \(rewards[s].count) rewards")
        }
        let listLength = shares.lazy.flatMap { $0 }.map(\.count).max() ?? 0
        (self.model, self.ranks, self.shares) = (model, ranks, shares)
        attractions = model.rankAttractions(ranks: ranks, rewards: rewards, listLength: listLength)
    }

    /// ρᵢ fitted on the lists `subset` (with repeats) of `rewards`.
    public func attractions(rewards: [[Double]], over subset: [Int]) -> [Double] {
        model.rankAttractions(ranks: ranks, rewards: rewards, listLength: attractions.count, over: subset)
    }
}
