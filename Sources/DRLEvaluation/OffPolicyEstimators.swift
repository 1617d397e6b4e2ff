import DRLTensor

/// Logged bandit feedback and what an off-policy estimate of an evaluation policy needs of it:
/// for each logged round i, the action taken aᵢ, its reward rᵢ and the logging policy's
/// propensity π_b(aᵢ | xᵢ); the evaluation policy's probabilities π_e(a | xᵢ) of every action;
/// and a reward model's estimates q̂(xᵢ, a) of every action (for the model-based estimators).
public struct OffPolicyData: Sendable {
    public let actionCount: Int
    public let actions: [Int32]
    public let rewards: [Float]
    public let propensities: [Float]
    /// [rounds, actions], each row summing to 1.
    public let evaluationProbabilities: Tensor
    /// [rounds, actions].
    public let rewardEstimates: Tensor
    /// Per round, computed once (a bootstrap sums them over thousands of resamples): the importance
    /// weight wᵢ, the direct method's value and the residual rᵢ − q̂(xᵢ, aᵢ).
    private let weights: [Double], directValues: [Double], residuals: [Double]

    public init(actions: [Int32], rewards: [Float], propensities: [Float], evaluationProbabilities: Tensor, rewardEstimates: Tensor) {
        let n = actions.count, k = evaluationProbabilities.shape.matrix.cols
        require(rewards.count == n && propensities.count == n && evaluationProbabilities.shape.matrix.rows == n
                && rewardEstimates.shape == evaluationProbabilities.shape,
                "OffPolicyData: \(n) actions, \(rewards.count) rewards, \(propensities.count) propensities, probabilities \(evaluationProbabilities.shape), estimates \(rewardEstimates.shape)")
        for (i, a) in actions.enumerated() {
            require(a >= 0 && Int(a) < k, "OffPolicyData: round \(i) took action \(a), outside 0..<\(k)")
            require(propensities[i] > 0 && propensities[i] <= 1, "OffPolicyData: round \(i) has propensity \(propensities[i]), outside (0, 1]")
        }
        actionCount = k
        self.actions = actions
        self.rewards = rewards
        self.propensities = propensities
        self.evaluationProbabilities = evaluationProbabilities
        self.rewardEstimates = rewardEstimates
        weights = (0..<n).map { Double(evaluationProbabilities[$0, Int(actions[$0])]) / Double(propensities[$0]) }
        directValues = (0..<n).map { i in
            var total = 0.0
            for a in 0..<k { total += Double(evaluationProbabilities[i, a]) * Double(rewardEstimates[i, a]) }
            return total
        }
        residuals = (0..<n).map { Double(rewards[$0]) - Double(rewardEstimates[$0, Int(actions[$0])]) }
    }

    public var rounds: Int { actions.count }

    /// The importance weight wᵢ = π_e(aᵢ | xᵢ) / π_b(aᵢ | xᵢ).
    public func weight(_ i: Int) -> Double { weights[i] }

    /// The direct method's value of round i: Σₐ π_e(a | xᵢ) q̂(xᵢ, a).
    public func directValue(_ i: Int) -> Double { directValues[i] }

    /// The reward's residual against the reward model, rᵢ − q̂(xᵢ, aᵢ).
    public func residual(_ i: Int) -> Double { residuals[i] }
}

/// The off-policy estimators of the value of an evaluation policy from logged bandit feedback.
public enum OffPolicyEstimator: String, CaseIterable, Sendable {
    /// Direct method: the mean of Σₐ π_e q̂ (exact when the reward model is).
    case dm
    /// Inverse propensity weighting: mean of wᵢ rᵢ (unbiased with correct propensities).
    case ipw
    /// Self-normalised IPW: Σ wᵢ rᵢ / Σ wᵢ (invariant to rescaling all propensities).
    case snipw
    /// Doubly robust: DM plus the weighted residual wᵢ (rᵢ − q̂(xᵢ, aᵢ)).
    case dr
    /// Self-normalised DR: the residual term normalised by Σ wᵢ.
    case sndr
    /// Switch-DR (Wang et al., 2017): DR's residual only where wᵢ ≤ τ, the model alone elsewhere.
    case switchDR = "switch-dr"

    /// The estimate over the rounds `subset` (indices may repeat, as a bootstrap draws them).
    public func estimate(_ data: OffPolicyData, over subset: [Int], switchThreshold: Double = 100) -> Double {
        require(!subset.isEmpty, "OffPolicyEstimator: no rounds to estimate from")
        var model = 0.0, weighted = 0.0, weights = 0.0, residual = 0.0
        for i in subset {
            let w = data.weight(i), r = Double(data.rewards[i])
            weights += w
            weighted += w * r
            switch self {
            case .dm, .dr, .sndr, .switchDR:
                model += data.directValue(i)
                let correction = w * data.residual(i)
                if self != .switchDR || w <= switchThreshold { residual += correction }
            case .ipw, .snipw: break
            }
        }
        let n = Double(subset.count)
        switch self {
        case .dm: return model / n
        case .ipw: return weighted / n
        case .snipw: return weights > 0 ? weighted / weights : 0
        case .dr, .switchDR: return (model + residual) / n
        case .sndr: return model / n + (weights > 0 ? residual / weights : 0)
        }
    }

    /// The estimate over all rounds with a percentile bootstrap interval over rounds.
    public func estimateWithInterval(_ data: OffPolicyData, resamples: Int = 1_000, confidence: Double = 0.95, seed: UInt64 = 0,
                                     switchThreshold: Double = 100) -> (value: Double, low: Double, high: Double) {
        require(resamples >= 10 && confidence > 0 && confidence < 1, "OffPolicyEstimator: \(resamples) resamples, confidence \(confidence)")
        let n = data.rounds
        let value = estimate(data, over: Array(0..<n), switchThreshold: switchThreshold)
        var rng = RandomGenerator(seed: seed, stream: 0x0FE)
        var draws: [Double] = [], subset = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for k in 0..<n { subset[k] = rng.nextIndex(below: n) }
            draws.append(estimate(data, over: subset, switchThreshold: switchThreshold))
        }
        let (low, high) = Self.percentiles(draws, confidence: confidence)
        return (value, low, high)
    }

    /// Estimates over all rounds with percentile bootstrap intervals in which every resample also
    /// refits the reward model: `refit(subset)` returns q̂ for every round of `data` from a model
    /// fitted on the rounds `subset`. The plain bootstrap holds q̂ fixed, so the direct method's
    /// interval leaves out the reward model's own uncertainty (with a deterministic evaluation
    /// policy and a model of the action alone it has no width at all); these intervals hold it.
    /// IPW and SNIPW use no model, and get the plain bootstrap's intervals from the same resamples.
    public static func refittedIntervals(_ estimators: [OffPolicyEstimator], data: OffPolicyData, resamples: Int, confidence: Double = 0.95,
                                         seed: UInt64 = 0, switchThreshold: Double = 100,
                                         refit: ([Int]) throws -> Tensor) rethrows -> [(value: Double, low: Double, high: Double)] {
        require(resamples >= 10 && confidence > 0 && confidence < 1, "OffPolicyEstimator: \(resamples) resamples, confidence \(confidence)")
        let n = data.rounds
        var rng = RandomGenerator(seed: seed, stream: 0x0FE)
        var draws = [[Double]](repeating: [], count: estimators.count), subset = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for k in 0..<n { subset[k] = rng.nextIndex(below: n) }
            let refitted = OffPolicyData(actions: data.actions, rewards: data.rewards, propensities: data.propensities,
                                         evaluationProbabilities: data.evaluationProbabilities, rewardEstimates: try refit(subset))
            for (e, estimator) in estimators.enumerated() {
                draws[e].append(estimator.estimate(refitted, over: subset, switchThreshold: switchThreshold))
            }
        }
        return estimators.enumerated().map { e, estimator in
            let (low, high) = percentiles(draws[e], confidence: confidence)
            return (estimator.estimate(data, over: Array(0..<n), switchThreshold: switchThreshold), low, high)
        }
    }

    /// The central `confidence` interval of bootstrap draws by percentiles.
    static func percentiles(_ draws: [Double], confidence: Double) -> (low: Double, high: Double) {
        let sorted = draws.sorted(), tail = (1 - confidence) / 2, last = Double(sorted.count - 1)
        return (sorted[Int((tail * last).rounded())], sorted[Int(((1 - tail) * last).rounded())])
    }
}
