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
        precondition(users > 0 && items > 0, "InteractionMatrix needs at least one user and one item, got \(users) × \(items)")
        for (index, entry) in entries.enumerated() {
            precondition((0..<users).contains(entry.user) && (0..<Int32(items)).contains(entry.item),
                         "InteractionMatrix: entry \(index) is (user \(entry.user), item \(entry.item)), outside \(users) users × \(items) items")
            precondition(entry.count > 0 && entry.count.isFinite, "InteractionMatrix: entry \(index) has count \(entry.count); counts must be positive and finite")
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

/// What a platform logged about its existing users: each user's demographics and the items they
/// clicked (a warm user's past clicks included).
public struct InteractionLog: Sendable {
    public var demographics: [[Float]] = []
    public var clicks: [[Int32]] = []

    public init() {}

    public var userCount: Int { clicks.count }

    /// The clicks as a users × items matrix.
    public func matrix(items: Int) -> InteractionMatrix {
        var entries: [(user: Int, item: Int32, count: Float)] = []
        for (user, items) in clicks.enumerated() { for item in items { entries.append((user, item, 1)) } }
        return InteractionMatrix(users: max(userCount, 1), items: items, entries: entries)
    }

    /// The demographics as a matrix [users, features].
    public var demographicMatrix: Tensor {
        let features = demographics.first?.count ?? 0
        precondition(demographics.allSatisfy { $0.count == features }, "InteractionLog: users have demographics of different lengths")
        return Tensor(shape: Shape(userCount, features), scalars: demographics.flatMap { $0 })
    }
}

/// Serves `users` simulated users with `policy` (user u seeded with `seed + u`) and logs their
/// demographics, the history they arrived with and every item they clicked.
public func logInteractions(_ policy: SlatePolicy, on environment: RecommendationEnvironment, users: Int, seed: UInt64) -> InteractionLog {
    var log = InteractionLog()
    var observation = Tensor(zeros: Shape(environment.observationSpace.dimension))
    var slate = [Int32](repeating: 0, count: environment.slateSize)
    for u in 0..<users {
        environment.reset(seed: seed &+ UInt64(u), observation: &observation)
        var clicks = environment.recentClickedItems
        log.demographics.append(environment.demographics)
        while true {
            policy.recommend(environment, observation: observation, into: &slate)
            let result = environment.step(.slate(slate), observation: &observation)
            if let item = environment.lastClickedItem { clicks.append(item) }
            if result.terminated || result.truncated { break }
        }
        log.clicks.append(clicks)
    }
    return log
}
