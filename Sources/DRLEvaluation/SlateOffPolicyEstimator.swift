import DRLTensor

/// Off-policy estimators of a slate policy's value from served lists, position by position: the
/// independent-position estimators of Li et al. (2018), which assume that the reward at a
/// position depends on the item shown there (not on the rest of the list). For list i and position
/// j, with the logging probability μᵢⱼ of the logged item, the evaluation policy's probability πᵢⱼ
/// of the same item at the same position and the reward rᵢⱼ, the weight is wᵢⱼ = πᵢⱼ / μᵢⱼ.
public enum SlateOffPolicyEstimator: String, CaseIterable, Sendable {
    /// Independent-position IPS: the mean over lists of Σⱼ wᵢⱼ rᵢⱼ (unbiased under the assumption).
    case independentIPS = "iips"
    /// Self-normalised at each position: Σⱼ (Σᵢ wᵢⱼ rᵢⱼ / Σᵢ wᵢⱼ), invariant to a rescaling of
    /// either policy's probabilities at a position.
    case selfNormalizedIPS = "snips"

    /// The estimate over the lists `subset` (indices may repeat, as a bootstrap draws them).
    /// `weights[i][j]` and `rewards[i][j]` are list i's position j.
    public func estimate(weights: [[Double]], rewards: [[Double]], over subset: [Int]) -> Double {
        switch self {
        case .independentIPS:
            var total = 0.0
            for i in subset { for j in weights[i].indices { total += weights[i][j] * rewards[i][j] } }
            return total / Double(max(subset.count, 1))
        case .selfNormalizedIPS:
            var weighted: [Double] = [], mass: [Double] = []
            for i in subset {
                for j in weights[i].indices {
                    if j >= weighted.count { weighted.append(0); mass.append(0) }
                    weighted[j] += weights[i][j] * rewards[i][j]
                    mass[j] += weights[i][j]
                }
            }
            return zip(weighted, mass).reduce(0) { $0 + ($1.1 > 0 ? $1.0 / $1.1 : 0) }
        }
    }

    /// The estimate over all lists with a percentile bootstrap interval over lists.
    public func estimateWithInterval(weights: [[Double]], rewards: [[Double]], resamples: Int = 1_000, confidence: Double = 0.95,
                                     seed: UInt64 = 0) -> (value: Double, low: Double, high: Double) {
        require(weights.count == rewards.count && zip(weights, rewards).allSatisfy { $0.count == $1.count },
                "SlateOffPolicyEstimator: weights and rewards must have the same lists and positions")
        require(resamples >= 10 && confidence > 0 && confidence < 1, "SlateOffPolicyEstimator: \(resamples) resamples, confidence \(confidence)")
        let n = weights.count
        let value = estimate(weights: weights, rewards: rewards, over: Array(0..<n))
        var rng = RandomGenerator(seed: seed, stream: 0x51A7E)
        var draws: [Double] = [], subset = [Int](repeating: 0, count: n)
        for _ in 0..<resamples {
            for k in 0..<n { subset[k] = rng.nextIndex(below: n) }
            draws.append(estimate(weights: weights, rewards: rewards, over: subset))
        }
        let (low, high) = OffPolicyEstimator.percentiles(draws, confidence: confidence)
        return (value, low, high)
    }
}
