import DRLTensor

/// A synthetic log with sequential structure, for load tests and for catalogues larger than the
/// public datasets: each user walks a ring of `items` items with a stride of 1, 2 or 3 (given as
/// the context column "stride"), an hour between clicks, and with probability `jump` moves to a
/// random item instead. A sequential model can learn the rule; popularity cannot.
public enum SyntheticLog {
    public static func generate(users: Int, items: Int, eventsPerUser: Int, jump: Double = 0.1, seed: UInt64) -> LoggedInteractions {
        require(users > 0 && items > 3 && eventsPerUser > 0 && (0...1).contains(jump),
                "SyntheticLog: \(users) users, \(items) items, \(eventsPerUser) events, jump \(jump)")
        var rng = RandomGenerator(seed: seed, stream: 0x5E9)
        var log = LoggedInteractions(contextColumns: ["stride"], items: (0..<items).map { "i\($0)" })
        for user in 0..<users {
            let stride = 1 + rng.nextIndex(below: 3)
            var item = rng.nextIndex(below: items)
            for t in 0..<eventsPerUser {
                log.append(user: "u\(user)", item: "i\(item)", timestamp: Int64(t) * 3_600, event: .click, context: [Float(stride)])
                item = Double(rng.uniform()) < jump ? rng.nextIndex(below: items) : (item + stride) % items
            }
        }
        return log
    }
}
