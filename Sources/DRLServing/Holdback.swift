import DRLEvaluation
import DRLTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The learning system's long-term safety net: production against a holdback that a frozen first
/// version serves. The guardrail judges a candidate against production during its rollout; once a
/// candidate is promoted on a day's evidence, nothing else compares it with the system it
/// replaced, and a version that a lucky day promoted keeps serving. The holdback compares the
/// users production has served since its promotion with the holdback's, in return per user, and
/// production is rolled back when its users are below beyond doubt. It is looked at every night,
/// so the test is the guardrail's mixture sequential likelihood ratio test (always valid over any
/// number of looks, in the normal approximation), of H₀: production's mean return ≥ the
/// holdback's, with τ a share (`relativeEffectScale`) of the holdback's mean return.
public struct Holdback: Sendable, Equatable {
    /// The chance that production as good as the holdback is ever rolled back is at most 1 − this.
    public var confidence = 0.95
    /// τ over the holdback's mean return: the shortfalls the test is most sensitive to.
    public var relativeEffectScale = 0.1
    /// Users on each side before anything is decided.
    public var minimumUsers = 30

    public init(confidence: Double = 0.95) {
        require(confidence > 0 && confidence < 1, "Holdback: confidence \(confidence) must lie in (0, 1)")
        self.confidence = confidence
    }

    /// With paired users (the same simulated users served by both systems): each user's return
    /// under production less their twin's under the holdback, and the holdback's returns.
    public func verdict(differences: [Double], holdback: [Double]) -> Guardrail.Verdict {
        require(differences.count == holdback.count, "Holdback: \(differences.count) paired differences for \(holdback.count) holdback returns")
        guard differences.count >= minimumUsers else { return .keep }
        let d = sampleMoments(differences)
        return verdict(shortfall: -d.mean, variance: d.variance / Double(differences.count), holdbackMean: sampleMoments(holdback).mean,
                       users: "\(differences.count) paired users")
    }

    /// With separate users: production's users' returns and the holdback's.
    public func verdict(production: [Double], holdback: [Double]) -> Guardrail.Verdict {
        guard production.count >= minimumUsers, holdback.count >= minimumUsers else { return .keep }
        let (p, h) = (sampleMoments(production), sampleMoments(holdback))
        return verdict(shortfall: h.mean - p.mean, variance: p.variance / Double(production.count) + h.variance / Double(holdback.count),
                       holdbackMean: h.mean, users: "\(production.count) users against \(holdback.count)")
    }

    private func verdict(shortfall: Double, variance: Double, holdbackMean: Double, users: String) -> Guardrail.Verdict {
        let scale = relativeEffectScale * abs(holdbackMean)
        guard shortfall > 0, variance > 0, scale > 0 else { return .keep }
        let logRatio = Guardrail.mixtureLogLikelihoodRatio(shortfall: shortfall, variance: variance, effectScale: scale)
        let threshold = -log(1 - confidence)
        guard logRatio >= threshold else { return .keep }
        return .rollBack(reason: "holdback: production's users return \(Guardrail.format(holdbackMean - shortfall)) per user against the frozen "
                         + "version's \(Guardrail.format(holdbackMean)) (\(users)): sequential likelihood ratio "
                         + "\(Guardrail.format(exp(min(logRatio, 700)))) ≥ \(Guardrail.format(exp(threshold))) (confidence \(confidence) over every look)")
    }
}
