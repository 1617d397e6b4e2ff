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
/// control's by more than `tolerance` (relative) with the given one-sided confidence. The test is
/// a one-sided z-test of H₀: p_candidate ≥ (1 − tolerance)·p_control with the unpooled standard
/// error, taken once both arms have served `minimumServed` lists. The rates are Agresti and
/// Caffo's (one conversion and one miss added to each arm), so an arm at 0% or 100% still has a
/// standard error: 0 of 667 against 600 of 600 is rolled back, where the raw rates have no
/// variance at all. Repeated looks inflate the false
/// alarm rate somewhat; the tolerance and a high confidence keep an equal candidate running (the
/// tests check that it is not rolled back).
public struct Guardrail: Sendable, Equatable {
    public var tolerance = 0.05
    public var confidence = 0.99
    public var minimumServed = 500

    public init() {}

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
        let z = (scale * adjustedControl - adjustedCandidate) / variance.squareRoot()
        guard z > Self.normalQuantile(confidence) else { return .keep }
        return .rollBack(reason: "guardrail: candidate conversion \(Self.format(pt)) (\(candidate.converted)/\(candidate.served)) "
                         + "is below control \(Self.format(pc)) (\(control.converted)/\(control.served)) by more than \(Self.format(tolerance * 100))%, "
                         + "z = \(Self.format(z)) at confidence \(confidence)")
    }

    private static func format(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }

    /// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        require(p > 0 && p < 1, "normalQuantile: p = \(p)")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -normalQuantile(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
