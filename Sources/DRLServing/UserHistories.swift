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
    /// One user's kept events, latest context and open list.
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

    /// Applies `body` to the user's entry in place (a new user gets an empty one), keeps its latest
    /// `capacity` events and marks it written now; past the cap, forgets the least recently
    /// written tenth. Called under the lock.
    private func update<T>(_ user: String, _ body: (inout Entry) -> T) -> T {
        writes += 1
        let (capacity, now) = (capacity, writes)
        func apply(_ entry: inout Entry) -> T {
            let result = body(&entry)
            if entry.events.count > capacity { entry.events.removeFirst(entry.events.count - capacity) }
            entry.written = now
            return result
        }
        let result = apply(&entries[user, default: Entry()])
        if entries.count > maximumUsers {
            let forget = max(maximumUsers / 10, entries.count - maximumUsers)
            for (id, _) in entries.sorted(by: { $0.value.written < $1.value.written }).prefix(forget) { entries[id] = nil }
        }
        return result
    }

    public var userCount: Int { lock.withLock { entries.count } }

    /// Adds the event to the user's history. When it is positive feedback on an item of the
    /// user's open list, the list is closed and its arm returned (the list converted).
    @discardableResult
    public func record(user: String, _ event: UserEvent, context: [Float]) -> TrafficSplit.Arm? {
        lock.withLock {
            counts[Int(event.item)] += 1
            return update(user) { entry in
                entry.events.append(event)
                entry.context = context
                guard let list = entry.openList, list.items.contains(event.item), ArmOutcome.isPositive(event.event, value: event.value) else {
                    return nil
                }
                entry.openList = nil
                return list.arm
            }
        }
    }

    /// Adds a list served to the user to their history, one `.impression` per item with its
    /// 1-based position as the value (for models that read what was shown; not counted as
    /// interactions).
    public func recordImpressions(user: String, items: [Int32], timestamp: Int64) {
        lock.withLock {
            update(user) { entry in
                for (position, item) in items.enumerated() {
                    entry.events.append(UserEvent(item: item, event: .impression, value: Float(position + 1), timestamp: timestamp))
                }
            }
        }
    }

    /// Remembers the list served to the user, replacing an open one.
    public func recordList(user: String, items: [Int32], arm: TrafficSplit.Arm) {
        lock.withLock { update(user) { $0.openList = (items, arm) } }
    }

    public func entry(for user: String) -> Entry? { lock.withLock { entries[user] } }

    /// Everything the histories hold, for a snapshot: the entries (with their write order), the
    /// items' counts and the number of writes so far.
    public struct Contents: Sendable {
        public var entries: [String: Entry]
        public var counts: [Float]
        public var writes: UInt64
    }

    /// A copy of the contents (copy-on-write: taking it costs nothing until the next write).
    public var contents: Contents { lock.withLock { Contents(entries: entries, counts: counts, writes: writes) } }

    /// Replaces the contents with a snapshot's, whose counts are one per item and whose entries
    /// hold at most `capacity` events each and `maximumUsers` users (checked by the snapshot's reader).
    func restore(_ contents: Contents) {
        require(contents.counts.count == counts.count && contents.entries.count <= maximumUsers,
                "UserHistories.restore: \(contents.counts.count) counts for \(counts.count) items, \(contents.entries.count) users")
        lock.withLock { (entries, counts, writes) = (contents.entries, contents.counts, contents.writes) }
    }

    /// Every item's interaction count so far.
    public func popularity() -> [Float] { lock.withLock { counts } }
}
