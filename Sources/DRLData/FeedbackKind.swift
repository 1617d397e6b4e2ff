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
    /// A skill mastered (an assessment passed), credited to the learning task that completed it.
    case mastery

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
        case .mastery: return "mastery"
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
