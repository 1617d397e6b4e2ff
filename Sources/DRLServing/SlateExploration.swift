import DRLTensor
import Foundation

/// How a served list explores, and the exact probability with which each shown item was put at its
/// position: the propensity that off-policy estimators divide by.
///
/// The list starts as the model's top k, the greedy list g₁…g_k. With probability ρ (`shuffle`)
/// its order is first drawn uniformly at random, so that a policy ranking the same items in
/// another order has logged support. Then each position is explored on its own with probability
/// ε: an explored position shows an item drawn from the explorer's distribution q over the pool
/// (the eligible items outside the greedy list), unless that item is already shown above it, in
/// which case the greedy item stays. A pool item e is then at position j (1-based) with
/// probability ε·q(e)·(1 − ε·q(e))^(j−1): drawn at j, and at no position above (the draws are
/// independent). A greedy item stays at position j with the rest of the probability,
/// Sⱼ = 1 − Σₑ ε·q(e)·(1 − ε·q(e))^(j−1), whichever it is; g_i is there with probability
/// Sⱼ·(ρ/k + (1 − ρ)·[i = j]). So every (position, item) probability is exact, at one pass over
/// the pool, whichever the explorer. Sampling the whole list from a softmax
/// (Plackett-Luce) would give each position's probability only given the items above it; the
/// marginal that position-wise estimators need has no closed form there.
///
/// A model that acts before it scores (a list-wise ranker) can also explore in its action:
/// `actionNoise` is the standard deviation of the Gaussian noise on it, drawn per list from the
/// list's impression id (`ActionNoise`). The greedy list is then the perturbed action's, and every
/// probability above is given that noise.
public struct SlateExploration: Sendable, Equatable {
    /// Where explored items are drawn from.
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
    /// The probability ρ that the greedy list's order is shuffled, in [0, 1].
    public let shuffle: Float
    /// The standard deviation of the noise on a model's action (0: none).
    public let actionNoise: Float

    /// No exploration: the greedy list, every item at its position with probability 1.
    public static let greedy = SlateExploration(epsilon: 0)

    public init(epsilon: Float, explorer: Explorer = .uniform, shuffle: Float = 0, actionNoise: Float = 0) {
        require(epsilon >= 0 && epsilon < 1, "SlateExploration: ε must be in [0, 1), got \(epsilon)")
        require(shuffle >= 0 && shuffle <= 1, "SlateExploration: the shuffle probability must be in [0, 1], got \(shuffle)")
        require(actionNoise >= 0 && actionNoise.isFinite, "SlateExploration: the action noise must be non-negative and finite, got \(actionNoise)")
        if case .softmax(let temperature) = explorer {
            require(temperature > 0 && temperature.isFinite, "SlateExploration: the softmax temperature must be positive and finite, got \(temperature)")
        }
        self.epsilon = epsilon
        self.explorer = explorer
        self.shuffle = shuffle
        self.actionNoise = actionNoise
    }

    /// Whether the lists read no score beyond the greedy list's: no exploration, or an explorer
    /// that draws without scores (uniform, popularity).
    public var readsNoScores: Bool {
        if epsilon == 0 { return true }
        if case .softmax = explorer { return false }
        return true
    }

    /// The noise on the action of the list with impression id `impression`; nil without action noise.
    public func actionNoise(impression: String) -> ActionNoise? {
        actionNoise > 0 ? ActionNoise(scale: actionNoise, impression: impression) : nil
    }

    /// An item shown and the probability the policy had of showing it at its position.
    public struct Placement: Sendable, Equatable {
        public var item: Int32
        public var propensity: Double
    }

    /// The list to show: `greedy` (the top items, best first), its order shuffled with
    /// probability ρ, with explored positions drawn from `pool` (the other eligible items).
    /// `scores` (softmax) and `popularity` (popularity) are indexed by item; the other explorer
    /// ignores them.
    public func place(greedy: [Int32], pool: [Int32], scores: [Float], popularity: [Float],
                      using generator: inout RandomGenerator) -> [Placement] {
        place(greedy: greedy, poolCount: pool.count, item: { pool[$0] },
              draws: { PoolDraws(q: explorerDistribution(pool, scores: scores, popularity: popularity), epsilon: Double(epsilon),
                                 positions: greedy.count) },
              using: &generator)
    }

    /// `place` with the pool as a set, for an explorer that reads no scores (uniform or
    /// popularity): the same lists and propensities for the same draws. The uniform explorer's
    /// probabilities depend on the pool's size alone, so they are computed once per size, and its
    /// draws find their item in the set: a list reads no array the pool's size.
    public func place(greedy: [Int32], pool: ItemSet, popularity: [Float], using generator: inout RandomGenerator) -> [Placement] {
        if case .softmax = explorer { requirementFailure("SlateExploration: the softmax explorer reads every pool item's score; place it from the scores") }
        if explorer == .uniform {
            return place(greedy: greedy, poolCount: pool.count, item: { pool.element(rank: $0) },
                         draws: { UniformPoolDraws(count: pool.count, epsilon: epsilon, positions: greedy.count) }, using: &generator)
        }
        let items = pool.elements
        return place(greedy: greedy, pool: items, scores: [], popularity: popularity, using: &generator)
    }

    private func place(greedy: [Int32], poolCount: Int, item: (Int) -> Int32, draws: () -> some ExplorationDraws,
                       using generator: inout RandomGenerator) -> [Placement] {
        var order = Array(greedy.indices)
        if shuffle > 0, Self.unit(&generator) < Double(shuffle) {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, generator.nextIndex(below: i + 1)) }
        }
        func stayed(_ j: Int, _ stay: Double) -> Placement {
            Placement(item: greedy[order[j]], propensity: stay * Self.orderProbability(shuffle, of: order[j], at: j, count: greedy.count))
        }
        guard epsilon > 0, poolCount > 0 else { return greedy.indices.map { stayed($0, 1) } }
        let explored = draws()
        var shown: [Int] = []
        var placements: [Placement] = []
        placements.reserveCapacity(greedy.count)
        for j in greedy.indices {
            var drawn: Int?
            if Self.unit(&generator) < Double(epsilon) {
                let e = explored.draw(Self.unit(&generator))
                if !shown.contains(e) { drawn = e }
            }
            if let e = drawn {
                placements.append(Placement(item: item(e), propensity: explored.probability(of: e, at: j)))
                shown.append(e)
            } else {
                placements.append(stayed(j, 1 - explored.poolMasses[j]))
            }
        }
        return placements
    }

    /// The probability that the greedy list's item i (0-based) is at (0-based) position j of its
    /// order: ρ/k + (1 − ρ)·[i = j] (exactly 1 or 0 without shuffling).
    static func orderProbability(_ shuffle: Float, of i: Int, at j: Int, count: Int) -> Double {
        guard shuffle > 0 else { return i == j ? 1 : 0 }
        return Double(shuffle) / Double(count) + (i == j ? 1 - Double(shuffle) : 0)
    }

    /// Every item's probability at every position of the list, computed without drawing: what
    /// `place` gives an item when it puts it there, to the last bit, and what an off-policy
    /// estimate of this policy divides the logging policy's propensity into. `greedy`, `pool`,
    /// `scores` and `popularity` are as for `place`.
    public func marginals(greedy: [Int32], pool: [Int32], scores: [Float], popularity: [Float]) -> Marginals {
        guard epsilon > 0, !pool.isEmpty else {
            return Marginals(greedy: greedy, pool: pool, stayProbabilities: greedy.map { _ in 1 }, poolProbabilities: [], shuffle: shuffle)
        }
        let explored = PoolDraws(q: explorerDistribution(pool, scores: scores, popularity: popularity), epsilon: Double(epsilon),
                                 positions: greedy.count)
        let stayProbabilities = explored.poolMasses.map { 1 - $0 }
        let poolProbabilities = explored.probabilities()
        return Marginals(greedy: greedy, pool: pool, stayProbabilities: stayProbabilities, poolProbabilities: poolProbabilities, shuffle: shuffle)
    }

    /// A list's (position, item) probabilities (see `marginals`).
    public struct Marginals: Sendable {
        public let greedy: [Int32], pool: [Int32]
        /// At each position, the probability Sⱼ that a greedy item stays there.
        public let stayProbabilities: [Double]
        /// At each position, the probability of each pool item, in pool order (empty when the
        /// list does not explore).
        public let poolProbabilities: [[Double]]
        /// The exploration's ρ.
        public let shuffle: Float

        /// The probability that the greedy list's item i (0-based) is shown at `position` (1-based).
        public func probability(ofGreedy i: Int, at position: Int) -> Double {
            stayProbabilities[position - 1] * SlateExploration.orderProbability(shuffle, of: i, at: position - 1, count: greedy.count)
        }

        /// The probability that the list shows `item` at `position` (1-based).
        public func probability(of item: Int32, at position: Int) -> Double {
            require((1...greedy.count).contains(position), "SlateExploration.Marginals: position \(position) of a list of \(greedy.count)")
            if let i = greedy.firstIndex(of: item) { return probability(ofGreedy: i, at: position) }
            guard !poolProbabilities.isEmpty, let e = pool.firstIndex(of: item) else { return 0 }
            return poolProbabilities[position - 1][e]
        }
    }

    /// The draws of explored positions from the pool: the explorer's probabilities q, and
    /// position by position the probability that a pool item is shown there. Pool item e is at
    /// (0-based) position j with probability aₑ·(1 − aₑ)^j, aₑ = ε·q(e), formed by the same
    /// products wherever it is needed, so that `place` and `marginals` agree to the bit.
    struct PoolDraws: ExplorationDraws {
        let q: [Double]
        /// ε·q(e) per pool item.
        let a: [Double]
        /// At each position, the probability that it shows a pool item: Σₑ aₑ·(1 − aₑ)^j.
        let poolMasses: [Double]

        init(q: [Double], epsilon: Double, positions: Int) {
            self.q = q
            a = q.map { epsilon * $0 }
            poolMasses = Self.masses(a, positions: positions)
        }

        /// Σₑ aₑ·(1 − aₑ)^j for j below `positions`, in one pass over the pool, four items at a
        /// time (the sums of one position are independent of each other's, so the loop keeps the
        /// vector units busy instead of waiting on one long chain of additions).
        private static func masses(_ a: [Double], positions: Int) -> [Double] {
            var sums = [SIMD4<Double>](repeating: .zero, count: positions)
            sums.withUnsafeMutableBufferPointer { sums in
                a.withUnsafeBufferPointer { a in
                    let whole = a.count / 4 * 4
                    for e in stride(from: 0, to: whole, by: 4) {
                        let ae = SIMD4(a[e], a[e + 1], a[e + 2], a[e + 3]), stay = 1 - ae
                        var survival = SIMD4<Double>(repeating: 1)
                        for j in 0..<positions {
                            sums[j] += ae * survival
                            survival *= stay
                        }
                    }
                    for e in whole..<a.count {
                        var survival = 1.0
                        for j in 0..<positions {
                            sums[j][0] += a[e] * survival
                            survival *= 1 - a[e]
                        }
                    }
                }
            }
            return sums.map { ($0[0] + $0[1]) + ($0[2] + $0[3]) }
        }

        /// The probability that pool item e is shown at (0-based) position j.
        func probability(of e: Int, at j: Int) -> Double { SlateExploration.probability(a[e], at: j) }

        func draw(_ target: Double) -> Int { SlateExploration.draw(q, target: target) }

        /// Every pool item's probability at every position: [position][pool index].
        func probabilities() -> [[Double]] {
            var survival = [Double](repeating: 1, count: a.count)
            return poolMasses.indices.map { _ in
                var row = [Double](repeating: 0, count: a.count)
                for e in a.indices {
                    row[e] = a[e] * survival[e]
                    survival[e] *= 1 - a[e]
                }
                return row
            }
        }
    }

    /// aₑ·(1 − aₑ)^j, the survival formed by repeated products wherever it is needed.
    static func probability(_ a: Double, at j: Int) -> Double {
        var survival = 1.0
        for _ in 0..<j { survival *= 1 - a }
        return a * survival
    }

    /// The uniform explorer's draws over a pool of `count` items: every item's q is 1/count, so
    /// the position masses are the same for every pool of that size. They are computed by
    /// `PoolDraws` itself (the same bits) and kept per (count, ε, positions); a draw walks the
    /// same running sum as `PoolDraws.draw` without reading a q per item.
    struct UniformPoolDraws: ExplorationDraws {
        let count: Int, q: Double, a: Double
        let poolMasses: [Double]
        private static let lock = NSLock()
        nonisolated(unsafe) private static var cache: [Key: [Double]] = [:]
        private static let cacheLimit = 4_096
        private struct Key: Hashable { let count: Int, epsilon: Float, positions: Int }

        init(count: Int, epsilon: Float, positions: Int) {
            self.count = count
            q = 1 / Double(count)
            a = Double(epsilon) * q
            let key = Key(count: count, epsilon: epsilon, positions: positions)
            if let masses = Self.lock.withLock({ Self.cache[key] }) {
                poolMasses = masses
            } else {
                let masses = PoolDraws(q: [Double](repeating: q, count: count), epsilon: Double(epsilon), positions: positions).poolMasses
                Self.lock.withLock {
                    if Self.cache.count >= Self.cacheLimit { Self.cache.removeAll() }
                    Self.cache[key] = masses
                }
                poolMasses = masses
            }
        }

        func probability(of e: Int, at j: Int) -> Double { SlateExploration.probability(a, at: j) }

        func draw(_ target: Double) -> Int {
            var cumulative = 0.0
            for i in 0..<count {
                cumulative += q
                if target < cumulative { return i }
            }
            return count - 1
        }
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
            // exp at single precision, a vector at a time: the scores are single precision, and
            // exp at double precision was most of a served list's time over a large pool.
            let top = pool.lazy.map { scores[Int($0)] }.max()!
            var exponents = Tensor(shape: Shape(pool.count), scalars: pool.map { (scores[Int($0)] - top) / temperature })
            Activation.exp.forwardInPlace(&exponents)
            weights = exponents.scalars.map(Double.init)
        }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        return weights
    }

    /// The index that `target`, a uniform draw in [0, 1), picks from the probabilities `q`
    /// (summing to 1), at double precision so that the probability an item is drawn is its q to
    /// rounding, however small.
    static func draw(_ q: [Double], target: Double) -> Int {
        var cumulative = 0.0
        var last = 0
        for i in q.indices where q[i] > 0 {
            cumulative += q[i]
            last = i
            if target < cumulative { return i }
        }
        return last
    }

    /// A uniform draw in [0, 1) at double precision.
    private static func unit(_ generator: inout RandomGenerator) -> Double { Double(generator.next() >> 11) * 0x1p-53 }
}

/// The draws of a list's explored positions from its pool (see `SlateExploration.PoolDraws`).
protocol ExplorationDraws {
    /// At each position, the probability that it shows a pool item.
    var poolMasses: [Double] { get }
    /// The probability that pool item e is shown at (0-based) position j.
    func probability(of e: Int, at j: Int) -> Double
    /// The pool item a uniform draw `target` in [0, 1) picks.
    func draw(_ target: Double) -> Int
}
