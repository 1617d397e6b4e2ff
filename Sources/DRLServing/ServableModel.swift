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

    /// A score for every item of `itemIds` (higher ranks first) for a user whose history is
    /// `history`, oldest first, in the context `context` (one value per context column).
    func scores(history: [UserEvent], context: [Float]) -> [Float]
}
