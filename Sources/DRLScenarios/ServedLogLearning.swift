import DRLData
import DRLEvaluation
import DRLServing

/// How a candidate is learnt from a service's own logs (`ClosedLoop`'s nightly learning): the
/// production version trained further, off-policy, on the lists the service served.
public protocol ServedLogLearning: Sendable {
    /// Trains the model at `production` on the served lists and writes the candidate to `output`.
    /// - Parameters:
    ///   - production: the production version's checkpoint, with its training state.
    ///   - servedBy: the checkpoint of each version that served lists, by version id.
    ///   - log: the served lists, with their rewards.
    ///   - feedback: the feedback log, for the histories.
    ///   - exploration: how the service explored when it served them.
    ///   - output: where the candidate's checkpoint is written.
    func fineTune(production: String, servedBy: [String: String], log: ServedSlateLog, feedback: LoggedInteractions,
                  exploration: SlateExploration, to output: String) throws -> ServedLogLearningSummary
}

/// What a learning from served logs learnt from: the transitions (one per served list) and users,
/// the lists left out, the mean reward per list, and the last loss (the critics', or the
/// actor-critic's value loss).
public struct ServedLogLearningSummary: Sendable {
    public var transitions: Int, users: Int
    /// Lists left out: served by a version not given, or by the popularity fallback.
    public var skipped: Int
    public var meanReward: Double
    public var loss: Float?
}
