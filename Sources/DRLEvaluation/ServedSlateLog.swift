import DRLData

/// The lists a service served, joined with the feedback that named them: what an off-policy
/// estimate on DRLRec's own served logs reads. Each list has its user, time, context, version and
/// arm, and at each position the item, the probability the serving policy had of putting it there
/// (the impression log's propensity) and the reward of the feedback that named that position.
public struct ServedSlateLog: Sendable {
    /// One served list: who saw it, when, under which version and arm, and per position the
    /// item, its logged propensity and the reward credited to it.
    public struct Slate: Sendable, Equatable {
        public var id: String
        public var user: String
        public var timestamp: Int64
        public var version: String, arm: String
        /// One value per context column of the impression log.
        public var context: [Float]
        /// Item ids, best first.
        public var items: [String]
        /// The logging policy's probability of each item at its position.
        public var propensities: [Double]
        /// The reward credited to each position.
        public var rewards: [Double]
    }

    public let slates: [Slate]
    public let contextColumns: [String]

    private init(slates: [Slate], contextColumns: [String]) { (self.slates, self.contextColumns) = (slates, contextColumns) }

    /// The lists that satisfy `isIncluded` (for example those served since a time).
    public func filter(_ isIncluded: (Slate) -> Bool) -> ServedSlateLog {
        ServedSlateLog(slates: slates.filter(isIncluded), contextColumns: contextColumns)
    }

    /// Joins `impressions` (an impression log: one `impression` row per position, with its
    /// propensity and served-list columns) with `feedback` (rows that name a list and position
    /// are credited to it with `reward(kind, value)`; the others are not about a served list).
    /// Refused with the file's name: an impression row without a list or a propensity in (0, 1],
    /// a list with a position missing or given twice, feedback naming a position the list did not
    /// have or an item it did not show there.
    public init(impressions: LoggedInteractions, named impressionFile: String, feedback: LoggedInteractions, named feedbackFile: String,
                reward: (FeedbackKind, Float) -> Double) throws(DataFileError) {
        func refuse(_ file: String, _ row: Int, _ message: String) -> DataFileError { DataFileError(file: file, line: row + 2, message) }
        var order: [String] = [], rows: [String: [Int]] = [:]
        for k in 0..<impressions.count {
            guard impressions.events[k] == .impression else { continue }
            guard let served = impressions.served(k) else { throw refuse(impressionFile, k, "an impression row names no list (impression, position)") }
            let propensity = impressions.propensities[k]
            guard propensity > 0 && propensity <= 1 else {
                throw refuse(impressionFile, k, "the propensity of list '\(served.impression)' at position \(served.position) is \(propensity), not in (0, 1]")
            }
            if rows[served.impression] == nil { order.append(served.impression) }
            rows[served.impression, default: []].append(k)
        }
        var slates: [Slate] = []
        var index: [String: Int] = [:]
        for id in order {
            let list = rows[id]!.sorted { impressions.served($0)!.position < impressions.served($1)!.position }
            for (j, k) in list.enumerated() where impressions.served(k)!.position != j + 1 {
                throw refuse(impressionFile, k, "list '\(id)' has position \(impressions.served(k)!.position) where position \(j + 1) belongs")
            }
            let first = list[0], served = impressions.served(first)!, width = impressions.contextColumns.count
            index[id] = slates.count
            slates.append(Slate(id: id, user: impressions.userIds[Int(impressions.users[first])], timestamp: impressions.timestamps[first],
                                version: served.version, arm: served.arm,
                                context: Array(impressions.context[(first * width)..<((first + 1) * width)]),
                                items: list.map { impressions.itemIds[Int(impressions.items[$0])] },
                                propensities: list.map { Double(impressions.propensities[$0]) },
                                rewards: [Double](repeating: 0, count: list.count)))
        }
        for k in 0..<feedback.count {
            guard let served = feedback.served(k), let s = index[served.impression] else { continue }
            guard (1...slates[s].items.count).contains(served.position) else {
                throw refuse(feedbackFile, k, "names position \(served.position) of list '\(served.impression)', which showed \(slates[s].items.count) items")
            }
            let item = feedback.itemIds[Int(feedback.items[k])]
            guard slates[s].items[served.position - 1] == item else {
                throw refuse(feedbackFile, k, "names item '\(item)' at position \(served.position) of list '\(served.impression)', which showed '\(slates[s].items[served.position - 1])' there")
            }
            slates[s].rewards[served.position - 1] += reward(feedback.events[k], feedback.values[k])
        }
        self.slates = slates
        contextColumns = impressions.contextColumns
    }
}
