import DRLData

/// What the service needs of a recommender to serve it, whatever it is underneath (a next-item
/// model, an RL ranker, a policy): its item catalogue and context columns, to check requests and
/// to refuse a version that does not fit the served ones; how often it saw each item, for the
/// popularity fallback; a score for every item; and a way to load it from a registered checkpoint.
///
/// A model may keep per-call workspace: `ServedModel` loads replicas and gives each to one request
/// at a time, so `scores` need not be safe to call concurrently. Its type, though, crosses threads:
/// `ServableModelKinds` holds it in the service's configuration (hence `SendableMetatype`).
public protocol ServableModel: SendableMetatype {
    /// The value of the `drlrec.model` metadata entry that marks this type's checkpoints; loading
    /// a registered version picks the type by it (see `ServableModelKinds`).
    static var checkpointKind: String { get }

    /// The model saved at `path`, ready to score.
    static func load(checkpoint path: String) throws -> Self

    /// The catalogue the model ranks, in the order of its scores.
    var itemIds: [String] { get }
    /// The context values `scores` takes, in this order.
    var contextColumns: [String] { get }
    /// How often each item occurred in the data the model learnt from (zeros when it does not
    /// know); the popularity fallback starts from these counts.
    var itemCounts: [Float] { get }

    /// Whether the model decides itself which items a user may be shown: its scores are −∞ for
    /// the others, and the service then leaves out nothing of its own (by default it leaves out
    /// the items of the user's history). A policy trained to repeat or not repeat items, as the
    /// simulators' rankers are, is served as it was trained.
    var decidesEligibility: Bool { get }
    /// Whether the model reads the lists served to the user: the service then keeps each list it
    /// serves in the user's history, as `.impression` events whose value is the 1-based position.
    var readsImpressions: Bool { get }

    /// Why `context` is not one the model can score in (nil when it can): a field outside the
    /// values the model knows, named with the values it takes. It reads no per-call workspace: the
    /// service calls it on a replica that may be scoring at the same time.
    func contextProblem(_ context: [Float]) -> String?

    /// A score for every item of `itemIds` (higher ranks first; −∞ for an item the model would not
    /// show) for a user whose history is `history`, oldest first, in the context `context` (one
    /// value per context column, free of `contextProblem`).
    func scores(history: [UserEvent], context: [Float]) -> [Float]

    /// The scores with the model's action perturbed by `actionNoise` (see `ActionNoise`), for a
    /// model that acts before it scores; nil noise gives `scores(history:context:)`. A model
    /// without an action of its own ignores the noise (the default).
    func scores(history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> [Float]

    /// The `count` best items for the request and the items the model would show, when the
    /// model can give them without an exact score for every item (nil otherwise, the default:
    /// the service then ranks `scores`). They must be what `scores` gives for the same request:
    /// its `count` best items in order (ties to the lower index, only items above −∞) with
    /// their scores, and the items above −∞. A model that knows its best items without ranking
    /// every score (a list-wise ranker builds its slate from a shortlist) spares the service a
    /// copy of every score, a second ranking and a pool the catalogue's size.
    func rankedItems(_ count: Int, history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> RankedItems?
}

/// A model's best items for one request (see `ServableModel.rankedItems`).
public struct RankedItems {
    /// The best items, best first, and their scores.
    public var items: [Int32], scores: [Float]
    /// Every item the model would show (its score above −∞).
    public var eligible: ItemSet
    /// The score `scores` gives an item in the same request, computed on demand. It reads the
    /// model's workspace: valid until the model's next call.
    public var score: (Int32) -> Float

    public init(items: [Int32], scores: [Float], eligible: ItemSet, score: @escaping (Int32) -> Float) {
        self.items = items
        self.scores = scores
        self.eligible = eligible
        self.score = score
    }
}

extension ServableModel {
    public var decidesEligibility: Bool { false }
    public var readsImpressions: Bool { false }
    public func contextProblem(_ context: [Float]) -> String? { nil }
    public func scores(history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> [Float] {
        scores(history: history, context: context)
    }
    public func rankedItems(_ count: Int, history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> RankedItems? { nil }
}
