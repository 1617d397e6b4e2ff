/// A kind of user feedback on a recommended item, across the three platforms.
public enum FeedbackKind: Int, CaseIterable, Codable, Sendable {
    /// Shown and ignored (the no-click outcome).
    case impression
    /// Skipped after starting (video, news).
    case skip
    case click
    /// Watched or read; the feedback's value is the fraction consumed (0...1).
    case view
    /// Played to the end.
    case fullPlay
    case addToCart
    case wishlist
    case like
    case addToPlaylist
    case purchase
    case share
    case subscribe
    /// A learning task finished.
    case completion
    /// An explicit rating; the feedback's value is the rating given (MovieLens' 1 to 5 stars).
    case rating

    /// The name used in configuration files ("add_to_cart").
    public var name: String {
        switch self {
        case .impression: return "impression"
        case .skip: return "skip"
        case .click: return "click"
        case .view: return "view"
        case .fullPlay: return "full_play"
        case .addToCart: return "add_to_cart"
        case .wishlist: return "wishlist"
        case .like: return "like"
        case .addToPlaylist: return "add_to_playlist"
        case .purchase: return "purchase"
        case .share: return "share"
        case .subscribe: return "subscribe"
        case .completion: return "completion"
        case .rating: return "rating"
        }
    }

    public init?(name: String) {
        guard let kind = FeedbackKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// One piece of feedback: what the user did, a value where the kind has one (the fraction watched
/// for `.view`, 1 otherwise), and when it arrived (interaction index and time in seconds).
public struct Feedback: Sendable, Equatable {
    public var kind: FeedbackKind
    public var value: Float
    public var step: Int
    public var time: Double

    public init(_ kind: FeedbackKind, value: Float = 1, step: Int = 0, time: Double = 0) {
        self.kind = kind
        self.value = value
        self.step = step
        self.time = time
    }
}

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
        case .purchase, .share, .subscribe, .completion: return .delayed
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

    /// Education: a started task (click) 0.5, a completed one 5.
    public static var education: RewardMapping {
        var m = RewardMapping()
        (m[.click], m[.completion]) = (0.5, 5)
        return m
    }
}
