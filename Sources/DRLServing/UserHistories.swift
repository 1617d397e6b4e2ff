import DRLData
import DRLTensor
import Foundation

/// Each user's recent interactions, as the served models read them: the last `capacity` events
/// (items as the model's indices) and the latest context. Feedback updates it and recommend calls
/// read a copy, each under a short lock, so neither waits on the other's work (scoring happens
/// outside the lock). Items' interaction counts are kept beside it for the popularity fallback.
/// At most `maximumUsers` users are kept: past that, the tenth of them written to least recently
/// is forgotten at once (one sort per tenth of the cap new users), so that no stream of new user
/// ids grows the server without bound.
public final class UserHistories: @unchecked Sendable {
    public struct Entry: Sendable {
        public var events: [UserEvent] = []
        public var context: [Float] = []
        /// The latest list served to the user and its arm, until feedback on one of its items.
        public var openList: (items: [Int32], arm: TrafficSplit.Arm)?
        /// When the entry was last written, in writes since start (for forgetting the oldest).
        var written: UInt64 = 0
    }

    public let capacity: Int
    public let maximumUsers: Int
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var counts: [Float]
    private var writes: UInt64 = 0

    public init(capacity: Int, items: Int, maximumUsers: Int = 1_000_000) {
        require(capacity > 0 && maximumUsers > 0, "UserHistories: capacity \(capacity), maximum users \(maximumUsers)")
        self.capacity = capacity
        self.maximumUsers = maximumUsers
        counts = [Float](repeating: 0, count: items)
    }

    /// Stores `entry` for `user` as written now; past the cap, forgets the least recently written
    /// tenth (called under the lock).
    private func store(_ entry: Entry, for user: String) {
        var entry = entry
        writes += 1
        entry.written = writes
        entries[user] = entry
        guard entries.count > maximumUsers else { return }
        let forget = max(maximumUsers / 10, entries.count - maximumUsers)
        for (id, _) in entries.sorted(by: { $0.value.written < $1.value.written }).prefix(forget) { entries[id] = nil }
    }

    public var userCount: Int { lock.withLock { entries.count } }

    /// Adds the event to the user's history. When it is positive feedback on an item of the
    /// user's open list, the list is closed and its arm returned (the list converted).
    @discardableResult
    public func record(user: String, _ event: UserEvent, context: [Float]) -> TrafficSplit.Arm? {
        lock.withLock {
            var entry = entries[user, default: Entry()]
            entry.events.append(event)
            if entry.events.count > capacity { entry.events.removeFirst(entry.events.count - capacity) }
            entry.context = context
            var converted: TrafficSplit.Arm?
            if let list = entry.openList, list.items.contains(event.item), ArmOutcome.isPositive(event.event, value: event.value) {
                converted = list.arm
                entry.openList = nil
            }
            store(entry, for: user)
            counts[Int(event.item)] += 1
            return converted
        }
    }

    /// Adds a list served to the user to their history, one `.impression` per item with its
    /// 1-based position as the value (for models that read what was shown; not counted as
    /// interactions).
    public func recordImpressions(user: String, items: [Int32], timestamp: Int64) {
        lock.withLock {
            var entry = entries[user, default: Entry()]
            for (position, item) in items.enumerated() {
                entry.events.append(UserEvent(item: item, event: .impression, value: Float(position + 1), timestamp: timestamp))
            }
            if entry.events.count > capacity { entry.events.removeFirst(entry.events.count - capacity) }
            store(entry, for: user)
        }
    }

    /// Remembers the list served to the user, replacing an open one.
    public func recordList(user: String, items: [Int32], arm: TrafficSplit.Arm) {
        lock.withLock {
            var entry = entries[user, default: Entry()]
            entry.openList = (items, arm)
            store(entry, for: user)
        }
    }

    public func entry(for user: String) -> Entry? { lock.withLock { entries[user] } }

    /// Every item's interaction count so far.
    public func popularity() -> [Float] { lock.withLock { counts } }
}
