import DRLTensor

/// Gray release's assignment of users to arms: a user goes to the candidate when a stable hash of
/// their id, salted with the rollout's name, falls below the candidate's share. The same user
/// always lands in the same arm of a rollout (no flapping between versions from request to
/// request), different rollouts split independently, and raising the share only moves users from
/// control to candidate, never back.
public struct TrafficSplit: Sendable, Equatable {
    /// The version a user is served by: production (`control`) or the rollout's `candidate`.
    public enum Arm: String, Sendable, Codable, CaseIterable { case control, candidate }

    /// The candidate's share of users, in [0, 1].
    public let candidateShare: Double
    public let salt: String

    public init(candidateShare: Double, salt: String) {
        require(candidateShare >= 0 && candidateShare <= 1, "TrafficSplit: share \(candidateShare) is outside [0, 1]")
        self.candidateShare = candidateShare
        self.salt = salt
    }

    public func arm(for user: String) -> Arm {
        unitHash(user) < candidateShare ? .candidate : .control
    }

    /// The user's position in [0, 1): FNV-1a over the salt and the id, then SplitMix64's finaliser
    /// so that nearby ids spread over the whole range; the top 53 bits make the fraction.
    func unitHash(_ user: String) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in salt.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h = (h ^ 0xff) &* 0x100_0000_01b3  // separator: ("ab", "c") and ("a", "bc") differ
        for byte in user.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return Double(h >> 11) / Double(1 << 53)
    }
}
