import DRLTensor
import Foundation

/// How a served list explores, and the exact probability with which each shown item was put at its
/// position: the propensity that off-policy estimators divide by.
///
/// The list starts as the model's top k, the greedy list g₁…g_k. Each position is explored on its
/// own with probability ε: an explored position shows an item drawn from the explorer's
/// distribution q over the pool (the eligible items outside the greedy list), unless that item is
/// already shown above it, in which case the greedy item stays. A pool item e is then at position
/// j (1-based) with probability ε·q(e)·(1 − ε·q(e))^(j−1): drawn at j, and at no position above
/// (the draws are independent); the greedy item g_j takes the rest of the probability, and no
/// greedy item appears at another position. So every (position, item) probability is exact, at
/// one pass over the pool per position, whichever the explorer. Sampling the whole list from a
/// softmax (Plackett-Luce) would give each position's probability only given the items above it;
/// the marginal that position-wise estimators need has no closed form there.
public struct SlateExploration: Sendable, Equatable {
    public enum Explorer: Sendable, Equatable {
        /// Every pool item alike.
        case uniform
        /// In proportion to the items' interaction counts plus one.
        case popularity
        /// A softmax of the model's scores at a temperature (> 0; lower is greedier).
        case softmax(temperature: Float)
    }

    /// The probability that a position is explored, in [0, 1).
    public let epsilon: Float
    public let explorer: Explorer

    /// No exploration: the greedy list, every item at its position with probability 1.
    public static let greedy = SlateExploration(epsilon: 0)

    public init(epsilon: Float, explorer: Explorer = .uniform) {
        require(epsilon >= 0 && epsilon < 1, "SlateExploration: ε must be in [0, 1), got \(epsilon)")
        if case .softmax(let temperature) = explorer {
            require(temperature > 0 && temperature.isFinite, "SlateExploration: the softmax temperature must be positive and finite, got \(temperature)")
        }
        self.epsilon = epsilon
        self.explorer = explorer
    }

    /// An item shown and the probability the policy had of showing it at its position.
    public struct Placement: Sendable, Equatable {
        public var item: Int32
        public var propensity: Double
    }

    /// The list to show: `greedy` (the top items, best first) with explored positions drawn from
    /// `pool` (the other eligible items). `scores` (softmax) and `popularity` (popularity) are
    /// indexed by item; the other explorer ignores them.
    public func place(greedy: [Int32], pool: [Int32], scores: [Float], popularity: [Float],
                      using generator: inout RandomGenerator) -> [Placement] {
        guard epsilon > 0, !pool.isEmpty else { return greedy.map { Placement(item: $0, propensity: 1) } }
        let q = explorerDistribution(pool, scores: scores, popularity: popularity)
        let eps = Double(epsilon)
        // survival[e] = (1 − ε q(e))^(j−1): the probability that pool item e is not shown above position j.
        var survival = [Double](repeating: 1, count: pool.count)
        var shown = Set<Int>()
        var placements: [Placement] = []
        placements.reserveCapacity(greedy.count)
        for slot in greedy {
            var explored: Int?
            if Double(generator.next() >> 11) * 0x1p-53 < eps {
                let drawn = Self.draw(q, using: &generator)
                if !shown.contains(drawn) { explored = drawn }
            }
            var poolMass = 0.0
            for e in pool.indices { poolMass += eps * q[e] * survival[e] }
            if let e = explored {
                placements.append(Placement(item: pool[e], propensity: eps * q[e] * survival[e]))
                shown.insert(e)
            } else {
                placements.append(Placement(item: slot, propensity: 1 - poolMass))
            }
            for e in pool.indices { survival[e] *= 1 - eps * q[e] }
        }
        return placements
    }

    /// The probability that the list shows `item` at `position` (1-based), computed without
    /// drawing: what `place` gives the item when it puts it there, to the last bit, and what an
    /// off-policy estimate of this policy divides the logging policy's propensity into. The greedy
    /// item of the position has 1 − Σₑ ε q(e)(1 − ε q(e))^(j−1), a pool item ε q(e)(1 − ε q(e))^(j−1),
    /// any other item 0. `greedy`, `pool`, `scores` and `popularity` are as for `place`.
    public func probability(of item: Int32, at position: Int, greedy: [Int32], pool: [Int32], scores: [Float], popularity: [Float]) -> Double {
        require((1...greedy.count).contains(position), "SlateExploration.probability: position \(position) of a list of \(greedy.count)")
        let isGreedy = greedy[position - 1] == item
        guard epsilon > 0, !pool.isEmpty else { return isGreedy ? 1 : 0 }
        let poolIndex = isGreedy ? nil : pool.firstIndex(of: item)
        guard isGreedy || poolIndex != nil else { return 0 }
        let q = explorerDistribution(pool, scores: scores, popularity: popularity)
        let eps = Double(epsilon)
        // (1 − ε q(e))^(j−1) by repeated products, in the order `place` forms them.
        func shown(_ e: Int) -> Double {
            var survival = 1.0
            for _ in 1..<position { survival *= 1 - eps * q[e] }
            return eps * q[e] * survival
        }
        if let e = poolIndex { return shown(e) }
        var poolMass = 0.0
        for e in pool.indices { poolMass += shown(e) }
        return 1 - poolMass
    }

    /// The explorer's probabilities over the pool (in pool order).
    private func explorerDistribution(_ pool: [Int32], scores: [Float], popularity: [Float]) -> [Double] {
        var weights: [Double]
        switch explorer {
        case .uniform:
            weights = [Double](repeating: 1, count: pool.count)
        case .popularity:
            weights = pool.map { Double(max(popularity[Int($0)], 0)) + 1 }
        case .softmax(let temperature):
            let top = pool.map { Double(scores[Int($0)]) }.max()!
            weights = pool.map { exp((Double(scores[Int($0)]) - top) / Double(temperature)) }
        }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        return weights
    }

    /// An index drawn from the probabilities `q` (summing to 1), at double precision so that the
    /// probability an item is drawn is its q to rounding, however small.
    private static func draw(_ q: [Double], using generator: inout RandomGenerator) -> Int {
        let target = Double(generator.next() >> 11) * 0x1p-53
        var cumulative = 0.0
        var last = 0
        for i in q.indices where q[i] > 0 {
            cumulative += q[i]
            last = i
            if target < cumulative { return i }
        }
        return last
    }
}
