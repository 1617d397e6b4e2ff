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
    // The whole catalogue's terms: this, `relevance`, `embeddingsTransposed` and
    // `previousSimilarity` are empty (nil) with a candidate generator, whose workspace has its own.
    private var collaborativeScores: Tensor
    private let relevance: MyopicGreedyPolicy?
    private var pool: [Int32]
    private var selector: MarginalRelevanceSelector
    /// Every item's weighted score in the last `build` (−∞ for items shown before or not allowed,
    /// and with a candidate generator for items it did not retrieve): the order of the items
    /// after the slate's.
    public private(set) var scores: Tensor
    private var values: Tensor
    /// The catalogue's embeddings transposed, [dimension, items], read by `largestDotProducts`.
    private let embeddingsTransposed: Tensor
    private var previousEmbeddings: Tensor
    /// Every item's largest similarity (at least 0) to an item of the previous slate.
    private var previousSimilarity: Tensor
    private let headness: [Float]
    /// The platform's candidate generator, when the builder scores its candidates instead of the
    /// whole catalogue (nil: every item).
    public let retrieval: CandidateRetrieval?
    private var retrievalWork: RetrievalWorkspace?

    /// With `retrieval` (items, 0 for none), the builder scores only the items a
    /// `CandidateRetrieval` of that size passes it (`retrievalStanding` from each standing
    /// channel), and its diversity term computes the similarities to the items it takes, not
    /// every pair of candidates: a two-stage ranker whose work per slate does not grow with the
    /// catalogue.
    public init(catalogue: Catalogue, qualitySignal: [Float]? = nil, collaborative: ImplicitALS? = nil, candidates: Int = 200, retrieval: Int = 0,
                retrievalStanding: Int = 200) {
        require(retrieval >= 0 && retrievalStanding >= 0,
                "WeightedSlateBuilder: retrieval \(retrieval) must be 0 (none) or a number of items, its standing items \(retrievalStanding) at least 0")
        require(qualitySignal.map { $0.count == catalogue.count } ?? true,
                "WeightedSlateBuilder: \(qualitySignal?.count ?? 0) quality values for \(catalogue.count) items")
        require(collaborative.map { $0.itemFactors.shape[0] == catalogue.count } ?? true,
                "WeightedSlateBuilder: a collaborative model of \(collaborative?.itemFactors.shape[0] ?? 0) items for \(catalogue.count) items")
        self.qualitySignal = qualitySignal
        self.collaborative = collaborative
        let whole = retrieval == 0 ? catalogue.count : 0
        collaborativeScores = Tensor(zeros: Shape(collaborative == nil ? 0 : whole))
        actionDimension = 4 + (qualitySignal == nil ? 0 : 1) + (collaborative == nil ? 0 : 1)
        self.candidates = min(candidates, catalogue.count)
        relevance = whole > 0 ? MyopicGreedyPolicy(catalogue: catalogue, popularityWeight: 0) : nil
        pool = Array(repeating: 0, count: self.candidates)
        selector = MarginalRelevanceSelector(candidates: self.candidates, dimension: catalogue.dimension, similaritiesOnDemand: retrieval > 0)
        scores = Tensor(zeros: Shape(catalogue.count))
        values = Tensor(zeros: Shape(1, self.candidates))
        var transposed = Tensor(zeros: Shape(catalogue.dimension, whole))
        if whole > 0 { transpose(catalogue.embeddings, into: &transposed) }
        embeddingsTransposed = transposed
        previousEmbeddings = Tensor(zeros: Shape(0, catalogue.dimension))
        previousSimilarity = Tensor(zeros: Shape(whole))
        headness = catalogue.popularityRank.map { 1 - Float($0) / Float(max(catalogue.count - 1, 1)) }
        if retrieval > 0 {
            let generator = CandidateRetrieval(catalogue: catalogue, qualitySignal: qualitySignal, size: retrieval, standing: retrievalStanding)
            self.retrieval = generator
            retrievalWork = RetrievalWorkspace(generator, catalogue: catalogue, pool: self.candidates)
        } else {
            self.retrieval = nil
        }
    }

    /// The builder of `simulator`'s catalogue, quality signal and candidate generator.
    public convenience init(for simulator: RecommendationEnvironment, collaborative: ImplicitALS? = nil) {
        self.init(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal, collaborative: collaborative,
                  retrieval: simulator.retrievalSize, retrievalStanding: simulator.retrievalStanding)
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
        if retrievalWork != nil {
            buildFromRetrieved(environment, weights: w, previousSlate: previousSlate, into: &slate)
            return
        }
        let catalogue = environment.catalogue, n = catalogue.count
        let relevance = relevance!
        relevance.score(environment)
        let fit = relevance.lastScores
        // Every item's largest similarity to an item of the previous slate, in one pass over the catalogue.
        let usePrevious = w.novelty > 0 && !previousSlate.isEmpty
        if usePrevious {
            if previousEmbeddings.shape[0] != previousSlate.count { previousEmbeddings = Tensor(zeros: Shape(previousSlate.count, catalogue.dimension)) }
            gatherRows(catalogue.embeddings, indices: previousSlate, into: &previousEmbeddings)
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

    /// With a candidate generator, the items the last `build` scored above −∞ (the retrieved
    /// items still eligible, ascending): every item of `scores` above −∞. Nil without one.
    public var scoredItems: ArraySlice<Int32>? { retrievalWork.map { $0.items[0..<$0.eligibleCount] } }

    /// `build` over the candidate generator's items: the same weighted score, each term computed
    /// for the retrieved items alone (gathered into contiguous rows), every other item −∞.
    private func buildFromRetrieved(_ environment: some PlatformView, weights w: (relevance: Float, popularity: Float, diversity: Float,
                                                                                   novelty: Float, quality: Float, collaborative: Float),
                                    previousSlate: ArraySlice<Int32>, into slate: inout [Int32]) {
        let catalogue = environment.catalogue, d = catalogue.dimension
        let clicks = environment.recentClickedItems
        let work = retrievalWork!
        work.retrieve(retrieval!, clicks: clicks, catalogue: catalogue)
        // Eligibility as the full build has it: −∞ for blocked and shown items, and here for
        // every item not retrieved.
        scores.fill(with: -.infinity)
        // Through the raw buffer: an element subscript on the stored tensor checks its uniqueness.
        let retrieved = work.retrieved
        scores.withUnsafeMutableBufferPointer { scores in for item in retrieved { scores[Int(item)] = 0 } }
        environment.constraints.mask(&scores)
        scores.withUnsafeMutableBufferPointer { scores in for item in environment.shownItems { scores[Int(item)] = -.infinity } }
        let m = work.keepEligible(scores, catalogue: catalogue)
        let usePrevious = w.novelty > 0 && !previousSlate.isEmpty
        let useCollaborative = collaborative != nil && w.collaborative > 0 && !clicks.isEmpty
        if m > 0 {
            var fit = work.fit[rows: 0..<m], similarity = work.similarity[rows: 0..<m], collaborativeScores = work.collaborative[rows: 0..<m]
            if clicks.isEmpty {
                fit.fill(with: 0)
            } else {
                gemv(work.rows[rows: 0..<(m * d)].reshaped(Shape(m, d)), work.clickSum, into: &fit, alpha: 1 / Float(clicks.count))
            }
            if usePrevious {
                if previousEmbeddings.shape[0] != previousSlate.count { previousEmbeddings = Tensor(zeros: Shape(previousSlate.count, d)) }
                gatherRows(catalogue.embeddings, indices: previousSlate, into: &previousEmbeddings)
                largestDotProducts(rowsTransposed: work.columns[rows: 0..<(d * m)].reshaped(Shape(d, m)), queries: previousEmbeddings,
                                   into: &similarity)
            }
            if useCollaborative, let model = collaborative {
                do {
                    dotProductsOfRows(model.itemFactors, items: work.items, count: m, vector: try model.foldIn(items: clicks), into: &collaborativeScores)
                } catch {
                    requirementFailure("WeightedSlateBuilder: folding in \(clicks.count) clicks failed: \(error)")
                }
                let best = collaborativeScores.withUnsafeBufferPointer { $0.max()! }
                if best > 1e-6 { scal(1 / best, &collaborativeScores) } else { collaborativeScores.fill(with: 0) }
            }
        }
        let quality = qualitySignal ?? [], headness = headness
        let padded = work.padPool(to: candidates, scores: scores)
        // Through raw buffers: the workspace's stored arrays cost access checks per element.
        work.items.withUnsafeBufferPointer { items in
            work.fit.withUnsafeBufferPointer { fit in
                work.similarity.withUnsafeBufferPointer { similarity in
                    work.collaborative.withUnsafeBufferPointer { collaborative in
                        work.candidateScores.withUnsafeMutableBufferPointer { out in
                            scores.withUnsafeMutableBufferPointer { scores in
                                for j in 0..<m {
                                    let item = Int(items[j])
                                    let score = w.relevance * fit[j] + w.popularity * headness[item]
                                        - w.novelty * (usePrevious ? similarity[j] : 0) + (quality.isEmpty ? 0 : w.quality * quality[item])
                                        + (useCollaborative ? w.collaborative * collaborative[j] : 0)
                                    scores[item] = score
                                    out[j] = score
                                }
                                for j in m..<padded { out[j] = -.infinity }
                            }
                        }
                    }
                }
            }
        }
        work.best(candidates, of: padded, values: &values, items: &pool)
        selector.select(from: pool, scores: scores, diversity: w.diversity, catalogue: catalogue, into: &slate)
    }
}

/// What `WeightedSlateBuilder` keeps between builds from a candidate generator: the retrieved
/// items, those still eligible in index order (padded with ineligible items up to a pool), their
/// embeddings gathered as rows and as columns, and each term's values, in storage sized once for
/// the most items a retrieval can give.
private final class RetrievalWorkspace {
    let capacity: Int
    private(set) var retrieved: [Int32] = []
    /// The eligible retrieved items first (ascending), then the pool's padding.
    var items: [Int32]
    private var marks: [UInt64], categoryScores: [Float], takenCategories: [Bool]
    var clickSum: Tensor
    var rows: Tensor, columns: Tensor
    var fit: Tensor, similarity: Tensor, collaborative: Tensor, candidateScores: Tensor
    private var keys: [UInt64], sortScratch: [UInt64], histogram: [Int]
    private(set) var eligibleCount = 0

    init(_ retrieval: CandidateRetrieval, catalogue: Catalogue, pool: Int) {
        var largestCategory = 0
        var sizes = [Int](repeating: 0, count: catalogue.categoryCount)
        for category in catalogue.categories { sizes[Int(category)] += 1; largestCategory = max(largestCategory, sizes[Int(category)]) }
        // The interest channel stops at the first category that reaches its size.
        capacity = min(catalogue.count, max(retrieval.size - 1 + largestCategory + 2 * retrieval.standing, pool))
        let d = catalogue.dimension
        items = [Int32](repeating: 0, count: capacity)
        retrieved.reserveCapacity(capacity)
        marks = [UInt64](repeating: 0, count: (catalogue.count + 63) / 64)
        categoryScores = [Float](repeating: 0, count: catalogue.categoryCount)
        takenCategories = [Bool](repeating: false, count: catalogue.categoryCount)
        clickSum = Tensor(workspace: Shape(d))
        rows = Tensor(workspace: Shape(capacity * d))
        columns = Tensor(workspace: Shape(capacity * d))
        keys = [UInt64](repeating: 0, count: capacity)
        sortScratch = keys
        histogram = [Int](repeating: 0, count: 256)
        fit = Tensor(workspace: Shape(capacity))
        similarity = Tensor(workspace: Shape(capacity))
        collaborative = Tensor(workspace: Shape(capacity))
        candidateScores = Tensor(workspace: Shape(capacity))
    }

    /// The generator's items for a user with `clicks`, in index order, into `retrieved`.
    func retrieve(_ retrieval: CandidateRetrieval, clicks: [Int32], catalogue: Catalogue) {
        let d = catalogue.dimension
        clickSum.fill(with: 0)
        catalogue.embeddings.withUnsafeBufferPointer { e in
            clickSum.withUnsafeMutableBufferPointer { s in
                for item in clicks { for j in 0..<d { s[j] += e[Int(item) * d + j] } }
            }
        }
        clickSum.withUnsafeBufferPointer { s in
            retrieval.mark(clickSum: s, marks: &marks, categoryScores: &categoryScores, takenCategories: &takenCategories)
        }
        // Into the raw buffer: an append to the stored array checks its uniqueness per item.
        let count = marks.reduce(0) { $0 + $1.nonzeroBitCount }
        retrieved.removeAll(keepingCapacity: true)
        retrieved.append(contentsOf: repeatElement(0, count: count))
        retrieved.withUnsafeMutableBufferPointer { retrieved in
            var next = 0
            for (w, word) in marks.enumerated() where word != 0 {
                var bits = word
                while bits != 0 {
                    retrieved[next] = Int32(w * 64 + bits.trailingZeroBitCount)
                    next += 1
                    bits &= bits - 1
                }
            }
        }
    }

    /// Keeps the retrieved items whose score is above −∞ (eligible) at the front of `items`,
    /// gathers their embeddings into `rows` and `columns`, and returns how many there are.
    func keepEligible(_ scores: Tensor, catalogue: Catalogue) -> Int {
        var m = 0
        // Through raw buffers: a stored array's subscript costs exclusivity and uniqueness checks.
        items.withUnsafeMutableBufferPointer { items in
            retrieved.withUnsafeBufferPointer { retrieved in
                scores.withUnsafeBufferPointer { s in
                    for item in retrieved where s[Int(item)] > -.infinity { items[m] = item; m += 1 }
                }
            }
        }
        gatherRowsAndColumns(catalogue.embeddings, items: items, count: m, rows: &rows, columns: &columns)
        eligibleCount = m
        return m
    }

    /// The `k` best of the first `count` entries of `candidateScores` (the eligible items, then
    /// the padding), as `topK` gives them over that row (best first, ties to the earlier entry,
    /// which is the lower item), with their items instead of their positions. A short row with
    /// k a large share of it: a histogram of the finite values finds the bins that hold the k
    /// best, and only their entries are sorted, as one integer key each.
    func best(_ k: Int, of count: Int, values: inout Tensor, items chosen: inout [Int32]) {
        require(k <= count && values.count == k && chosen.count == k, "RetrievalWorkspace.best: \(k) of \(count)")
        let selected = candidateScores.withUnsafeBufferPointer { scores in
            keys.withUnsafeMutableBufferPointer { keys in
                histogram.withUnsafeMutableBufferPointer { bins in selectBest(k, of: UnsafeBufferPointer(rebasing: scores[0..<count]), keys: keys, bins: bins) }
            }
        }
        guard let selected else {
            // A NaN: topK's order for it (first, by position) is not this key's.
            topK(candidateScores[rows: 0..<count].reshaped(Shape(1, count)), k: k, values: &values, indices: &chosen)
            for j in chosen.indices { chosen[j] = items[Int(chosen[j])] }
            return
        }
        keys.withUnsafeMutableBufferPointer { keys in
            sortScratch.withUnsafeMutableBufferPointer { mergeSort(UnsafeMutableBufferPointer(rebasing: keys[0..<selected]), scratch: $0) }
        }
        candidateScores.withUnsafeBufferPointer { scores in
            for j in 0..<k {
                let position = Int(keys[j] & 0xFFFF_FFFF)
                values[flat: j] = scores[position]
                chosen[j] = items[position]
            }
        }
    }

    /// Pads `items` after the eligible ones with the lowest-index items of score −∞ until the
    /// list holds `pool` items (a pool the size the full build's always has); returns its length.
    func padPool(to pool: Int, scores: Tensor) -> Int {
        var count = eligibleCount
        guard count < pool else { return count }
        scores.withUnsafeBufferPointer { s in
            var item = 0
            while count < pool && item < s.count {
                if s[item] == -.infinity { items[count] = Int32(item); count += 1 }
                item += 1
            }
        }
        return count
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

    public init(_ simulator: RecommendationEnvironment, collaborative: ImplicitALS? = nil) {
        self.simulator = simulator
        builder = WeightedSlateBuilder(for: simulator, collaborative: collaborative)
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
        builder = WeightedSlateBuilder(for: environment, collaborative: collaborative)
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

/// Writes into `keys` one key per entry that can be among the `k` best of `scores` (every entry
/// above the histogram bins that hold fewer than k of them, and the bin that reaches k; −∞
/// entries only when fewer than k are finite) and returns how many; nil when a value is NaN. A
/// key sorts as (value descending, position ascending): the order-preserving bits of the value,
/// inverted, above the position. `bins` is workspace.
private func selectBest(_ k: Int, of scores: UnsafeBufferPointer<Float>, keys: UnsafeMutableBufferPointer<UInt64>,
                        bins: UnsafeMutableBufferPointer<Int>) -> Int? {
    func key(_ value: Float, _ position: Int) -> UInt64 {
        let bits = (value == 0 ? 0 : value).bitPattern  // −0 ties with 0, as topK has it
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ascending) << 32 | UInt64(position)
    }
    var low = Float.infinity, high = -Float.infinity, finite = 0
    for value in scores {
        if value.isNaN { return nil }
        if value > -.infinity { low = min(low, value); high = max(high, value); finite += 1 }
    }
    var selected = 0
    let binCount = bins.count, scale = Float(binCount) / (high - low)
    if finite <= k || !scale.isFinite || !high.isFinite {
        // Every entry above −∞ (too few of them, or no usable bins: one value, or +∞), and while
        // fewer than k, the first −∞ entries.
        var infinite = max(k - finite, 0)
        for (position, value) in scores.enumerated() where value > -.infinity || infinite > 0 {
            if value == -.infinity { infinite -= 1 }
            keys[selected] = key(value, position)
            selected += 1
        }
        return selected
    }
    // Bins over [low, high]: an entry's bin never decreases with its value, so the entries of
    // the bins from the top down to the one that reaches k hold the k best.
    func bin(_ value: Float) -> Int { min(binCount - 1, Int((value - low) * scale)) }
    for b in 0..<binCount { bins[b] = 0 }
    for value in scores where value > -.infinity { bins[bin(value)] += 1 }
    var lowest = binCount - 1, reached = bins[lowest]
    while reached < k { lowest -= 1; reached += bins[lowest] }
    for (position, value) in scores.enumerated() where value > -.infinity && bin(value) >= lowest {
        keys[selected] = key(value, position)
        selected += 1
    }
    return selected
}

/// Sorts `keys` ascending: runs of 8 by insertion, then merged bottom-up through `scratch` (at
/// least as long), so that nothing is allocated; the standard library's sort allocates its
/// buffers on every call, four allocations a slate here.
func mergeSort(_ keys: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>) {
    let n = keys.count, run = 8
    for start in stride(from: 0, to: n, by: run) {
        for i in (start + 1)..<min(start + run, n) {
            let key = keys[i]
            var j = i
            while j > start && keys[j - 1] > key { keys[j] = keys[j - 1]; j -= 1 }
            keys[j] = key
        }
    }
    var source = keys, target = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
    var width = run
    while width < n {
        for low in stride(from: 0, to: n, by: 2 * width) {
            let middle = min(low + width, n), high = min(low + 2 * width, n)
            var (i, j, k) = (low, middle, low)
            while i < middle && j < high {
                if source[i] <= source[j] { target[k] = source[i]; i += 1 } else { target[k] = source[j]; j += 1 }
                k += 1
            }
            while i < middle { target[k] = source[i]; i += 1; k += 1 }
            while j < high { target[k] = source[j]; j += 1; k += 1 }
        }
        swap(&source, &target)
        width *= 2
    }
    if source.baseAddress != keys.baseAddress { _ = keys.update(fromContentsOf: source) }
}
