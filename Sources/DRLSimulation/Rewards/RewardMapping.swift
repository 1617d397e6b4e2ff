import DRLData

/// How deep a feedback goes: an immediate signal (a click, a view past the threshold), a deeper
/// commitment (add to cart, like, playlist), or a delayed outcome that arrives steps later and
/// means the most (purchase, share, subscribe, completion).
public enum RewardTier: Int, Sendable, Comparable {
    case none, immediate, deeper, delayed

    public static func < (a: RewardTier, b: RewardTier) -> Bool { a.rawValue < b.rawValue }
}

/// The configurable map from feedback to a scalar reward: a weight per kind, with views counting
/// only past `viewThreshold` of the item and then in proportion to the fraction consumed.
public struct RewardMapping: Sendable, Equatable {
    /// Weight of each kind, indexed by `FeedbackKind.rawValue`.
    public private(set) var weights: [Float]
    /// A `.view` below this fraction earns nothing.
    public var viewThreshold: Float

    /// All weights zero; set them with the subscript.
    public init(viewThreshold: Float = 0.3) {
        weights = Array(repeating: 0, count: FeedbackKind.allCases.count)
        self.viewThreshold = viewThreshold
    }

    public subscript(kind: FeedbackKind) -> Float {
        get { weights[kind.rawValue] }
        set { weights[kind.rawValue] = newValue }
    }

    /// The tier a kind belongs to (fixed by what the kind means, not by its weight).
    public static func tier(of kind: FeedbackKind) -> RewardTier {
        switch kind {
        case .impression, .skip: return .none
        case .click, .view: return .immediate
        case .fullPlay, .addToCart, .wishlist, .like, .addToPlaylist, .rating: return .deeper
        case .purchase, .share, .subscribe, .completion, .mastery: return .delayed
        }
    }

    /// The reward of one feedback.
    public func reward(for feedback: Feedback) -> Float {
        let weight = self[feedback.kind]
        guard feedback.kind == .view else { return weight * feedback.value }
        return feedback.value >= viewThreshold ? weight * feedback.value : 0
    }

    /// E-commerce: click 1, add to cart 3, wishlist 2, purchase 10.
    public static var ecommerce: RewardMapping {
        var m = RewardMapping()
        (m[.click], m[.addToCart], m[.wishlist], m[.purchase]) = (1, 3, 2, 10)
        return m
    }

    /// Video and news feeds: a view earns its watched fraction past 30%; full play 1, like 2,
    /// playlist 2, share 4, subscribe 6; a skip costs 0.1.
    public static var video: RewardMapping {
        var m = RewardMapping(viewThreshold: 0.3)
        (m[.view], m[.fullPlay], m[.like], m[.addToPlaylist], m[.share], m[.subscribe], m[.skip]) = (1, 1, 2, 2, 4, 6, -0.1)
        return m
    }

    /// Education: a started task (click) 0.5, a completed one 5, a skill mastered 40 (about what
    /// the simulator's mastery reward pays over a skill's practice: 80 per unit of mastery).
    public static var education: RewardMapping {
        var m = RewardMapping()
        (m[.click], m[.completion], m[.mastery]) = (0.5, 5, 40)
        return m
    }
}
