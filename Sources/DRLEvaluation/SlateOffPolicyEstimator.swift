import DRLTensor

/// What an off-policy estimate of a slate policy reads, list by list and position by position:
/// for list i and position j, the importance weight wᵢⱼ = πᵢⱼ / μᵢⱼ of the logged item (the
/// evaluation policy's probability of that item at that position over the logging policy's), the
/// reward rᵢⱼ credited to the position, a reward model's estimate q̂ᵢⱼ for the logged item there,
/// and the model's value of the position under the evaluation policy, Σₐ π(a at j) q̂(a, j).
/// Lists may name the unit they were drawn with (their user): one user's lists share the user's
/// tastes and state, so they are not independent, and an interval resamples whole users.
public struct SlateOffPolicyData: Sendable {
    public let weights: [[Double]]
    public let rewards: [[Double]]
    public let modelRewards: [[Double]]
    public let directValues: [[Double]]
    /// Each list's unit of resampling (nil: every list its own).
    public let clusters: [Int]?
    /// With a reward model keyed by the policy's ranks, its fit: the terms above use its attractions,
    /// and a bootstrap refits them on each resample.
    public let rankFit: RankAttractionFit?

    public init(weights: [[Double]], rewards: [[Double]], modelRewards: [[Double]], directValues: [[Double]], clusters: [Int]? = nil,
                rankFit: RankAttractionFit? = nil) {
        require(weights.count == rewards.count && weights.count == modelRewards.count && weights.count == directValues.count
                    && (clusters.map { $0.count == weights.count } ?? true),
                "SlateOffPolicyData: \(weights.count) lists of weights, \(rewards.count) of rewards, \(modelRewards.count) of model rewards, \(directValues.count) of direct values, \(clusters.map { "\($0.count)" } ?? "no") clusters")
        for i in weights.indices {
            let n = weights[i].count
            require(rewards[i].count == n && modelRewards[i].count == n && directValues[i].count == n,
                    "SlateOffPolicyData: list \(i) has \(n) weights, \(rewards[i].count) rewards, \(modelRewards[i].count) model rewards, \(directValues[i].count) direct values")
            require(weights[i].allSatisfy { $0 >= 0 && $0.isFinite }, "SlateOffPolicyData: list \(i) has a negative or non-finite weight")
        }
        if let rankFit {
            require(rankFit.ranks.count == weights.count && rankFit.ranks.indices.allSatisfy { rankFit.ranks[$0].count == weights[$0].count },
                    "SlateOffPolicyData: the rank model's fit has \(rankFit.ranks.count) lists of ranks for \(weights.count) lists")
        }
        (self.weights, self.rewards, self.modelRewards, self.directValues, self.clusters) = (weights, rewards, modelRewards, directValues, clusters)
        self.rankFit = rankFit
    }

    /// Data for the estimators that read no reward model (IIPS, SNIPS).
    public init(weights: [[Double]], rewards: [[Double]], clusters: [Int]? = nil) {
        let zeros = weights.map { [Double](repeating: 0, count: $0.count) }
        self.init(weights: weights, rewards: rewards, modelRewards: zeros, directValues: zeros, clusters: clusters)
    }

    public var lists: Int { weights.count }
}

/// Off-policy estimators of a slate policy's value (the expected sum of the rewards of a list's
/// positions) from served lists, position by position: the independent-position estimators of
/// Li et al. (2018), which assume that the reward at a position depends on the item shown there,
/// not on the rest of the list. They need only each position's marginal probabilities, which is
/// what DRLRec's impression log keeps (see `SlateExploration`).
public enum SlateOffPolicyEstimator: String, CaseIterable, Sendable {
    /// Independent-position IPS (IPW at each position): the mean over lists of Σⱼ wᵢⱼ rᵢⱼ
    /// (unbiased under the assumption, with correct propensities).
    case independentIPS = "iips"
    /// Self-normalised IPW at each position: Σⱼ (Σᵢ wᵢⱼ rᵢⱼ / Σᵢ wᵢⱼ), invariant to a rescaling
    /// of either policy's probabilities at a position.
    case selfNormalizedIPS = "snips"
    /// Direct method: the mean over lists of Σⱼ Σₐ π(a at j) q̂(a, j), the reward model's value of
    /// the evaluation policy's lists (exact when the model is, biased as it is).
    case directMethod = "dm"
    /// Doubly robust at each position: the direct method plus the weighted residual
    /// Σⱼ wᵢⱼ (rᵢⱼ − q̂ᵢⱼ); unbiased when the propensities are correct, whatever the model, and of
    /// lower variance than IIPS the better the model is.
    case doublyRobust = "dr"
    /// Switch doubly robust at each position (Wang, Agarwal and Dudík, 2017): DR's weighted residual
    /// only where wᵢⱼ ≤ τ (`switchThreshold`), the direct method alone where the weight is larger.
    /// A position whose logged item only exploration across the whole catalogue put there has a
    /// weight of 10⁴ or more, and a handful of them decide DR's estimate and its interval; switch-DR
    /// leaves those positions to the reward model, biased as it is, and keeps the residuals of the
    /// positions the logging policy's own randomness (shuffles, action noise) supports.
    case switchDoublyRobust = "switch-dr"

    /// Switch-DR's τ when none is given, as `OffPolicyEstimator.Hyperparameters`' default.
    public static let defaultSwitchThreshold = 100.0

    /// The estimate over the lists `subset` (indices may repeat, as a bootstrap draws them);
    /// `switchThreshold` is switch-DR's τ (∞: DR; 0: the direct method), read by it alone.
    public func estimate(_ data: SlateOffPolicyData, over subset: [Int], switchThreshold: Double = defaultSwitchThreshold) -> Double {
        let count = Double(max(subset.count, 1))
        switch self {
        case .independentIPS:
            var total = 0.0
            for i in subset { for j in data.weights[i].indices { total += data.weights[i][j] * data.rewards[i][j] } }
            return total / count
        case .selfNormalizedIPS:
            var weighted: [Double] = [], mass: [Double] = []
            for i in subset {
                for j in data.weights[i].indices {
                    if j >= weighted.count { weighted.append(0); mass.append(0) }
                    weighted[j] += data.weights[i][j] * data.rewards[i][j]
                    mass[j] += data.weights[i][j]
                }
            }
            return zip(weighted, mass).reduce(0) { $0 + ($1.1 > 0 ? $1.0 / $1.1 : 0) }
        case .directMethod:
            var total = 0.0
            for i in subset { for value in data.directValues[i] { total += value } }
            return total / count
        case .doublyRobust:
            var total = 0.0
            for i in subset {
                for j in data.weights[i].indices {
                    total += data.directValues[i][j] + data.weights[i][j] * (data.rewards[i][j] - data.modelRewards[i][j])
                }
            }
            return total / count
        case .switchDoublyRobust:
            var total = 0.0
            for i in subset {
                for j in data.weights[i].indices {
                    let w = data.weights[i][j]
                    total += data.directValues[i][j] + (w <= switchThreshold ? w * (data.rewards[i][j] - data.modelRewards[i][j]) : 0)
                }
            }
            return total / count
        }
    }

    /// The estimate over the lists `subset` with the rank-keyed reward model of `data.rankFit`
    /// fitted on those lists alone (the plain `estimate` without one): what a bootstrap resample
    /// is worth when the model is part of the estimator.
    public func refittedEstimate(_ data: SlateOffPolicyData, over subset: [Int], switchThreshold: Double = defaultSwitchThreshold) -> Double {
        guard let fit = data.rankFit else { return estimate(data, over: subset, switchThreshold: switchThreshold) }
        return refittedEstimate(data, fit: fit, slopes: rankSlopes(data, fit: fit, switchThreshold: switchThreshold), over: subset,
                                switchThreshold: switchThreshold)
    }

    /// Every term the model enters is θⱼ times an attraction, or a probability times one, so the
    /// estimate is linear in the ranks' attractions: refitted, it moves by Σᵢ (ρᵢ* − ρᵢ) times the
    /// lists' slopes, and equals `estimate` where the refit gives the same ρ.
    private func refittedEstimate(_ data: SlateOffPolicyData, fit: RankAttractionFit, slopes: [[Double]]?, over subset: [Int],
                                  switchThreshold: Double) -> Double {
        let value = estimate(data, over: subset, switchThreshold: switchThreshold)
        guard let slopes else { return value }
        let refitted = fit.attractions(rewards: data.rewards, over: subset)
        let change = zip(refitted, fit.attractions).map { $0 - $1 }
        var correction = 0.0
        for s in subset { for (i, delta) in change.enumerated() where delta != 0 { correction += slopes[s][i] * delta } }
        return value + correction / Double(max(subset.count, 1))
    }

    /// Per list and rank i, the derivative of the list's term with respect to ρᵢ: the direct
    /// method's Σⱼ θⱼ P(the policy's i-th item at j), less the residual's wⱼ θⱼ where the logged item
    /// is the policy's i-th (where the estimator keeps the residual); nil for the estimators that
    /// read no model.
    private func rankSlopes(_ data: SlateOffPolicyData, fit: RankAttractionFit, switchThreshold: Double) -> [[Double]]? {
        let keepsResidual: (Double) -> Bool
        switch self {
        case .independentIPS, .selfNormalizedIPS: return nil
        case .directMethod: keepsResidual = { _ in false }
        case .doublyRobust: keepsResidual = { _ in true }
        case .switchDoublyRobust: keepsResidual = { $0 <= switchThreshold }
        }
        let theta = fit.model.positionRewards
        return data.weights.indices.map { s in
            var slope = [Double](repeating: 0, count: fit.attractions.count)
            for (j, w) in data.weights[s].enumerated() {
                let t = j < theta.count ? theta[j] : 0
                for (i, share) in fit.shares[s][j].enumerated() { slope[i] += t * share }
                if let rank = fit.ranks[s][j], keepsResidual(w) { slope[rank] -= w * t }
            }
            return slope
        }
    }

    /// The estimate over all lists with a percentile bootstrap interval: over lists, or with
    /// `data.clusters` over the clusters, each drawn with all its lists. With `data.rankFit`, each
    /// resample's estimate refits the ranks' attractions (`refittedEstimate`).
    public func estimateWithInterval(_ data: SlateOffPolicyData, resamples: Int = 1_000, confidence: Double = 0.95,
                                     seed: UInt64 = 0, switchThreshold: Double = defaultSwitchThreshold) -> (value: Double, low: Double, high: Double) {
        require(resamples >= 10 && confidence > 0 && confidence < 1, "SlateOffPolicyEstimator: \(resamples) resamples, confidence \(confidence)")
        require(switchThreshold >= 0, "SlateOffPolicyEstimator: switch-DR's threshold \(switchThreshold) must be non-negative")
        require(data.lists > 0, "SlateOffPolicyEstimator: no lists to estimate from")
        let n = data.lists
        let value = estimate(data, over: Array(0..<n), switchThreshold: switchThreshold)
        // The units drawn: each list alone, or each cluster's lists.
        let units = data.clusters.map { clusters in Dictionary(grouping: 0..<n) { clusters[$0] }.sorted { $0.key < $1.key }.map(\.value) }
        let slopes = data.rankFit.flatMap { rankSlopes(data, fit: $0, switchThreshold: switchThreshold) }
        var rng = RandomGenerator(seed: seed, stream: 0x51A7E)
        var draws: [Double] = [], subset = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            if let units {
                subset.removeAll(keepingCapacity: true)
                for _ in units.indices { subset += units[rng.nextIndex(below: units.count)] }
            } else {
                for k in 0..<n { subset[k] = rng.nextIndex(below: n) }
            }
            if let fit = data.rankFit {
                draws.append(refittedEstimate(data, fit: fit, slopes: slopes, over: subset, switchThreshold: switchThreshold))
            } else {
                draws.append(estimate(data, over: subset, switchThreshold: switchThreshold))
            }
        }
        let (low, high) = OffPolicyEstimator.percentiles(draws, confidence: confidence)
        return (value, low, high)
    }
}
