import DRLRecommend
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
/// Scoring runs on a Dispatch thread, off Swift's cooperative pool, and a request that waits past
/// the latency budget is answered as a timeout while the scoring finishes in the background.
public final class ServedModel: @unchecked Sendable {
    public let version: String
    public let itemIds: [String]
    public let contextColumns: [String]
    public let trainingCounts: [Float]
    private let itemIndex: [String: Int32]
    private var free: [NextItemModel]
    private let pool = NSCondition()

    public init(version: String, checkpoint: String, replicas: Int) throws {
        precondition(replicas > 0, "ServedModel: \(replicas) replicas")
        self.version = version
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

    /// Every item's score for the history and context, or the fault that prevented it.
    public func scores(history: [NextItemModel.HistoryEvent], context: [Float], budget: Duration) async -> Result<[Float], ModelFault> {
        let answer = OneShot<Result<[Float], ModelFault>>()
        return await withCheckedContinuation { continuation in
            answer.install(continuation)
            DispatchQueue.global(qos: .userInitiated).async { [self] in
                let model = checkOut()
                let logits = model.score(history: history[...], context: context)
                let scores = logits.scalars
                checkIn(model)
                answer.resume(scores.allSatisfy(\.isFinite) ? .success(scores) : .failure(.nonFiniteScores))
            }
            let (seconds, attoseconds) = budget.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                answer.resume(.failure(.timeout))
            }
        }
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

/// A continuation resumed by whichever of several racers comes first.
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?

    func install(_ continuation: CheckedContinuation<T, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func resume(_ value: T) {
        let waiting: CheckedContinuation<T, Never>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(returning: value)
    }
}
