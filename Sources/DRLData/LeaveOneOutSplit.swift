/// A chronological leave-one-out split of logged interactions: for each user, the last
/// interaction (by time; ties keep the log's order) is the test item, the one before it the
/// validation item, and the rest is training. Users with fewer than three interactions only train.
public struct LeaveOneOutSplit: Sendable {
    public let users: Int, items: Int
    /// Each user's training items, oldest first.
    public let train: [[Int32]]
    public let validation: [Int32?], test: [Int32?]
    /// The same as rows of the log: each user's training rows, oldest first, and the held-out rows.
    public let trainRows: [[Int]]
    public let validationRow: [Int?], testRow: [Int?]

    public init(_ log: LoggedInteractions) {
        users = log.userCount
        items = log.itemCount
        var perUser = [[Int]](repeating: [], count: log.userCount)
        for k in 0..<log.count { perUser[Int(log.users[k])].append(k) }
        var trainRows: [[Int]] = [], validationRow: [Int?] = [], testRow: [Int?] = []
        for rows in perUser {
            let ordered = rows.enumerated().sorted { (log.timestamps[$0.element], $0.offset) < (log.timestamps[$1.element], $1.offset) }
                .map(\.element)
            if ordered.count >= 3 {
                trainRows.append(Array(ordered.dropLast(2)))
                validationRow.append(ordered[ordered.count - 2])
                testRow.append(ordered[ordered.count - 1])
            } else {
                trainRows.append(ordered)
                validationRow.append(nil)
                testRow.append(nil)
            }
        }
        self.trainRows = trainRows
        self.validationRow = validationRow
        self.testRow = testRow
        train = trainRows.map { $0.map { log.items[$0] } }
        validation = validationRow.map { $0.map { log.items[$0] } }
        test = testRow.map { $0.map { log.items[$0] } }
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
