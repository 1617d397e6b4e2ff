import DRLTensor

/// Rewards of one interaction for each party: the user (engagement, from the `RewardMapping`),
/// the platform (revenue) and the advertiser (sponsored exposure and clicks).
public struct ObjectiveRewards: Sendable, Equatable {
    public var user: Float, platform: Float, advertiser: Float

    public init(user: Float = 0, platform: Float = 0, advertiser: Float = 0) {
        (self.user, self.platform, self.advertiser) = (user, platform, advertiser)
    }

    public static func += (a: inout ObjectiveRewards, b: ObjectiveRewards) {
        a.user += b.user
        a.platform += b.platform
        a.advertiser += b.advertiser
    }
}

/// Weights that scalarise the three objectives: r = w_user·r_user + w_platform·r_platform +
/// w_advertiser·r_advertiser.
public struct ObjectiveWeights: Sendable, Equatable {
    public var user: Float, platform: Float, advertiser: Float

    public init(user: Float = 1, platform: Float = 0, advertiser: Float = 0) {
        require(user >= 0 && platform >= 0 && advertiser >= 0, "ObjectiveWeights must be non-negative, got \(user), \(platform), \(advertiser)")
        (self.user, self.platform, self.advertiser) = (user, platform, advertiser)
    }

    public func combine(_ r: ObjectiveRewards) -> Float { user * r.user + platform * r.platform + advertiser * r.advertiser }
}
