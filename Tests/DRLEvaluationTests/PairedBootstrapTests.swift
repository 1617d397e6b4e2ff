import DRLEvaluation
import DRLTensor
import Testing

@Suite struct PairedBootstrapTests {
    func mean(_ values: [Float], _ subset: [Int]) -> Float { subset.reduce(0) { $0 + values[$1] } / Float(subset.count) }

    /// A constant per-user shift is known exactly once the arms are paired: the interval collapses
    /// onto it, however much the users differ from each other.
    @Test func pairingRemovesSharedVariance() {
        var rng = RandomGenerator(seed: 1)
        let control = (0..<500).map { _ in rng.normal(std: 10) }
        let treatment = control.map { $0 + 0.5 }
        let result = pairedBootstrap(users: 500, metrics: ["m"], seed: 2) { _, arm, subset in mean(arm == 0 ? control : treatment, subset) }[0]
        #expect(abs(result.difference - 0.5) < 1e-4 && abs(result.ciLow - 0.5) < 1e-3 && abs(result.ciHigh - 0.5) < 1e-3)
        #expect(result.isSignificant)
    }

    /// With independent noise the 95% interval holds the true difference in about 95% of
    /// repeated experiments, and excludes 0 when the effect is large against the noise.
    @Test func intervalsCoverTheTrueDifference() {
        var covered = 0
        let experiments = 100
        for e in 0..<experiments {
            var rng = RandomGenerator(seed: UInt64(100 + e))
            let control = (0..<300).map { _ in rng.normal() }
            let treatment = (0..<300).map { _ in 0.2 + rng.normal() }
            let r = pairedBootstrap(users: 300, metrics: ["m"], resamples: 400, seed: UInt64(e)) { _, arm, subset in
                mean(arm == 0 ? control : treatment, subset)
            }[0]
            if r.ciLow <= 0.2 && 0.2 <= r.ciHigh { covered += 1 }
        }
        #expect(covered >= 88 && covered <= 99, "covered \(covered) of \(experiments)")
        var rng = RandomGenerator(seed: 9)
        let a = (0..<2_000).map { _ in rng.normal() }, b = (0..<2_000).map { _ in 0.3 + rng.normal() }
        let strong = pairedBootstrap(users: 2_000, metrics: ["m"], seed: 3) { _, arm, subset in mean(arm == 0 ? a : b, subset) }[0]
        #expect(strong.ciLow > 0 && strong.isSignificant)
        let same = pairedBootstrap(users: 2_000, metrics: ["m"], seed: 3) { _, _, subset in mean(a, subset) }[0]
        #expect(same.difference == 0 && same.ciLow == 0 && same.ciHigh == 0 && !same.isSignificant)
    }

    /// The share of items covered by a union over users is biased downwards in a bootstrap draw
    /// (repeated users add nothing). The interval still holds the estimate: with one arm at full
    /// coverage and the other at about 60%, the interval of the difference surrounds the difference.
    @Test func unionCoverageIntervalHoldsTheEstimate() {
        var rng = RandomGenerator(seed: 4)
        let catalogue = 1_000
        let wide = (0..<400).map { _ in (0..<20).map { _ in rng.nextIndex(below: catalogue) } }
        let narrow = (0..<400).map { _ in (0..<20).map { _ in rng.nextIndex(below: catalogue * 6 / 10) } }
        func coverage(_ items: [[Int]], _ subset: [Int]) -> Float { Float(Set(subset.flatMap { items[$0] }).count) / Float(catalogue) }
        let r = pairedBootstrap(users: 400, metrics: ["coverage"], resamples: 300, seed: 5) { _, arm, subset in
            coverage(arm == 0 ? wide : narrow, subset)
        }[0]
        #expect(r.ciLow <= r.difference && r.difference <= r.ciHigh, "\(r)")
        #expect(r.ciHigh < 0)
    }
}

/// A population report of one metric, the mean of per-user values.
private struct ValuesReport: PopulationReport {
    let policy: String
    let values: [Float]
    var userCount: Int { values.count }
    static let metricNames = ["m"]
    func value(of metric: String, over subset: [Int]) -> Float { subset.reduce(0) { $0 + values[$1] } / Float(subset.count) }
}

@Suite struct SeedComparisonTests {
    /// Treatments that shift every user by 1, 2 and 3: the per-seed differences are exact, their
    /// mean is 2 with a spread of 1, and the interval, from the seeds alone (pairing removes the
    /// users' variance), spans most of the seeds' range and holds the mean. Identical treatments
    /// give one seed's paired interval back, with no spread.
    @Test func theIntervalHoldsTheSeedsAndTheUsers() {
        var rng = RandomGenerator(seed: 4)
        let control = (0..<400).map { _ in rng.normal(std: 5) }
        let shifted = [1, 2, 3].map { shift in ValuesReport(policy: "t\(shift)", values: control.map { $0 + Float(shift) }) }
        let base = ValuesReport(policy: "c", values: control)
        let r = compareAcrossSeeds(control: base, treatments: shifted, resamples: 500, seed: 1)[0]
        #expect(zip(r.differences, [1, 2, 3]).allSatisfy { abs($0 - Float($1)) < 1e-4 })
        #expect(abs(r.meanDifference - 2) < 1e-4 && abs(r.seedSpread - 1) < 1e-4 && r.isConsistent)
        // (Within the range to the bias shift's noise: the seed draws' mean wanders by a few hundredths.)
        #expect(r.ciLow >= 0.9 && r.ciHigh <= 3.1 && r.ciLow < 2 && 2 < r.ciHigh && r.ciHigh - r.ciLow > 0.5, "\(r)")

        let noisy = (0..<400).map { control[$0] + 0.3 + rng.normal() }
        let twice = compareAcrossSeeds(control: base, treatments: [ValuesReport(policy: "a", values: noisy), ValuesReport(policy: "b", values: noisy)],
                                       resamples: 500, seed: 2)[0]
        let once = pairedBootstrap(users: 400, metrics: ["m"], resamples: 500, seed: 2) { _, arm, subset in
            ValuesReport(policy: "", values: arm == 0 ? control : noisy).value(of: "m", over: subset)
        }[0]
        #expect(twice.seedSpread == 0 && abs(twice.meanDifference - once.difference) < 1e-5)
        // The same users' noise: widths agree to the bootstrap's own noise.
        #expect(abs((twice.ciHigh - twice.ciLow) - (once.ciHigh - once.ciLow)) < 0.25 * (once.ciHigh - once.ciLow), "\(twice) against \(once)")
    }

    /// With a control per seed, seed s's difference is treatment s − control s: two seeds whose
    /// controls and treatments both move by the same amount differ by the same shift, no spread.
    @Test func aControlPerSeedPairsWithItsTreatment() {
        var rng = RandomGenerator(seed: 6)
        let base = (0..<300).map { _ in rng.normal() }
        func report(_ shift: Float) -> ValuesReport { ValuesReport(policy: "\(shift)", values: base.map { $0 + shift }) }
        let r = compareAcrossSeeds(controls: [report(0), report(5)], treatments: [report(1), report(6)], resamples: 300, seed: 1)[0]
        #expect(r.differences.allSatisfy { abs($0 - 1) < 1e-4 } && r.seedSpread < 1e-4)
        #expect(abs(r.control - (base.reduce(0, +) / 300 + 2.5)) < 1e-3)
        #expect(abs(r.ciLow - 1) < 1e-3 && abs(r.ciHigh - 1) < 1e-3, "\(r)")
    }
}
