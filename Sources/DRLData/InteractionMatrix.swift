import DRLTensor

/// Implicit feedback as a sparse users × items matrix in compressed rows: for each user the items
/// they interacted with and how often (duplicates of one pair are summed).
public struct InteractionMatrix: Sendable {
    public let users: Int, items: Int
    /// Row u's entries are at rowStart[u] ..< rowStart[u + 1] of `columns` and `values`.
    public let rowStart: [Int]
    public let columns: [Int32]
    public let values: [Float]

    /// The matrix of `entries` (user, item, count). Users and items must lie in 0..<users and
    /// 0..<items and counts must be positive and finite.
    public init(users: Int, items: Int, entries: [(user: Int, item: Int32, count: Float)]) {
        require(users > 0 && items > 0, "InteractionMatrix needs at least one user and one item, got \(users) × \(items)")
        for (index, entry) in entries.enumerated() {
            require((0..<users).contains(entry.user) && (0..<Int32(items)).contains(entry.item),
                    "InteractionMatrix: entry \(index) is (user \(entry.user), item \(entry.item)), outside \(users) users × \(items) items")
            require(entry.count > 0 && entry.count.isFinite, "InteractionMatrix: entry \(index) has count \(entry.count); counts must be positive and finite")
        }
        self.users = users
        self.items = items
        var perUser = [[Int32: Float]](repeating: [:], count: users)
        for entry in entries { perUser[entry.user][entry.item, default: 0] += entry.count }
        var starts = [0], columns: [Int32] = [], values: [Float] = []
        for row in perUser {
            for item in row.keys.sorted() {
                columns.append(item)
                values.append(row[item]!)
            }
            starts.append(columns.count)
        }
        rowStart = starts
        self.columns = columns
        self.values = values
    }

    public var entryCount: Int { columns.count }

    /// The entries of one user.
    public func row(_ user: Int) -> (items: ArraySlice<Int32>, counts: ArraySlice<Float>) {
        (columns[rowStart[user]..<rowStart[user + 1]], values[rowStart[user]..<rowStart[user + 1]])
    }

    /// The items × users matrix.
    public func transposed() -> InteractionMatrix {
        var entries: [(user: Int, item: Int32, count: Float)] = []
        entries.reserveCapacity(entryCount)
        for user in 0..<users {
            for k in rowStart[user]..<rowStart[user + 1] { entries.append((Int(columns[k]), Int32(user), values[k])) }
        }
        return InteractionMatrix(users: items, items: users, entries: entries)
    }

    /// Interactions per item (the popularity the logs show).
    public func itemCounts() -> [Float] {
        var counts = [Float](repeating: 0, count: items)
        for k in 0..<entryCount { counts[Int(columns[k])] += values[k] }
        return counts
    }
}
