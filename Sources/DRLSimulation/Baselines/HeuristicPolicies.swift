import DRLAgents
import DRLTensor

/// Distinct allowed items drawn uniformly.
public final class RandomPolicy: SlatePolicy {
    public let name = "random"
    private var rng: RandomGenerator

    public init(seed: UInt64) { rng = RandomGenerator(seed: seed, stream: 0x7A4D) }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        let catalogue = environment.catalogue
        var filled = 0
        while filled < slate.count {
            let item = Int32(rng.nextIndex(below: catalogue.count))
            guard environment.constraints.allows(Int(item), in: catalogue), !slate[..<filled].contains(item) else { continue }
            slate[filled] = item
            filled += 1
        }
    }
}

/// The most popular allowed items the user has not been shown yet (the best-seller list a
/// platform falls back on).
public final class PopularityPolicy: SlatePolicy {
    public let name = "popularity"
    private let order: [Int32]

    public init(catalogue: Catalogue) {
        order = catalogue.popularityRank.indices.sorted { catalogue.popularityRank[$0] < catalogue.popularityRank[$1] }.map { Int32($0) }
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        let shown = environment.shownItems
        var filled = 0
        for item in order where filled < slate.count {
            guard environment.constraints.allows(Int(item), in: environment.catalogue), !shown.contains(item) else { continue }
            slate[filled] = item
            filled += 1
        }
        require(filled == slate.count, "PopularityPolicy: fewer than \(slate.count) unseen allowed items remain")
    }
}

/// A greedy myopic recommender: it maximises the immediate chance of a click as a content-based
/// model estimates it, the similarity of each item to the user's recent clicks plus a popularity
/// prior, and shows the best unseen items. It has no notion of what the slate does to the user's
/// future visits.
public final class MyopicGreedyPolicy: SlatePolicy {
    public let name = "myopic-greedy"
    public let popularityWeight: Float
    private var profile: Tensor, scores: Tensor, values: Tensor
    private let headness: Tensor

    public init(catalogue: Catalogue, popularityWeight: Float = 0.35) {
        self.popularityWeight = popularityWeight
        profile = Tensor(zeros: Shape(catalogue.dimension))
        scores = Tensor(zeros: Shape(catalogue.count))
        values = Tensor(zeros: Shape(1, 1))
        headness = Tensor(shape: Shape(catalogue.count),
                          scalars: catalogue.popularityRank.map { 1 - Float($0) / Float(max(catalogue.count - 1, 1)) })
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        score(environment)
        if values.count != slate.count { values = Tensor(zeros: Shape(1, slate.count)) }
        topK(scores.reshaped(Shape(1, environment.catalogue.count)), k: slate.count, values: &values, indices: &slate)
    }

    /// Scores every item for the current user (−∞ for blocked and already shown items) into
    /// `scores`: one GEMV against the mean of the recent clicks' embeddings, the popularity prior
    /// as one AXPY, then the exclusions.
    func score(_ environment: some PlatformView) {
        let catalogue = environment.catalogue, clicks = environment.recentClickedItems
        profile.fill(with: 0)
        for item in clicks { for j in 0..<catalogue.dimension { profile[flat: j] += catalogue.embeddings[Int(item), j] } }
        if clicks.isEmpty {
            scores.fill(with: 0)
        } else {
            gemv(catalogue.embeddings, profile, into: &scores, alpha: 1 / Float(clicks.count))
        }
        if popularityWeight != 0 { axpy(popularityWeight, headness, &scores) }
        environment.constraints.mask(&scores)
        for item in environment.shownItems { scores[flat: Int(item)] = -.infinity }
    }

    /// The scores of the last `score` call.
    var lastScores: Tensor { scores }
}

/// Maximal marginal relevance (Carbonell and Goldstein, 1998) over the myopic recommender's
/// relevance: from its `candidates` best items, each slate position takes the item maximising
/// (1 − diversity)·relevance − diversity·(largest similarity to the items already in the slate).
/// The diversified ranker a platform uses against filter bubbles, still without a model of the
/// user's future.
public final class DiversifiedGreedyPolicy: SlatePolicy {
    public let name = "mmr-greedy"
    public let diversity: Float
    public let candidates: Int
    private let relevance: MyopicGreedyPolicy
    private var pool: [Int32]
    private var selector: MarginalRelevanceSelector

    public init(catalogue: Catalogue, diversity: Float = 0.3, candidates: Int = 200) {
        require((0...1).contains(diversity) && candidates > 0, "DiversifiedGreedyPolicy: diversity \(diversity) in [0, 1], candidates \(candidates) > 0")
        self.diversity = diversity
        self.candidates = min(candidates, catalogue.count)
        relevance = MyopicGreedyPolicy(catalogue: catalogue, popularityWeight: 0)
        pool = Array(repeating: 0, count: self.candidates)
        selector = MarginalRelevanceSelector(candidates: self.candidates, dimension: catalogue.dimension)
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        require(slate.count <= candidates, "DiversifiedGreedyPolicy: a slate of \(slate.count) from \(candidates) candidates")
        relevance.recommend(environment, observation: observation, into: &pool)
        selector.select(from: pool, scores: relevance.lastScores, diversity: diversity, catalogue: environment.catalogue, into: &slate)
    }
}

/// Greedy maximal-marginal-relevance selection from a candidate pool: position by position, the
/// candidate maximising (1 − diversity)·score − diversity·(largest similarity to the items already
/// chosen). The candidates' pairwise similarities come from one GEMM of their embeddings.
struct MarginalRelevanceSelector {
    private var embeddings: Tensor, similarities: Tensor
    private var redundancy: [Float], taken: [Bool], poolScores: [Float]
    /// Whether the similarities are computed to each item taken (a slate's columns of the
    /// candidates' Gram matrix) rather than the whole matrix at once: the cheaper of the two,
    /// kept apart because the two give different bits.
    private let similaritiesOnDemand: Bool
    private var column: Tensor

    init(candidates: Int, dimension: Int, similaritiesOnDemand: Bool = false) {
        self.similaritiesOnDemand = similaritiesOnDemand
        embeddings = Tensor(zeros: Shape(candidates, dimension))
        similarities = Tensor(zeros: Shape(similaritiesOnDemand ? 0 : candidates, candidates))
        column = Tensor(zeros: Shape(similaritiesOnDemand ? candidates : 0))
        redundancy = Array(repeating: 0, count: candidates)
        taken = Array(repeating: false, count: candidates)
        poolScores = Array(repeating: 0, count: candidates)
    }

    mutating func select(from pool: [Int32], scores: Tensor, diversity: Float, catalogue: Catalogue, into slate: inout [Int32]) {
        let n = pool.count
        require(n == taken.count && slate.count <= n, "MarginalRelevanceSelector: \(n) candidates for a pool of \(taken.count), slate \(slate.count)")
        if diversity > 0 {
            gatherRows(catalogue.embeddings, indices: pool, into: &embeddings)
            if !similaritiesOnDemand { gemm(embeddings, embeddings, into: &similarities, transposeB: true) }
        }
        // Each candidate's score is read once, and the loops run over raw buffers: subscripts on the
        // stored arrays and tensors cost an exclusivity or uniqueness check each, which were most of
        // the selection's time (the same values, compared in the same order).
        scores.withUnsafeBufferPointer { scores in for i in 0..<n { (poolScores[i], redundancy[i], taken[i]) = (scores[Int(pool[i])], 0, false) } }
        for position in 0..<slate.count {
            let best = poolScores.withUnsafeBufferPointer { scores in
                redundancy.withUnsafeBufferPointer { redundancy in
                    taken.withUnsafeBufferPointer { taken in
                        var best = -1, bestValue = -Float.infinity
                        for index in 0..<n where !taken[index] {
                            let value = (1 - diversity) * scores[index] - diversity * redundancy[index]
                            if value > bestValue || best < 0 { (best, bestValue) = (index, value) }
                        }
                        return best
                    }
                }
            }
            taken[best] = true
            slate[position] = pool[best]
            // The redundancy the next position reads: none after the last.
            guard diversity > 0, position + 1 < slate.count else { continue }
            if similaritiesOnDemand {
                gemv(embeddings, embeddings[row: best], into: &column)
                column.withUnsafeBufferPointer { column in
                    redundancy.withUnsafeMutableBufferPointer { redundancy in for index in 0..<n { redundancy[index] = max(redundancy[index], column[index]) } }
                }
            } else {
                similarities.withUnsafeBufferPointer { similarities in
                    redundancy.withUnsafeMutableBufferPointer { redundancy in
                        for index in 0..<n { redundancy[index] = max(redundancy[index], similarities[index * n + best]) }
                    }
                }
            }
        }
    }
}
