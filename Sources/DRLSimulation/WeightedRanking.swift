import DRLAgents
import DRLRanking
import DRLTensor

/// Builds a slate from ranking weights, the continuous action of a list-wise actor: every unseen
/// allowed item gets relevance·fit + popularity·headness − novelty·(similarity to the previous
/// slate) [+ quality·signal] [+ collaborative·score], where fit is the cosine to the user's recent
/// clicks, signal the platform's quality estimate when it has one and score the collaborative
/// model's (ALS folded in from the recent clicks, scaled so the best item scores 1; 0 without
/// clicks); then, among the best `candidates`, positions are filled by maximal marginal relevance
/// with the action's diversity weight. Actions lie in [−1, 1]^(4 + extras) and map to relevance
/// ∈ [0, 2], popularity ∈ [−1, 1], diversity ∈ [0, 1], novelty ∈ [0, 1], quality ∈ [−1, 1] and
/// collaborative ∈ [0, 2]. The actor thus chooses, state by state, how far to trade relevance for
/// the long tail, for variety and for quality, and how far to trust what similar users liked.
public final class WeightedSlateBuilder {
    /// Every element of an action lies in this range.
    public static let actionRange: ClosedRange<Float> = -1...1
    /// 4 weights, one more with a quality signal and one more with a collaborative model.
    public let actionDimension: Int
    public let candidates: Int
    private let qualitySignal: [Float]?
    public let collaborative: ImplicitALS?
    private var collaborativeScores: Tensor
    private let relevance: MyopicGreedyPolicy
    private var pool: [Int32]
    private var selector: MarginalRelevanceSelector
    /// Every item's weighted score in the last `build` (−∞ for items shown before or not allowed):
    /// the order of the items after the slate's.
    public private(set) var scores: Tensor
    private var values: Tensor
    /// The catalogue's embeddings transposed, [dimension, items], read by `largestDotProducts`.
    private let embeddingsTransposed: Tensor
    private var previousEmbeddings: Tensor
    /// Every item's largest similarity (at least 0) to an item of the previous slate.
    private var previousSimilarity: Tensor
    private let headness: [Float]

    public init(catalogue: Catalogue, qualitySignal: [Float]? = nil, collaborative: ImplicitALS? = nil, candidates: Int = 200) {
        require(qualitySignal.map { $0.count == catalogue.count } ?? true,
                "WeightedSlateBuilder: \(qualitySignal?.count ?? 0) quality values for \(catalogue.count) items")
        require(collaborative.map { $0.itemFactors.shape[0] == catalogue.count } ?? true,
                "WeightedSlateBuilder: a collaborative model of \(collaborative?.itemFactors.shape[0] ?? 0) items for \(catalogue.count) items")
        self.qualitySignal = qualitySignal
        self.collaborative = collaborative
        collaborativeScores = Tensor(zeros: Shape(collaborative == nil ? 0 : catalogue.count))
        actionDimension = 4 + (qualitySignal == nil ? 0 : 1) + (collaborative == nil ? 0 : 1)
        self.candidates = min(candidates, catalogue.count)
        relevance = MyopicGreedyPolicy(catalogue: catalogue, popularityWeight: 0)
        pool = Array(repeating: 0, count: self.candidates)
        selector = MarginalRelevanceSelector(candidates: self.candidates, dimension: catalogue.dimension)
        scores = Tensor(zeros: Shape(catalogue.count))
        values = Tensor(zeros: Shape(1, self.candidates))
        var transposed = Tensor(zeros: Shape(catalogue.dimension, catalogue.count))
        transpose(catalogue.embeddings, into: &transposed)
        embeddingsTransposed = transposed
        previousEmbeddings = Tensor(zeros: Shape(0, catalogue.dimension))
        previousSimilarity = Tensor(zeros: Shape(catalogue.count))
        headness = catalogue.popularityRank.map { 1 - Float($0) / Float(max(catalogue.count - 1, 1)) }
    }

    /// The weights an action stands for (quality and collaborative 0 where the builder has none).
    public func weights(_ action: Tensor)
        -> (relevance: Float, popularity: Float, diversity: Float, novelty: Float, quality: Float, collaborative: Float) {
        require(action.count == actionDimension, "WeightedSlateBuilder: an action has \(actionDimension) elements, got \(action.shape)")
        func clamp(_ x: Float) -> Float { min(max(x, -1), 1) }
        let quality = qualitySignal == nil ? 0 : clamp(action[flat: 4])
        let collaborative = collaborative == nil ? 0 : 1 + clamp(action[flat: actionDimension - 1])
        return (1 + clamp(action[flat: 0]), clamp(action[flat: 1]), (1 + clamp(action[flat: 2])) / 2, (1 + clamp(action[flat: 3])) / 2,
                quality, collaborative)
    }

    /// Fills `slate` for the platform's current user with the weights of `action`;
    /// `previousSlate` is the slate shown last (empty at the start of an episode).
    public func build(_ environment: some PlatformView, action: Tensor, previousSlate: ArraySlice<Int32>, into slate: inout [Int32]) {
        require(slate.count <= candidates, "WeightedSlateBuilder: a slate of \(slate.count) from \(candidates) candidates")
        let w = weights(action)
        let catalogue = environment.catalogue, n = catalogue.count
        relevance.score(environment)
        let fit = relevance.lastScores
        // Every item's largest similarity to an item of the previous slate, in one pass over the catalogue.
        let usePrevious = w.novelty > 0 && !previousSlate.isEmpty
        if usePrevious {
            if previousEmbeddings.shape[0] != previousSlate.count { previousEmbeddings = Tensor(zeros: Shape(previousSlate.count, catalogue.dimension)) }
            gatherRows(catalogue.embeddings, indices: Array(previousSlate), into: &previousEmbeddings)
            largestDotProducts(rowsTransposed: embeddingsTransposed, queries: previousEmbeddings, into: &previousSimilarity)
        }
        let useCollaborative = collaborative != nil && w.collaborative > 0 && !environment.recentClickedItems.isEmpty
        if useCollaborative, let model = collaborative {
            do {
                gemv(model.itemFactors, try model.foldIn(items: environment.recentClickedItems), into: &collaborativeScores)
            } catch {
                // The fold-in system is λI plus a Gram matrix, positive definite for finite factors.
                requirementFailure("WeightedSlateBuilder: folding in \(environment.recentClickedItems.count) clicks failed: \(error)")
            }
            let best = collaborativeScores.withUnsafeBufferPointer { $0.max()! }
            if best > 1e-6 { scal(1 / best, &collaborativeScores) } else { collaborativeScores.fill(with: 0) }
        }
        // Through raw buffers: element subscripts on the stored tensors cost an exclusivity check
        // and a uniqueness check per item, which were most of this loop's time.
        fit.withUnsafeBufferPointer { fit in
            previousSimilarity.withUnsafeBufferPointer { similarity in
                collaborativeScores.withUnsafeBufferPointer { collaborative in
                    let quality = qualitySignal ?? [], headness = headness
                    scores.withUnsafeMutableBufferPointer { scores in
                        for item in 0..<n {
                            let base = fit[item]
                            guard base > -.infinity else { scores[item] = -.infinity; continue }
                            let previous = usePrevious ? similarity[item] : 0
                            scores[item] = w.relevance * base + w.popularity * headness[item] - w.novelty * previous
                                + (quality.isEmpty ? 0 : w.quality * quality[item])
                                + (useCollaborative ? w.collaborative * collaborative[item] : 0)
                        }
                    }
                }
            }
        }
        topK(scores.reshaped(Shape(1, n)), k: candidates, values: &values, indices: &pool)
        selector.select(from: pool, scores: scores, diversity: w.diversity, catalogue: catalogue, into: &slate)
    }

    /// The last `build`'s best `candidates` items by score, best first (ties to the lower index),
    /// and their scores.
    public var bestCandidates: (items: [Int32], scores: Tensor) { (pool, values) }
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

    public init(_ simulator: RecommendationEnvironment, collaborative: ImplicitALS? = nil) {
        self.simulator = simulator
        builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal, collaborative: collaborative)
        let range = WeightedSlateBuilder.actionRange
        actionSpace = .box(low: Array(repeating: range.lowerBound, count: builder.actionDimension),
                           high: Array(repeating: range.upperBound, count: builder.actionDimension))
        slate = Array(repeating: 0, count: simulator.slateSize)
    }

    public func reset(seed: UInt64?, observation: inout Tensor) {
        previous.removeAll(keepingCapacity: true)
        simulator.reset(seed: seed, observation: &observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .continuous(let weights) = action else { requirementFailure("WeightedRankingEnvironment takes .continuous ranking weights, got \(action)") }
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

    public init(name: String, agent: ContinuousControlAgent, environment: RecommendationEnvironment, collaborative: ImplicitALS? = nil) {
        self.name = name
        self.agent = agent
        builder = WeightedSlateBuilder(catalogue: environment.catalogue, qualitySignal: environment.itemQualitySignal, collaborative: collaborative)
        require(agent.actionDimension == builder.actionDimension,
                "WeightedRankingPolicy: the agent acts with \(agent.actionDimension) weights; the platform's ranking takes \(builder.actionDimension)")
    }

    public func recommend(_ environment: RecommendationEnvironment, observation: Tensor, into slate: inout [Int32]) {
        // A new episode shows nothing yet: forget the last user's slate.
        if environment.shownItems.count < lastShownCount || environment.shownItems.isEmpty { previous.removeAll() }
        guard case .continuous(let weights) = agent.act(observation, mode: .greedy) else {
            requirementFailure("WeightedRankingPolicy: the \(type(of: agent)) does not act with ranking weights (box actions)")
        }
        builder.build(environment, action: weights, previousSlate: previous[...], into: &slate)
        previous = slate
        lastShownCount = environment.shownItems.count
    }
}
