import DRLTensor
import Testing
@testable import DRLServing

@Suite struct PromotionTests {
    /// At 0.5 the rule is the sign of the difference of the means (a tie promotes), with the
    /// loop's notes; at 0.95 the difference must reach 1.645 standard errors of Welch's
    /// difference, computed here by hand: 100 candidate users at 90 ± 30 (the first half 60, the
    /// second 120) and 200 production users at 80 ± 20.
    @Test func theSignAtOneHalfAndWelchsOneSidedTestAbove() {
        let candidate = (0..<100).map { $0 < 50 ? 60.0 : 120.0 }, production = (0..<200).map { $0 < 100 ? 60.0 : 100.0 }
        let sign = Promotion()
        #expect(sign.verdict(candidate: candidate, production: production) == (true, "return per user 90.000 against production's 80.000"))
        #expect(sign.verdict(candidate: production, production: candidate) == (false, "return per user 80.000 below production's 90.000"))
        #expect(sign.verdict(candidate: [5, 7], production: [6]).promote, "a tie promotes")

        // s²_c = 30²·100/99, s²_p = 20²·200/199; the error √(s²_c/100 + s²_p/200).
        let error = (900.0 * 100 / 99 / 100 + 400.0 * 200 / 199 / 200).squareRoot()
        let needed = 1.6448536269514722 * error
        #expect(abs(needed - 5.4803) < 1e-3)
        let sure = Promotion(confidence: 0.95)
        let (promote, note) = sure.verdict(candidate: candidate, production: production)
        #expect(promote, "a difference of 10 against the \(needed) it needs")
        #expect(note.contains("(100 and 200 users)") && note.contains("+10.000") && note.contains(String(format: "%.3f", needed)), "\(note)")
        // 5 above: promoted on the sign, not at 0.95.
        let closer = candidate.map { $0 - 5 }
        #expect(sign.verdict(candidate: closer, production: production).promote)
        let refused = sure.verdict(candidate: closer, production: production)
        #expect(!refused.promote && refused.note.contains("below the"), "\(refused.note)")
    }

    /// Candidates as good as production, a hundred users a night against two hundred: the sign
    /// promotes about half of them, a confidence c about 1 − c; candidates 15 better (half a
    /// user's spread) are promoted at 0.95 in most nights. Empty arms are never promoted.
    @Test func theFalsePromotionRateFollowsTheConfidence() {
        var rng = RandomGenerator(seed: 7)
        func promoted(_ rule: Promotion, gain: Float, nights: Int = 2000) -> Double {
            var count = 0
            for _ in 0..<nights {
                let candidate = (0..<100).map { _ in Double(rng.normal(mean: 80 + gain, std: 30)) }
                let production = (0..<200).map { _ in Double(rng.normal(mean: 80, std: 30)) }
                if rule.verdict(candidate: candidate, production: production).promote { count += 1 }
            }
            return Double(count) / Double(nights)
        }
        #expect(abs(promoted(Promotion(), gain: 0) - 0.5) < 0.05)
        #expect(abs(promoted(Promotion(confidence: 0.8), gain: 0) - 0.2) < 0.04)
        #expect(abs(promoted(Promotion(confidence: 0.95), gain: 0) - 0.05) < 0.02)
        #expect(promoted(Promotion(confidence: 0.95), gain: 15) > 0.9)
        #expect(!Promotion().verdict(candidate: [], production: [1, 2]).promote)
        #expect(!Promotion(confidence: 0.9).verdict(candidate: [3, 4], production: []).promote)
    }
}
