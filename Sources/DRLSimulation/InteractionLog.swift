import DRLAgents
import DRLData
import DRLTensor

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
        require(demographics.allSatisfy { $0.count == features }, "InteractionLog: users have demographics of different lengths")
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
