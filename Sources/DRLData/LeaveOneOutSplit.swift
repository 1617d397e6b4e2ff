/// A chronological leave-one-out split of logged interactions: for each user, the last
/// interaction (by time; ties keep the log's order) is the test item, the one before it the
/// validation item, and the rest is training. Users with fewer than three interactions only train.
///
/// The split is computed from its `UserSequences` on access and holds nothing per user, so a
/// split of a mapped log costs no memory of its own.
public struct LeaveOneOutSplit: Sendable {
    /// The interactions by user; the row numbers below are its rows.
    public let sequences: UserSequences
    public var users: Int { sequences.userCount }
    public var items: Int { sequences.itemCount }

    public init(_ log: LoggedInteractions) { self.init(UserSequences(log)) }

    public init(_ sequences: UserSequences) { self.sequences = sequences }

    /// One value per user, computed when read.
    public struct PerUser<Element>: RandomAccessCollection, Sendable {
        public let count: Int
        let value: @Sendable (Int) -> Element
        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        public subscript(user: Int) -> Element { value(user) }
    }

    private func perUser<T>(_ value: @escaping @Sendable (Int) -> T) -> PerUser<T> { PerUser(count: users, value: value) }

    /// Each user's training rows, oldest first; the validation row follows them, then the test row.
    public var trainRows: PerUser<Range<Int>> {
        perUser { [sequences] user in
            let rows = sequences.rows(of: user)
            return rows.count >= 3 ? rows.lowerBound..<(rows.upperBound - 2) : rows
        }
    }
    public var validationRow: PerUser<Int?> {
        perUser { [sequences] user in
            let rows = sequences.rows(of: user)
            return rows.count >= 3 ? rows.upperBound - 2 : nil
        }
    }
    public var testRow: PerUser<Int?> {
        perUser { [sequences] user in
            let rows = sequences.rows(of: user)
            return rows.count >= 3 ? rows.upperBound - 1 : nil
        }
    }
    /// The same as items: each user's training items, oldest first, and the held-out items.
    public var train: PerUser<Slice<UnsafeBufferPointer<Int32>>> {
        let rows = trainRows
        return perUser { [sequences] user in sequences.items[rows[user]] }
    }
    public var validation: PerUser<Int32?> {
        let rows = validationRow
        return perUser { [sequences] user in rows[user].map { sequences.items[$0] } }
    }
    public var test: PerUser<Int32?> {
        let rows = testRow
        return perUser { [sequences] user in rows[user].map { sequences.items[$0] } }
    }

    /// The training interactions as a users × items matrix (each a count of 1).
    public func trainingMatrix() -> InteractionMatrix {
        var entries: [(user: Int, item: Int32, count: Float)] = []
        for (user, items) in train.enumerated() { for item in items { entries.append((user, item, 1)) } }
        return InteractionMatrix(users: users, items: items, entries: entries)
    }

    /// Training interactions per item.
    public var trainingCounts: [Float] {
        var counts = [Float](repeating: 0, count: items)
        for row in train { for item in row { counts[Int(item)] += 1 } }
        return counts
    }
}
