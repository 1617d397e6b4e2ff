import DRLAgents
import DRLEvaluation
import DRLTensor

/// The e-commerce metrics of one policy over a simulated population: per-user statistics (for
/// confidence intervals over users) and the population-level long-tail coverage.
public struct EcommerceReport: PopulationReport, Sendable {
    public let policy: String
    public let users: [EcommerceEpisodeStatistics]
    /// The distinct long-tail items shown to each user.
    public let tailItems: [[Int32]]
    /// Items in the catalogue's long tail.
    public let tailSize: Int
    /// The episode returns (the agent's reward, summed) of each user.
    public let returns: [Float]

    /// Distinct long-tail items shown to anyone, as a share of the long tail.
    public var tailCoverage: Float { tailCoverage(of: Array(users.indices)) }

    /// The long-tail coverage of a subset of the users (with repeats, as a bootstrap draws them).
    public func tailCoverage(of subset: [Int]) -> Float {
        var seen = [Bool](repeating: false, count: tailIndexLimit)
        var distinct = 0
        for u in subset { for item in tailItems[u] where !seen[Int(item)] { seen[Int(item)] = true; distinct += 1 } }
        return Float(distinct) / Float(max(tailSize, 1))
    }

    private var tailIndexLimit: Int { Int(tailItems.lazy.flatMap { $0 }.max() ?? 0) + 1 }

    /// Sessions with a purchase per session, pooled over users (and over low-frequency users only).
    public var conversionRate: Float { metric(.conversion) }
    public var lowFrequencyConversionRate: Float { metric(.lowFrequencyConversion) }
    /// Share of slate items whose category was already in the previous slate.
    public var repetitionRate: Float { metric(.repetition) }
    /// Share of slate items already shown to the same user earlier in the episode.
    public var exactRepeatRate: Float { ratio(Array(users.indices), \.repeated, \.shown) }
    public var revenuePerUser: Float { metric(.revenuePerUser) }
    public var sessionsPerUser: Float { metric(.sessionsPerUser) }
    public var meanReturn: Float { metric(.meanReturn) }

    /// A metric of the whole population.
    public func metric(_ metric: EcommerceMetric) -> Float { self.metric(metric, over: Array(users.indices)) }

    public var userCount: Int { users.count }
    public static var metricNames: [String] { EcommerceMetric.allCases.map(\.rawValue) }

    public func value(of metric: String, over subset: [Int]) -> Float {
        guard let known = EcommerceMetric(rawValue: metric) else { requirementFailure("EcommerceReport: unknown metric '\(metric)'") }
        return self.metric(known, over: subset)
    }

    /// A metric of a subset of the users (indices may repeat, as a bootstrap draws them).
    public func metric(_ metric: EcommerceMetric, over subset: [Int]) -> Float {
        switch metric {
        case .conversion: return ratio(subset, \.sessionsWithPurchase, \.sessions)
        case .lowFrequencyConversion: return ratio(subset.filter { users[$0].lowFrequency }, \.sessionsWithPurchase, \.sessions)
        case .tailCoverage: return tailCoverage(of: subset)
        case .repetition: return ratio(subset, \.categoryRepeats, \.shown)
        case .revenuePerUser: return subset.reduce(0) { $0 + users[$1].revenue } / Float(max(subset.count, 1))
        case .sessionsPerUser: return Float(subset.reduce(0) { $0 + users[$1].sessions }) / Float(max(subset.count, 1))
        case .meanReturn: return subset.reduce(0) { $0 + returns[$1] } / Float(max(subset.count, 1))
        case .coldStartEarlyConversion:
            return ratio(subset.filter { users[$0].coldStart }, \.firstDayPurchases, \.firstDaySteps)
        }
    }

    private func ratio(_ subset: [Int], _ numerator: KeyPath<EcommerceEpisodeStatistics, Int>,
                       _ denominator: KeyPath<EcommerceEpisodeStatistics, Int>) -> Float {
        var n = 0, d = 0
        for u in subset { n += users[u][keyPath: numerator]; d += users[u][keyPath: denominator] }
        return Float(n) / Float(max(d, 1))
    }
}

/// The e-commerce metrics an A/B comparison reports.
public enum EcommerceMetric: String, CaseIterable, Sendable {
    case conversion = "conversion_rate"
    case lowFrequencyConversion = "low_frequency_conversion_rate"
    case tailCoverage = "long_tail_coverage"
    case repetition = "repetition_rate"
    case revenuePerUser = "revenue_per_user"
    case sessionsPerUser = "sessions_per_user"
    case meanReturn = "return_per_user"
    /// Purchases per first-day slate of users who arrived with no history.
    case coldStartEarlyConversion = "cold_start_early_conversion"
}

/// Runs `policy` on `users` simulated users, user u seeded with `seed + u` (so two policies run on
/// the same population with paired seeds), and collects the report. `progress` gets
/// the number done after each.
public func simulatePopulation(_ policy: SlatePolicy, on simulator: EcommerceSimulator, users: Int, seed: UInt64,
                              progress: (_ done: Int) -> Void = { _ in }) -> EcommerceReport {
    require(users > 0, "simulatePopulation needs at least one user")
    var observation = Tensor(zeros: Shape(simulator.observationDimension))
    var slate = [Int32](repeating: 0, count: simulator.configuration.slateSize)
    var statistics: [EcommerceEpisodeStatistics] = [], returns: [Float] = []
    statistics.reserveCapacity(users)
    var tailItems: [[Int32]] = []
    let catalogue = simulator.catalogue, headFraction = simulator.configuration.headFraction
    for u in 0..<users {
        simulator.reset(seed: seed &+ UInt64(u), observation: &observation)
        var total: Float = 0
        var tailShown = Set<Int32>()
        while true {
            policy.recommend(simulator, observation: observation, into: &slate)
            for item in slate where catalogue.isLongTail(Int(item), headFraction: headFraction) { tailShown.insert(item) }
            let result = simulator.step(.slate(slate), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
        statistics.append(simulator.statistics)
        returns.append(total)
        tailItems.append(tailShown.sorted())
        progress(u + 1)
    }
    let tailSize = (0..<catalogue.count).filter { catalogue.isLongTail($0, headFraction: headFraction) }.count
    return EcommerceReport(policy: policy.name, users: statistics, tailItems: tailItems, tailSize: tailSize, returns: returns)
}
