import DRLData
import DRLTensor
import Foundation

/// Why a model's answer was not used.
public enum ModelFault: String, Error, Sendable, CaseIterable {
    /// The checkpoint could not be loaded (missing, corrupted, or not of a kind served).
    case loadFailed = "load_failed"
    /// Some score was NaN or +∞ (−∞ rules an item out).
    case nonFiniteScores = "non_finite_scores"
    /// The model gave another number of scores than it has items (a model of another kind could
    /// break the contract of `ServableModel`; ranking its answer would go out of bounds).
    case wrongScoreCount = "wrong_score_count"
    /// No answer within the latency budget.
    case timeout
}

/// One registered version loaded for serving: a few replicas of the model (a model may keep
/// per-call workspace, as a next-item model's layers do, so each replica serves one request at a
/// time), handed out from a pool.
///
/// Scoring runs on the calling thread: handing it to another thread and back cost more than the
/// scoring itself (a 10,000-item top-10 answered in 0.5 ms at the median instead of 0.7). The
/// latency budget is therefore a circuit breaker: a scoring that overruns it is discarded (the
/// fallback answers), and the version is then bypassed for `cooldown` before it is tried again,
/// so a slow model costs one slow request per cooldown, not one per request.
public final class ServedModel: @unchecked Sendable {
    public let version: String
    public let itemIds: [String]
    public let contextColumns: [String]
    public let trainingCounts: [Float]
    /// The model's `decidesEligibility` and `readsImpressions`.
    public let decidesEligibility: Bool, readsImpressions: Bool
    private let validator: any ServableModel
    private var free: [any ServableModel]
    private let pool = NSCondition()
    /// How long a version that overran its budget is bypassed.
    public let cooldown: Duration
    private var bypassedUntil: ContinuousClock.Instant?

    /// Loads `replicas` copies of the checkpoint, each as the type its kind names.
    /// - Parameters:
    ///   - version: the registry's id of the version.
    ///   - checkpoint: the path of the version's checkpoint.
    ///   - kinds: the kinds of model that can be loaded.
    ///   - replicas: how many requests the version can score at once.
    ///   - cooldown: how long the version is bypassed after overrunning its latency budget.
    public init(version: String, checkpoint: String, kinds: ServableModelKinds = .standard, replicas: Int,
                cooldown: Duration = .seconds(10)) throws {
        require(replicas > 0, "ServedModel: \(replicas) replicas")
        self.version = version
        self.cooldown = cooldown
        var models = [try kinds.load(checkpoint: checkpoint)]
        for _ in 1..<replicas { models.append(try kinds.load(checkpoint: checkpoint)) }
        free = models
        itemIds = models[0].itemIds
        contextColumns = models[0].contextColumns
        trainingCounts = models[0].itemCounts
        (decidesEligibility, readsImpressions) = (models[0].decidesEligibility, models[0].readsImpressions)
        validator = models[0]
    }

    public var itemCount: Int { itemIds.count }

    /// Why the model cannot score in `context` (see `ServableModel.contextProblem`); it reads
    /// nothing a scoring changes, so it needs no replica.
    public func contextProblem(_ context: [Float]) -> String? { validator.contextProblem(context) }

    /// Every item's score for the history and context, or the fault that prevented it. The budget
    /// holds for the scoring alone: waiting for a free replica is load, not a slow model, and does
    /// not trip the breaker.
    public func scores(history: [UserEvent], context: [Float], actionNoise: ActionNoise? = nil, budget: Duration) -> Result<[Float], ModelFault> {
        if isBypassed { return .failure(.timeout) }
        let model = checkOut()
        let start = ContinuousClock.now
        let scores = model.scores(history: history, context: context, actionNoise: actionNoise)
        checkIn(model)
        if overran(budget, since: start) { return .failure(.timeout) }
        guard scores.count == itemIds.count else { return .failure(.wrongScoreCount) }
        return scores.allSatisfy { $0.isFinite || $0 == -.infinity } ? .success(scores) : .failure(.nonFiniteScores)
    }

    /// The model's `count` best items and the items it would show (`ServableModel.rankedItems`),
    /// handed to `body` while the replica is still checked out (their `score` reads it); nil when
    /// the model does not rank this way. The budget and the checks are those of `scores`.
    public func ranked<Result>(_ count: Int, history: [UserEvent], context: [Float], actionNoise: ActionNoise? = nil, budget: Duration,
                               _ body: (RankedItems) -> Result) -> Swift.Result<Result, ModelFault>? {
        if isBypassed { return .failure(.timeout) }
        let model = checkOut()
        defer { checkIn(model) }
        let start = ContinuousClock.now
        guard let ranked = model.rankedItems(count, history: history, context: context, actionNoise: actionNoise) else { return nil }
        if overran(budget, since: start) { return .failure(.timeout) }
        guard ranked.eligible.capacity == itemIds.count, ranked.items.count == ranked.scores.count,
              ranked.items.allSatisfy({ ranked.eligible.contains($0) }) else { return .failure(.wrongScoreCount) }
        guard ranked.scores.allSatisfy(\.isFinite) else { return .failure(.nonFiniteScores) }
        return .success(body(ranked))
    }

    /// Whether the version is within the cooldown of an overrun.
    private var isBypassed: Bool {
        guard let until = pool.withLock({ bypassedUntil }) else { return false }
        return ContinuousClock.now < until
    }

    /// Whether a scoring that started at `start` overran `budget`; if it did, the version is
    /// bypassed for the cooldown from now.
    private func overran(_ budget: Duration, since start: ContinuousClock.Instant) -> Bool {
        let end = ContinuousClock.now
        guard end - start > budget else { return false }
        pool.withLock { bypassedUntil = end + cooldown }
        return true
    }

    private func checkOut() -> any ServableModel {
        pool.lock()
        defer { pool.unlock() }
        while free.isEmpty { pool.wait() }
        return free.removeLast()
    }

    private func checkIn(_ model: any ServableModel) {
        pool.lock()
        free.append(model)
        pool.signal()
        pool.unlock()
    }
}
