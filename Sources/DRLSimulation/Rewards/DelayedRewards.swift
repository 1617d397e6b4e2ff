#if canImport(Glibc)
import DRLTensor
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rewards of one session's steps with delayed feedback credited back to the step whose
/// recommendation caused it: a reward r that arrives k steps after step t adds γᵏ·r to step t
/// (a purchase three steps after the click on the item is worth less than one at once, but it is
/// the click's step that earned it). Rewards can only be credited to steps already taken.
public struct DelayedRewardLedger: Sendable {
    public let gamma: Float
    /// The credited reward of each step so far.
    public private(set) var rewards: [Float] = []

    public init(gamma: Float) {
        require(gamma >= 0 && gamma <= 1, "DelayedRewardLedger: gamma \(gamma) must be in [0, 1]")
        self.gamma = gamma
    }

    /// Starts the next step with no reward; returns its index.
    @discardableResult
    public mutating func beginStep() -> Int {
        rewards.append(0)
        return rewards.count - 1
    }

    /// Credits `reward`, which arrived at step `arrival`, to the step `cause` that earned it.
    public mutating func credit(_ reward: Float, causedBy cause: Int, arrivedAt arrival: Int) {
        require(cause >= 0 && cause <= arrival && arrival < rewards.count,
                "DelayedRewardLedger.credit: cause \(cause) and arrival \(arrival) must satisfy 0 ≤ cause ≤ arrival < \(rewards.count) steps")
        rewards[cause] += powf(gamma, Float(arrival - cause)) * reward
    }
}

/// Discounted returns Gₜ = rₜ + γ^(Δₜ/unit)·Gₜ₊₁ where Δₜ is the time between interaction t and the
/// next: with `times` nil every gap is one unit (the usual Σ γᵏ rₜ₊ₖ); with times, a user who
/// comes back after a long pause discounts the future more than one who continues at once.
public func discountedReturns(_ rewards: [Float], times: [Double]? = nil, gamma: Float, timeUnit: Double = 1) -> [Float] {
    require(gamma >= 0 && gamma <= 1, "discountedReturns: gamma \(gamma) must be in [0, 1]")
    require(timeUnit > 0, "discountedReturns: the time unit must be positive, got \(timeUnit)")
    if let times {
        require(times.count == rewards.count, "discountedReturns: \(times.count) times for \(rewards.count) rewards")
        for t in 1..<max(times.count, 1) where times[t] < times[t - 1] {
            requirementFailure("discountedReturns: times must not decrease; interaction \(t) at \(times[t]) s follows \(times[t - 1]) s")
        }
    }
    var returns = rewards
    var running: Float = 0
    for t in stride(from: rewards.count - 1, through: 0, by: -1) {
        let factor: Float
        if let times, t + 1 < times.count {
            factor = Float(pow(Double(gamma), (times[t + 1] - times[t]) / timeUnit))
        } else {
            factor = gamma
        }
        running = rewards[t] + factor * running
        returns[t] = running
    }
    return returns
}
