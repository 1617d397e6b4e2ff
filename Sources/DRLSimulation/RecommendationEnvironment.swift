import DRLAgents
import DRLData
import DRLNN
import DRLTensor

/// What a slate builder reads to rank for one user: the catalogue, the platform's rules, the
/// items shown to the user so far and their latest clicks. A simulator is one; a served ranker
/// builds one from a user's logged history (see `EcommerceObservedUser`).
public protocol PlatformView {
    var catalogue: Catalogue { get }
    var constraints: PlatformConstraints { get }
    /// Every item shown to the current user so far in the episode.
    var shownItems: Set<Int32> { get }
    /// The user's last clicked items, oldest first.
    var recentClickedItems: [Int32] { get }
}

/// A simulated platform as a recommender sees it: the catalogue, the platform's rules, and what
/// it knows of the current user.
public protocol RecommendationEnvironment: Environment, PlatformView {
    /// The item the user clicked (watched) at the last step, nil when they clicked none or the
    /// episode has just started.
    var lastClickedItem: Int32? { get }
    /// Items per slate.
    var slateSize: Int { get }
    /// The platform's estimate of each item's quality from past engagement (for example its
    /// historical completion rate), in [0, 1]; nil when the platform has none.
    var itemQualitySignal: [Float]? { get }
    /// What the platform knows of the current user from their first visit (demographics such as
    /// a segment, one-hot); empty when it knows nothing.
    var demographics: [Float] { get }
    /// Where the observation holds the mean embedding of the recent clicks, if it does.
    var clickHistoryObservationRange: Range<Int>? { get }
    /// Items the platform's candidate generator passes a list-wise ranker (`CandidateRetrieval`);
    /// 0 when the ranker scores the whole catalogue.
    var retrievalSize: Int { get }
    /// The candidate generator's popular (and best-rated) items, whatever the user clicked.
    var retrievalStanding: Int { get }
}

extension RecommendationEnvironment {
    public var itemQualitySignal: [Float]? { nil }
    public var demographics: [Float] { [] }
    public var clickHistoryObservationRange: Range<Int>? { nil }
    public var retrievalSize: Int { 0 }
    public var retrievalStanding: Int { 200 }
}

/// A platform that can describe the current user as a sequence observation for a
/// `SequenceStateEncoder`, whatever observation it gives its agent.
public protocol SequenceObservable: AnyObject {
    /// Interactions remembered: the longest history a sequence observation can hold.
    var interactionMemory: Int { get }
    func stateEncoderLayout(historyTokens: Int) -> SequenceStateEncoder.Configuration
    func writeSequenceObservation(historyTokens: Int, into observation: inout Tensor)
}

/// A slate platform whose view of a user can be rebuilt from logged events and the visit's
/// context alone (`EcommerceObservedUser`, `VideoObservedUser`): what a served ranker needs of
/// its simulator. Observing changes nothing in the simulator, so one simulator serves many
/// requests at once.
public protocol ObservableSlatePlatform: RecommendationEnvironment {
    /// The context columns a served ranker takes, in order.
    var contextColumns: [String] { get }
    /// Why `context` is not a visit context of this platform (nil when it is).
    func contextProblem(_ context: [Float]) -> String?
    /// The view of a user with `history` (oldest first) in `context` (free of `contextProblem`):
    /// writes the agent's observation into `observation` (the sequence observation of
    /// `historyTokens` interactions when given) and returns what a slate builder reads.
    func observe(history: [UserEvent], context: [Float], historyTokens: Int?, into observation: inout Tensor) -> ObservedSlateUser
    /// The simulated user's current visit context, one value per context column: what the
    /// platform's client would send with a recommend request.
    var visitContext: [Float] { get }
    /// What the simulated user did at the latest reset or step (impressions, clicks, and the
    /// platform's deeper feedback): what the platform's client would send as feedback.
    var lastEvents: [UserEvent] { get }
}

/// A user as a served slate builder sees them: the platform's catalogue and rules, the items shown
/// to the user so far, their latest clicks and the latest slate; and, for cold-start transfer,
/// whether they came without past clicks and their demographics.
public struct ObservedSlateUser: PlatformView {
    public let catalogue: Catalogue
    public let constraints: PlatformConstraints
    public let shownItems: Set<Int32>
    /// The latest clicks (cold-start transfer may put a new user's seeded profile here).
    public var recentClickedItems: [Int32]
    public let latestSlate: [Int32]
    public let arrivedWithoutClicks: Bool
    public let demographics: [Float]
}
