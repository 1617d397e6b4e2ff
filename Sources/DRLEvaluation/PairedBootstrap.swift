import DRLTensor

/// One metric of an A/B comparison: both arms' values, their difference (treatment − control),
/// the relative change, and a bootstrap confidence interval of the difference.
public struct MetricComparison: Sendable, Equatable {
    public let metric: String
    public let control: Float, treatment: Float
    public let difference: Float
    /// difference / control (nil when the control's value is 0).
    public let relativeChange: Float?
    public let ciLow: Float, ciHigh: Float
    public let confidence: Float

    /// The interval excludes zero.
    public var isSignificant: Bool { ciLow > 0 || ciHigh < 0 }
}

/// Paired bootstrap over users: both arms ran on the same users (user u with the same seed), so
/// each replicate draws `users` user indices with replacement once and computes the metric of both
/// arms on that draw. Pairing removes the between-user variance that the two arms share. The
/// interval is the percentile interval of the replicates' differences shifted by the bootstrap's
/// estimate of its bias (the replicates' mean minus the estimate). For means and ratios the shift
/// is negligible; for a metric that resampling biases, such as the coverage of a union of users'
/// items (a draw with repeats holds fewer distinct users), it keeps the interval around the
/// estimate instead of around the biased replicates.
public func pairedBootstrap(users: Int, metrics: [String], resamples: Int = 1_000, confidence: Float = 0.95, seed: UInt64,
                            value: (_ metric: Int, _ arm: Int, _ subset: [Int]) -> Float) -> [MetricComparison] {
    require(users > 1 && resamples >= 100 && confidence > 0 && confidence < 1,
            "pairedBootstrap needs at least 2 users, 100 resamples and a confidence in (0, 1); got \(users), \(resamples), \(confidence)")
    var rng = RandomGenerator(seed: seed, stream: 0xB007)
    let everyone = Array(0..<users)
    var differences = [[Float]](repeating: [], count: metrics.count)
    var subset = [Int](repeating: 0, count: users)
    for _ in 0..<resamples {
        for i in 0..<users { subset[i] = rng.nextIndex(below: users) }
        for m in metrics.indices { differences[m].append(value(m, 1, subset) - value(m, 0, subset)) }
    }
    return metrics.indices.map { m in
        let control = value(m, 0, everyone), treatment = value(m, 1, everyone)
        let sorted = differences[m].sorted()
        let tail = (1 - confidence) / 2
        let difference = treatment - control
        let bias = sorted.reduce(0, +) / Float(resamples) - difference
        let low = sorted[Int((tail * Float(resamples - 1)).rounded())] - bias
        let high = sorted[Int(((1 - tail) * Float(resamples - 1)).rounded())] - bias
        return MetricComparison(metric: metrics[m], control: control, treatment: treatment, difference: difference,
                                relativeChange: control == 0 ? nil : difference / abs(control),
                                ciLow: low, ciHigh: high, confidence: confidence)
    }
}
