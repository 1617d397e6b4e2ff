import DRLTensor

/// One metric of an A/B comparison whose treatment was trained with several seeds, each run on the
/// control's population: the difference (treatment − control) of each training seed, their mean,
/// their spread, and an interval of the mean that holds both sources of uncertainty, the users
/// and the training seed.
public struct SeedComparison: Sendable, Equatable {
    public let metric: String
    /// The control's value (the mean over seeds when the control was trained with them too).
    public let control: Float
    /// The treatment's value for each training seed, in the order given.
    public let treatments: [Float]
    /// treatment − control, per training seed.
    public let differences: [Float]
    /// The mean of `differences`: the effect of the training recipe rather than of one agent.
    public let meanDifference: Float
    /// The sample standard deviation of `differences` (0 with one seed).
    public let seedSpread: Float
    /// The interval of `meanDifference` from a two-level bootstrap (see `compareAcrossSeeds`).
    public let ciLow: Float, ciHigh: Float
    public let confidence: Float

    /// The interval excludes zero.
    public var isSignificant: Bool { ciLow > 0 || ciHigh < 0 }
    /// Every training seed's difference has the mean's sign.
    public var isConsistent: Bool { differences.allSatisfy { ($0 > 0) == (meanDifference > 0) && $0 != 0 } }
}

/// Compares treatments trained with different seeds against one control on the same population,
/// metric by metric. The interval comes from a two-level bootstrap: each replicate draws the
/// training seeds with replacement and the users with replacement (one draw of users for every
/// arm: the population is shared), and takes the mean over the drawn seeds of the treatment's
/// value minus the control's on the drawn users. Its percentiles, shifted by the replicates' bias
/// as `pairedBootstrap` shifts them, give the interval. With a handful of seeds the seed level of
/// the bootstrap is coarse (three seeds give ten distinct multisets); the per-seed differences are
/// reported beside it so that a reader can see them.
public func compareAcrossSeeds<Report: PopulationReport>(control: Report, treatments: [Report], metrics: [String] = Report.metricNames,
                                                         resamples: Int = 1_000, confidence: Float = 0.95,
                                                         seed: UInt64 = 0) -> [SeedComparison] {
    compareAcrossSeeds(controls: [control], treatments: treatments, metrics: metrics, resamples: resamples, confidence: confidence, seed: seed)
}

/// The same when the control was trained with the seeds too (an RL agent against the supervised
/// model it builds on, each trained with seed s): seed s's difference is treatment s − control s,
/// and a replicate's drawn seed brings both of its arms. `controls` holds one report per seed, or
/// one for all. `SeedComparison.control` is then the controls' mean.
public func compareAcrossSeeds<Report: PopulationReport>(controls: [Report], treatments: [Report], metrics: [String] = Report.metricNames,
                                                         resamples: Int = 1_000, confidence: Float = 0.95,
                                                         seed: UInt64 = 0) -> [SeedComparison] {
    require(!treatments.isEmpty, "compareAcrossSeeds: no treatment")
    require(controls.count == 1 || controls.count == treatments.count,
            "compareAcrossSeeds: \(controls.count) controls for \(treatments.count) treatments; give one, or one per seed")
    let users = controls[0].userCount
    require(users > 1 && resamples >= 100 && confidence > 0 && confidence < 1,
            "compareAcrossSeeds needs at least 2 users, 100 resamples and a confidence in (0, 1); got \(users), \(resamples), \(confidence)")
    for arm in controls + treatments {
        require(arm.userCount == users, "compareAcrossSeeds: the arms ran \(users) and \(arm.userCount) users; a paired comparison needs the same users")
    }
    func control(_ s: Int) -> Report { controls.count == 1 ? controls[0] : controls[s] }
    for metric in metrics where !Report.metricNames.contains(metric) {
        requirementFailure("compareAcrossSeeds: unknown metric '\(metric)'; the report has \(Report.metricNames)")
    }
    let seeds = treatments.count
    var rng = RandomGenerator(seed: seed, stream: 0x5EED)
    var replicates = [[Float]](repeating: [], count: metrics.count)
    var subset = [Int](repeating: 0, count: users), drawn = [Int](repeating: 0, count: seeds)
    for _ in 0..<resamples {
        for s in 0..<seeds { drawn[s] = rng.nextIndex(below: seeds) }
        for i in 0..<users { subset[i] = rng.nextIndex(below: users) }
        for (m, metric) in metrics.enumerated() {
            // Each drawn seed's difference is evaluated once per replicate however often it was drawn.
            var differences: [Int: Float] = [:]
            var total: Float = 0
            for s in drawn {
                if differences[s] == nil {
                    differences[s] = treatments[s].value(of: metric, over: subset) - control(s).value(of: metric, over: subset)
                }
                total += differences[s]!
            }
            replicates[m].append(total / Float(seeds))
        }
    }
    let tail = (1 - confidence) / 2
    return metrics.enumerated().map { m, metric in
        let bases = (0..<seeds).map { control($0).value(of: metric) }
        let base = controls.count == 1 ? bases[0] : bases.reduce(0, +) / Float(seeds)
        let values = treatments.map { $0.value(of: metric) }
        let differences = zip(values, bases).map { $0 - $1 }
        let mean = differences.reduce(0, +) / Float(seeds)
        let spread = seeds > 1 ? (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(seeds - 1)).squareRoot() : 0
        let sorted = replicates[m].sorted()
        let bias = sorted.reduce(0, +) / Float(resamples) - mean
        return SeedComparison(metric: metric, control: base, treatments: values, differences: differences, meanDifference: mean,
                              seedSpread: spread,
                              ciLow: sorted[Int((tail * Float(resamples - 1)).rounded())] - bias,
                              ciHigh: sorted[Int(((1 - tail) * Float(resamples - 1)).rounded())] - bias,
                              confidence: confidence)
    }
}
