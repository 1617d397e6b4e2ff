import DRLAgents
import DRLTensor

/// Builds a slate from ranking weights, the continuous action of a list-wise actor: every unseen
/// allowed item gets relevance·fit + popularity·headness − novelty·(similarity to the previous
/// slate) [+ quality·signal], where fit is the cosine to the user's recent clicks and signal the
/// platform's quality estimate when it has one; then, among the best `candidates`, positions are
/// filled by maximal marginal relevance with the action's diversity weight. Actions lie in
/// [−1, 1]⁴ (or ⁵ with a quality signal) and map to relevance ∈ [0, 2], popularity ∈ [−1, 1],
/// diversity ∈ [0, 1], novelty ∈ [0, 1] and quality ∈ [−1, 1]. The actor thus chooses, state by
/// state, how far to trade relevance for the long tail, for variety and for quality.
public final class WeightedSlateBuilder {
    /// 4 weights, or 5 when the platform has a quality signal.
    public let actionDimension: Int
    public let candidates: Int
    private let qualitySignal: [Float]?
    private let relevance: MyopicGreedyPolicy
    private var pool: [Int32]
    private var selector: MarginalRelevanceSelector
    private var scores: Tensor, values: Tensor
    private var previousEmbeddings: Tensor, previousSimilarities: Tensor
    private let headness: [Float]

    public init(catalogue: Catalogue, qualitySignal: [Float]? = nil, candidates: Int = 200) {
        precondition(qualitySignal.map { $0.count == catalogue.count } ?? true,
                     "WeightedSlateBuilder: \(qualitySignal?.count ?? 0) quality values for \(catalogue.count) items")
        self.qualitySignal = qualitySignal
        actionDimension = qualitySignal == nil ? 4 : 5
        self.candidates = min(candidates, catalogue.count)
        relevance = MyopicGreedyPolicy(catalogue: catalogue, popularityWeight: 0)
        pool = Array(repeating: 0, count: self.candidates)
        selector = MarginalRelevanceSelector(candidates: self.candidates, dimension: catalogue.dimension)
        scores = Tensor(zeros: Shape(catalogue.count))
        values = Tensor(zeros: Shape(1, self.candidates))
        previousEmbeddings = Tensor(zeros: Shape(0, catalogue.dimension))
        previousSimilarities = Tensor(zeros: Shape(0, 0))
        headness = catalogue.popularityRank.map { 1 - Float($0) / Float(max(catalogue.count - 1, 1)) }
    }

    /// The weights an action stands for (quality 0 without a quality signal).
    public func weights(_ action: Tensor) -> (relevance: Float, popularity: Float, diversity: Float, novelty: Float, quality: Float) {
        precondition(action.count == actionDimension, "WeightedSlateBuilder: an action has \(actionDimension) elements, got \(action.shape)")
        func clamp(_ x: Float) -> Float { min(max(x, -1), 1) }
        return (1 + clamp(action[flat: 0]), clamp(action[flat: 1]), (1 + clamp(action[flat: 2])) / 2, (1 + clamp(action[flat: 3])) / 2,
                actionDimension == 5 ? clamp(action[flat: 4]) : 0)
    }

    /// Fills `slate` for the environment's current user with the weights of `action`;
    /// `previousSlate` is the slate shown last (empty at the start of an episode).
    public func build(_ environment: RecommendationEnvironment, action: Tensor, previousSlate: ArraySlice<Int32>, into slate: inout [Int32]) {
        precondition(slate.count <= candidates, "WeightedSlateBuilder: a slate of \(slate.count) from \(candidates) candidates")
        let w = weights(action)
        let catalogue = environment.catalogue, n = catalogue.count
        relevance.score(environment)
        let fit = relevance.lastScores
        // Similarity of every item to each item of the previous slate: one [items, d]·[d, slate] GEMM.
        let usePrevious = w.novelty > 0 && !previousSlate.isEmpty
        if usePrevious {
            let k = previousSlate.count
            if previousEmbeddings.shape[0] != k {
                previousEmbeddings = Tensor(zeros: Shape(k, catalogue.dimension))
                previousSimilarities = Tensor(zeros: Shape(n, k))
            }
            gatherRows(catalogue.embeddings, indices: Array(previousSlate), into: &previousEmbeddings)
            gemm(catalogue.embeddings, previousEmbeddings, into: &previousSimilarities, transposeB: true)
        }
        for item in 0..<n {
            let base = fit[flat: item]
            guard base > -.infinity else { scores[flat: item] = -.infinity; continue }
            var previous: Float = 0
            if usePrevious { for j in 0..<previousSlate.count { previous = max(previous, previousSimilarities[item, j]) } }
            scores[flat: item] = w.relevance * base + w.popularity * headness[item] - w.novelty * previous
                + (qualitySignal.map { w.quality * $0[item] } ?? 0)
        }
        topK(scores.reshaped(Shape(1, n)), k: candidates, values: &values, indices: &pool)
        selector.select(from: pool, scores: scores, diversity: w.diversity, catalogue: catalogue, into: &slate)
    }
}

/// A recommendation environment seen through `WeightedSlateBuilder`: a box action of ranking
/// weights instead of a slate, so that any continuous-control agent (SAC, TD3) learns to rank.
public final class WeightedRankingEnvironment: Environment {
    public let simulator: RecommendationEnvironment
    public let builder: WeightedSlateBuilder
    public var observationSpace: Space { simulator.observationSpace }
    public let actionSpace: Space
    private var slate: [Int32]
    private var previous: [Int32] = []

    public init(_ simulator: RecommendationEnvironment) {
        self.simulator = simulator
        builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal)
        actionSpace = .box(low: Array(repeating: -1, count: builder.actionDimension), high: Array(repeating: 1, count: builder.actionDimension))
        slate = Array(repeating: 0, count: simulator.slateSize)
    }

    public func reset(seed: UInt64?, observation: inout Tensor) {
        previous.removeAll(keepingCapacity: true)
        simulator.reset(seed: seed, observation: &observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .continuous(let weights) = action else { preconditionFailure("WeightedRankingEnvironment takes .continuous ranking weights, got \(action)") }
        builder.build(simulator, action: weights, previousSlate: previous[...], into: &slate)
        previous = slate
        return simulator.step(.slate(slate), observation: &observation)
    }
}

/// A trained continuous-control agent as a `SlatePolicy`: its deterministic action, turned into a
/// slate by a `WeightedSlateBuilder`.
public final class WeightedRankingPolicy: SlatePolicy {
    public let name: String
    public let agent: ContinuousControlAgent
    private let builder: WeightedSlateBuilder
    private var previous: [Int32] = []
    private var lastShownCount = 0

    public init(name: String, agent: ContinuousControlAgent, environment: RecommendationEnvironment) {
        self.name = name
        self.agent = agent
        builder = WeightedSlateBuilder(catalogue: environment.catalogue, qualitySignal: environment.itemQualitySignal)
        precondition(agent.actionDimension == builder.actionDimension,
                     "WeightedRankingPolicy: the agent acts with \(agent.actionDimension) weights; the platform's ranking takes \(builder.actionDimension)")
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        // A new episode shows nothing yet: forget the last user's slate.
        if environment.shownItems.count < lastShownCount || environment.shownItems.isEmpty { previous.removeAll() }
        builder.build(environment, action: agent.act(observation, deterministic: true), previousSlate: previous[...], into: &slate)
        previous = slate
        lastShownCount = environment.shownItems.count
    }
}
