import DRLData

/// Feedback as a client states it, before the service resolves it: the list it names is checked
/// against the lists served, and the context completed from the user's latest one.
public struct FeedbackRequest: Equatable, Sendable {
    public var user: String, item: String, event: FeedbackKind, value: Float
    /// Seconds since 1970; nil when the client gave none (the service's clock then stamps it).
    public var timestamp: Int64?
    public var context: [String: Double]
    /// The served list (`impression_id`) and the item's 1-based position in it.
    public var impression: (id: String, position: Int)?

    public init(user: String, item: String, event: FeedbackKind, value: Float = 1, timestamp: Int64? = nil, context: [String: Double] = [:],
                impression: (id: String, position: Int)? = nil) {
        (self.user, self.item, self.event, self.value, self.timestamp, self.context) = (user, item, event, value, timestamp, context)
        self.impression = impression
    }

    public static func == (a: FeedbackRequest, b: FeedbackRequest) -> Bool {
        (a.user, a.item, a.event, a.value, a.timestamp, a.context) == (b.user, b.item, b.event, b.value, b.timestamp, b.context)
            && a.impression?.id == b.impression?.id && a.impression?.position == b.impression?.position
    }
}

/// The recommendation API as its clients call it: `RecommendationService` in the same process, or
/// `drlrec serve` over HTTP (`RecommendationClient`). Code that drives traffic (the closed loop's
/// simulated users) is written against this, so it runs the same either way.
public protocol RecommendationEndpoint: AnyObject, Sendable {
    /// A list for the request's user (`POST /v1/recommend`).
    func recommend(_ request: RecommendRequest) async throws -> Recommendation
    /// Logs feedback, returning once it is durable (`POST /v1/feedback`).
    func feedback(_ request: FeedbackRequest) async throws
}
