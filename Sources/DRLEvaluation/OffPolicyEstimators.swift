import DRLTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// DR with optimistic shrinkage (Su et al., 2020): the residual weighted by λwᵢ / (wᵢ² + λ)
    /// instead of wᵢ, which is close to wᵢ where wᵢ² ≪ λ and small where wᵢ² ≫ λ.
    case dros

    /// The thresholds of switch-DR and DRos: fixed, or chosen for the data by `tuned`.
    public struct Hyperparameters: Sendable, Equatable {
        /// Switch-DR's τ (∞: DR; 0: DM).
        public var switchThreshold: Double
        /// DRos's λ (∞: DR; 0: DM).
        public var shrinkage: Double
        public init(switchThreshold: Double = 100, shrinkage: Double = 100) {
            require(switchThreshold >= 0 && shrinkage >= 0, "OffPolicyEstimator.Hyperparameters: threshold \(switchThreshold) and shrinkage \(shrinkage) must be non-negative")
            (self.switchThreshold, self.shrinkage) = (switchThreshold, shrinkage)
        }
    }

    /// The weight round i's residual gets, or nil for the self-normalised and model-free ones.
    private func residualWeight(_ w: Double, _ h: Hyperparameters) -> Double? {
        switch self {
        case .dr: return w
        case .switchDR: return w <= h.switchThreshold ? w : 0
        case .dros: return h.shrinkage.isInfinite ? w : w == 0 ? 0 : h.shrinkage * w / (w * w + h.shrinkage)
        case .dm: return 0
        case .ipw, .snipw, .sndr: return nil
        }
    }

    /// The estimate over the rounds `subset` (indices may repeat, as a bootstrap draws them).
    public func estimate(_ data: OffPolicyData, over subset: [Int], hyperparameters h: Hyperparameters = .init()) -> Double {
        require(!subset.isEmpty, "OffPolicyEstimator: no rounds to estimate from")
        var model = 0.0, weighted = 0.0, weights = 0.0, residual = 0.0
        for i in subset {
            let w = data.weight(i)
            switch self {
            case .ipw, .snipw:
                weights += w
                weighted += w * Double(data.rewards[i])
            case .sndr:
                weights += w
                model += data.directValue(i)
                residual += w * data.residual(i)
            case .dm, .dr, .switchDR, .dros:
                model += data.directValue(i)
                residual += residualWeight(w, h)! * data.residual(i)
            }
        }
        let n = Double(subset.count)
        switch self {
        case .ipw: return weighted / n
        case .snipw: return weights > 0 ? weighted / weights : 0
        case .sndr: return model / n + (weights > 0 ? residual / weights : 0)
        case .dm, .dr, .switchDR, .dros: return (model + residual) / n
        }
    }

    /// Switch-DR's τ and DRos's λ chosen for `data` by Lepski's method, as SLOPE does (Su,
    /// Srinath and Krishnamurthy, 2020): the candidates run from DR (τ = λ = ∞: no bias, the
    /// largest variance) down to ever smaller thresholds (more of the residuals left to the reward
    /// model: less variance, more bias). Each has an interval, its estimate ± 2·z·σ (σ the
    /// standard error of its per-round values, z the normal quantile at confidence 1 − δ); the one
    /// chosen is the last whose interval still meets every interval before it. Leaving residuals
    /// that carry only noise to the model moves the estimate within the earlier intervals, and is
    /// taken; leaving ones that carry the model's bias moves it out, and stops the search there.
    /// Candidates: ∞, then 24 thresholds spaced geometrically from the largest importance weight
    /// (τ) or its square (λ) down to the smallest.
    public static func tuned(_ data: OffPolicyData, delta: Double = 0.05) -> Hyperparameters {
        let n = data.rounds
        require(n >= 2 && delta > 0 && delta < 1, "OffPolicyEstimator.tuned: \(n) rounds, δ \(delta)")
        let weights = (0..<n).map { data.weight($0) }.filter { $0 > 0 }
        let smallest = weights.min() ?? 0, largest = weights.max() ?? 0
        func descending(_ high: Double, _ low: Double) -> [Double] {
            guard low > 0, high > low else { return [Double.infinity] }
            return [Double.infinity] + (0..<24).map { high * pow(low / high, Double($0) / 23) }
        }
        let z = normalQuantile(1 - delta / 2)
        func chosen(_ estimator: OffPolicyEstimator, _ candidates: [Double], _ make: (Double) -> Hyperparameters) -> Double {
            var low = -Double.infinity, high = Double.infinity, choice = candidates[0]
            for candidate in candidates {
                let h = make(candidate)
                let values = (0..<n).map { data.directValue($0) + estimator.residualWeight(data.weight($0), h)! * data.residual($0) }
                let (mean, variance) = sampleMoments(values)
                let width = 2 * z * (variance / Double(n)).squareRoot()
                (low, high) = (max(low, mean - width), min(high, mean + width))
                guard low <= high else { break }
                choice = candidate
            }
            return choice
        }
        return Hyperparameters(switchThreshold: chosen(.switchDR, descending(largest, smallest)) { .init(switchThreshold: $0, shrinkage: .infinity) },
                               shrinkage: chosen(.dros, descending(largest * largest, smallest * smallest)) { .init(switchThreshold: .infinity, shrinkage: $0) })
    }

    /// The standard normal's quantile at p in (0, 1), by bisection on erfc (to 1e-12).
    public static func normalQuantile(_ p: Double) -> Double {
        var low = -40.0, high = 40.0
        for _ in 0..<200 where high - low > 1e-12 {
            let middle = (low + high) / 2
            if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// The estimate over all rounds with a percentile bootstrap interval over rounds.
    public func estimateWithInterval(_ data: OffPolicyData, resamples: Int = 1_000, confidence: Double = 0.95, seed: UInt64 = 0,
                                     hyperparameters: Hyperparameters = .init()) -> (value: Double, low: Double, high: Double) {
        require(resamples >= 10 && confidence > 0 && confidence < 1, "OffPolicyEstimator: \(resamples) resamples, confidence \(confidence)")
        let n = data.rounds
        let value = estimate(data, over: Array(0..<n), hyperparameters: hyperparameters)
        var rng = RandomGenerator(seed: seed, stream: 0x0FE)
        var draws: [Double] = [], subset = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for k in 0..<n { subset[k] = rng.nextIndex(below: n) }
            draws.append(estimate(data, over: subset, hyperparameters: hyperparameters))
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
                                         seed: UInt64 = 0, hyperparameters: Hyperparameters = .init(),
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
                draws[e].append(estimator.estimate(refitted, over: subset, hyperparameters: hyperparameters))
            }
        }
        return estimators.enumerated().map { e, estimator in
            let (low, high) = percentiles(draws[e], confidence: confidence)
            return (estimator.estimate(data, over: Array(0..<n), hyperparameters: hyperparameters), low, high)
        }
    }

    /// The central `confidence` interval of bootstrap draws by percentiles.
    static func percentiles(_ draws: [Double], confidence: Double) -> (low: Double, high: Double) {
        let sorted = draws.sorted(), tail = (1 - confidence) / 2, last = Double(sorted.count - 1)
        return (sorted[Int((tail * last).rounded())], sorted[Int(((1 - tail) * last).rounded())])
    }
}
