import DRLRanking
import DRLTensor
import Foundation

/// Why a model's answer was not used.
public enum ModelFault: String, Error, Sendable, CaseIterable {
    /// The checkpoint could not be loaded (missing, corrupted, or not a next-item model).
    case loadFailed = "load_failed"
    /// Some score was NaN or infinite.
    case nonFiniteScores = "non_finite_scores"
    /// No answer within the latency budget.
    case timeout
}

/// One registered version loaded for serving: a few replicas of the model (a model's layers keep
/// per-call workspace, so each replica serves one request at a time), handed out from a pool.
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
    private let itemIndex: [String: Int32]
    private var free: [NextItemModel]
    private let pool = NSCondition()
    /// How long a version that overran its budget is bypassed.
    public let cooldown: Duration
    private var bypassedUntil: ContinuousClock.Instant?

    public init(version: String, checkpoint: String, replicas: Int, cooldown: Duration = .seconds(10)) throws {
        precondition(replicas > 0, "ServedModel: \(replicas) replicas")
        self.version = version
        self.cooldown = cooldown
        var models = [try NextItemModel.load(from: checkpoint)]
        for _ in 1..<replicas { models.append(try NextItemModel.load(from: checkpoint)) }
        free = models
        itemIds = models[0].itemIds
        contextColumns = models[0].contextColumns
        trainingCounts = models[0].itemCounts
        itemIndex = Dictionary(uniqueKeysWithValues: itemIds.enumerated().map { ($1, Int32($0)) })
    }

    public var itemCount: Int { itemIds.count }
    public func index(of item: String) -> Int32? { itemIndex[item] }

    /// Every item's score for the history and context, or the fault that prevented it. The budget
    /// holds for the scoring alone: waiting for a free replica is load, not a slow model, and does
    /// not trip the breaker.
    public func scores(history: [NextItemModel.HistoryEvent], context: [Float], budget: Duration) -> Result<[Float], ModelFault> {
        if let until = pool.withLock({ bypassedUntil }), ContinuousClock.now < until { return .failure(.timeout) }
        let model = checkOut()
        let start = ContinuousClock.now
        let scores = model.score(history: history[...], context: context).scalars
        checkIn(model)
        let end = ContinuousClock.now
        if end - start > budget {
            pool.withLock { bypassedUntil = end + cooldown }
            return .failure(.timeout)
        }
        return scores.allSatisfy(\.isFinite) ? .success(scores) : .failure(.nonFiniteScores)
    }

    private func checkOut() -> NextItemModel {
        pool.lock()
        defer { pool.unlock() }
        while free.isEmpty { pool.wait() }
        return free.removeLast()
    }

    private func checkIn(_ model: NextItemModel) {
        pool.lock()
        free.append(model)
        pool.signal()
        pool.unlock()
    }
}
