import DRLEvaluation
import DRLTensor

/// The decision on a released candidate once its share of users has been served: promoted to
/// production when its users' mean return is above production's users' at `confidence`, rolled
/// back otherwise. The test is one-sided on the difference of the two means, in Welch's normal
/// approximation (unpooled variances): promoted when mean(candidate) − mean(production) ≥
/// z·√(s²_c/n_c + s²_p/n_p), z the standard normal's quantile at `confidence`.
///
/// At 0.5 (the default) z is 0 and the rule is the difference's sign. One day of about a hundred
/// users cannot tell apart policies whose returns differ by less than their spread allows, so
/// under the sign a worse candidate is promoted about as often as a better one that close; a
/// version that a lucky day promoted then serves until something else replaces it. A higher
/// confidence promotes fewer candidates, each on firmer evidence.
public struct Promotion: Sendable, Equatable {
    public var confidence: Double

    public init(confidence: Double = 0.5) {
        require(confidence >= 0.5 && confidence < 1, "Promotion: confidence \(confidence) must lie in [0.5, 1)")
        self.confidence = confidence
    }

    /// Whether to promote the candidate, from each arm's returns per user, and a note with the
    /// figures that decided it (empty arms are not promoted).
    public func verdict(candidate: [Double], production: [Double]) -> (promote: Bool, note: String) {
        guard !candidate.isEmpty, !production.isEmpty else {
            return (false, "no users on \(candidate.isEmpty ? "the candidate's" : "production's") side")
        }
        let (c, p) = (sampleMoments(candidate), sampleMoments(production))
        let difference = c.mean - p.mean
        guard confidence > 0.5 else {
            let note = String(format: "return per user %.3f ", c.mean) + (difference >= 0 ? "against" : "below")
                + String(format: " production's %.3f", p.mean)
            return (difference >= 0, note)
        }
        let error = (c.variance / Double(candidate.count) + p.variance / Double(production.count)).squareRoot()
        let needed = OffPolicyEstimator.normalQuantile(confidence) * error
        let promote = difference >= needed
        let note = String(format: "return per user %.3f against production's %.3f (%d and %d users): a difference of %+.3f, ",
                          c.mean, p.mean, candidate.count, production.count, difference)
            + (promote ? "at least" : "below") + String(format: " the %.3f it needs at confidence %g", needed, confidence)
        return (promote, note)
    }
}
