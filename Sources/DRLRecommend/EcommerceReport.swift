import DRLAgents
import DRLTensor

/// The e-commerce metrics of one policy over a simulated population: per-user statistics (for
/// confidence intervals over users) and the population-level long-tail coverage.
public struct EcommerceReport: Sendable {
    public let policy: String
    public let users: [EcommerceEpisodeStatistics]
    /// Distinct long-tail items shown to anyone, as a share of the long tail.
    public let tailCoverage: Float
    /// The episode returns (the agent's reward, summed) of each user.
    public let returns: [Float]

    /// Sessions with a purchase per session, pooled over users (and over low-frequency users only).
    public var conversionRate: Float { ratio(users.map(\.sessionsWithPurchase), users.map(\.sessions)) }
    public var lowFrequencyConversionRate: Float {
        let low = users.filter(\.lowFrequency)
        return ratio(low.map(\.sessionsWithPurchase), low.map(\.sessions))
    }
    /// Share of slate items whose category was already in the previous slate.
    public var repetitionRate: Float { ratio(users.map(\.categoryRepeats), users.map(\.shown)) }
    /// Share of slate items already shown to the same user earlier in the episode.
    public var exactRepeatRate: Float { ratio(users.map(\.repeated), users.map(\.shown)) }
    public var revenuePerUser: Float { users.map(\.revenue).reduce(0, +) / Float(max(users.count, 1)) }
    public var sessionsPerUser: Float { Float(users.map(\.sessions).reduce(0, +)) / Float(max(users.count, 1)) }
    public var meanReturn: Float { returns.reduce(0, +) / Float(max(returns.count, 1)) }

    private func ratio(_ numerators: [Int], _ denominators: [Int]) -> Float {
        Float(numerators.reduce(0, +)) / Float(max(denominators.reduce(0, +), 1))
    }
}

/// Runs `policy` on `users` simulated users, user u seeded with `seed + u` (so two policies run on
/// the same population with paired seeds), and collects the report.
public func simulatePopulation(_ policy: SlatePolicy, on simulator: EcommerceSimulator, users: Int, seed: UInt64) -> EcommerceReport {
    precondition(users > 0, "simulatePopulation needs at least one user")
    var observation = Tensor(zeros: Shape(simulator.observationDimension))
    var slate = [Int32](repeating: 0, count: simulator.configuration.slateSize)
    var statistics: [EcommerceEpisodeStatistics] = [], returns: [Float] = []
    statistics.reserveCapacity(users)
    var tailShown = Set<Int32>()
    let catalogue = simulator.catalogue, headFraction = simulator.configuration.headFraction
    for u in 0..<users {
        simulator.reset(seed: seed &+ UInt64(u), observation: &observation)
        var total: Float = 0
        while true {
            policy.recommend(simulator, observation: observation, into: &slate)
            for item in slate where catalogue.isLongTail(Int(item), headFraction: headFraction) { tailShown.insert(item) }
            let result = simulator.step(.slate(slate), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
        statistics.append(simulator.statistics)
        returns.append(total)
    }
    let tailSize = (0..<catalogue.count).filter { catalogue.isLongTail($0, headFraction: headFraction) }.count
    return EcommerceReport(policy: policy.name, users: statistics, tailCoverage: Float(tailShown.count) / Float(tailSize), returns: returns)
}
