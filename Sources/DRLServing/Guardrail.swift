import DRLData
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one arm of a rollout has done so far: recommendation lists served, and lists that led to
/// positive feedback on one of their items.
public struct ArmOutcome: Sendable, Equatable {
    public var served = 0, converted = 0
    public init(served: Int = 0, converted: Int = 0) { (self.served, self.converted) = (served, converted) }
    public var rate: Double { served > 0 ? Double(converted) / Double(served) : 0 }

    /// Whether feedback of this kind counts as a list converting (a rating needs 4 stars or more).
    public static func isPositive(_ event: FeedbackKind, value: Float) -> Bool {
        switch event {
        case .impression, .skip: false
        case .rating: value >= 4
        default: true
        }
    }
}

/// The rollout's safety net: the candidate is rolled back when its conversion rate is below the
/// control's by more than `tolerance` (relative), beyond doubt at the given confidence however
/// often it is checked. The server checks at every poll of the registry, so a fixed-sample test
/// taken again and again would raise false alarms far more often than its level says (at every
/// look another chance to cross). The test is therefore sequential: a mixture sequential
/// probability ratio test (Johari, Pekelis and Walsh, "Always valid inference", 2017) of
/// H₀: p_candidate ≥ (1 − tolerance)·p_control. With the shortfall estimate
/// Δ = (1 − tolerance)·p_control − p_candidate, its variance V (unpooled) and a normal mixture of
/// scale τ (`effectScale`) over the shortfall, the likelihood ratio is
/// Λ = √(V / (V + τ²))·exp(Δ²τ² / (2V(V + τ²))), and the candidate is rolled back when Δ > 0 and
/// Λ ≥ 1 / (1 − confidence): the chance that an equal candidate is ever rolled back, over any
/// number of looks, is at most 1 − confidence (in the normal approximation, which needs
/// `minimumServed` lists per arm). The rates are Agresti and Caffo's (one conversion and one
/// miss added to each arm), so an arm at 0% or 100% still has a variance: 0 of 667 against 600 of
/// 600 is rolled back, where the raw rates have no variance at all.
public struct Guardrail: Sendable, Equatable {
    public var tolerance = 0.05
    public var confidence = 0.99
    public var minimumServed = 500
    /// τ, the scale of shortfalls in conversion rate the test is most sensitive to (absolute).
    public var effectScale = 0.05

    public init() {}

    /// Keep the rollout, or roll it back for the reason given.
    public enum Verdict: Sendable, Equatable {
        case keep
        case rollBack(reason: String)
    }

    public func verdict(control: ArmOutcome, candidate: ArmOutcome) -> Verdict {
        guard control.served >= minimumServed, candidate.served >= minimumServed else { return .keep }
        let (pc, pt) = (control.rate, candidate.rate)
        let (nc, nt) = (Double(control.served + 2), Double(candidate.served + 2))
        let (adjustedControl, adjustedCandidate) = (Double(control.converted + 1) / nc, Double(candidate.converted + 1) / nt)
        let scale = 1 - tolerance
        let variance = adjustedCandidate * (1 - adjustedCandidate) / nt + scale * scale * adjustedControl * (1 - adjustedControl) / nc
        let shortfall = scale * adjustedControl - adjustedCandidate
        let logRatio = Self.mixtureLogLikelihoodRatio(shortfall: shortfall, variance: variance, effectScale: effectScale)
        let threshold = -log(1 - confidence)
        guard shortfall > 0, logRatio >= threshold else { return .keep }
        return .rollBack(reason: "guardrail: candidate conversion \(Self.format(pt)) (\(candidate.converted)/\(candidate.served)) "
                         + "is below control \(Self.format(pc)) (\(control.converted)/\(control.served)) by more than \(Self.format(tolerance * 100))%: "
                         + "sequential likelihood ratio \(Self.format(exp(min(logRatio, 700)))) ≥ \(Self.format(exp(threshold))) "
                         + "(confidence \(confidence) over every look)")
    }

    /// log Λ of the mixture sequential test: a shortfall estimate of variance `variance` against a
    /// normal mixture of scale τ = `effectScale` over the shortfall.
    static func mixtureLogLikelihoodRatio(shortfall: Double, variance: Double, effectScale: Double) -> Double {
        let tau2 = effectScale * effectScale
        return 0.5 * log(variance / (variance + tau2)) + shortfall * shortfall * tau2 / (2 * variance * (variance + tau2))
    }

    static func format(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}
