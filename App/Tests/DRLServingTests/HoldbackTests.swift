import DRLTensor
import Testing
@testable import DRLServing

@Suite struct HoldbackTests {
    /// Production's users return 80 ± 30 against the holdback's 80 ± 30 (as a promoted version
    /// as good as the frozen one), 100 more users a night for 14 nights, looked at every night:
    /// the sequential test rolls back at most about 1 − confidence of such runs, paired or not;
    /// production 10 below (the education loop's failure: a version a lucky day promoted) is
    /// rolled back in nearly every run, within a few nights when paired.
    @Test func nightlyLooksKeepTheFalseAlarmRateAndCatchAWorseProduction() {
        let holdback = Holdback(confidence: 0.95)
        func runs(shortfall: Float, paired: Bool, seed: UInt64) -> (rolledBack: Int, medianNight: Int) {
            var rng = RandomGenerator(seed: seed)
            var nights: [Int] = []
            for _ in 0..<300 {
                var production: [Double] = [], frozen: [Double] = []
                for night in 1...14 {
                    for _ in 0..<100 {
                        // A twin shares most of a user's variation; separate users share none.
                        let user = rng.normal(mean: 80, std: 28)
                        let ownFrozen = paired ? user + rng.normal(std: 10) : rng.normal(mean: 80, std: 30)
                        frozen.append(Double(ownFrozen))
                        production.append(Double(user - shortfall + rng.normal(std: 10)))
                    }
                    let verdict = paired ? holdback.verdict(differences: zip(production, frozen).map { $0 - $1 }, holdback: frozen)
                                         : holdback.verdict(production: production, holdback: frozen)
                    if case .rollBack = verdict { nights.append(night); break }
                }
            }
            return (nights.count, nights.isEmpty ? 0 : nights.sorted()[nights.count / 2])
        }
        for paired in [true, false] {
            let equal = runs(shortfall: 0, paired: paired, seed: paired ? 31 : 32)
            #expect(equal.rolledBack <= 15, "paired \(paired): \(equal.rolledBack) of 300 runs of an equal production were rolled back")
            let worse = runs(shortfall: 10, paired: paired, seed: paired ? 33 : 34)
            #expect(worse.rolledBack >= 285, "paired \(paired): only \(worse.rolledBack) of 300 runs of a worse production were rolled back")
            if paired { #expect(worse.medianNight <= 2, "a worse production served \(worse.medianNight) nights at the median") }
        }
    }

    /// Too few users decide nothing; a production above the holdback is kept however sure it is;
    /// the reason gives both returns, the users and the test's numbers.
    @Test func aVerdictNeedsUsersAndAShortfallAndSaysWhy() {
        let holdback = Holdback(confidence: 0.95)
        let few = [Double](repeating: -20, count: holdback.minimumUsers - 1)
        #expect(holdback.verdict(differences: few, holdback: few.map { _ in 80 }) == .keep)
        var rng = RandomGenerator(seed: 5)
        let above = (0..<500).map { _ in Double(rng.normal(mean: 5, std: 3)) }
        #expect(holdback.verdict(differences: above, holdback: above.map { _ in 80 }) == .keep)
        let below = above.map { -$0 }
        guard case .rollBack(let reason) = holdback.verdict(differences: below, holdback: below.map { _ in 80 }) else {
            Issue.record("a production 5 below the holdback over 500 paired users was kept")
            return
        }
        #expect(reason.contains("against the frozen version's 80.0") && reason.contains("500 paired users") && reason.contains("confidence 0.95"), "\(reason)")
    }
}
