import DRLAgents
import DRLSimulation
import DRLTensor
import Testing

/// The two-stage slate builder (a `CandidateRetrieval` in front of the weighted ranker) against
/// the builder that scores the whole catalogue, its reference: the same score for every item it
/// retrieves, −∞ for the others, and the candidates and slate the whole catalogue's scores give
/// when restricted to the retrieved items.
@Suite struct CandidateRetrievalTests {
    /// Users of `simulator` stepped through a few slates of `builder` with random weights; `body`
    /// sees each build with the simulator before the step.
    func walk(_ simulator: RecommendationEnvironment, _ builder: WeightedSlateBuilder, users: Range<UInt64>,
              _ body: (_ action: Tensor, _ previous: [Int32], _ slate: [Int32]) throws -> Void) rethrows {
        var rng = RandomGenerator(seed: 11)
        var observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        var slate = [Int32](repeating: 0, count: simulator.slateSize)
        for seed in users {
            simulator.reset(seed: seed, observation: &observation)
            var previous: [Int32] = []
            for _ in 0..<5 {
                let action = Tensor(shape: Shape(builder.actionDimension), generator: { _ in rng.uniform() * 2 - 1 })
                builder.build(simulator, action: action, previousSlate: previous[...], into: &slate)
                try body(action, previous, slate)
                previous = slate
                let result = simulator.step(.slate(slate), observation: &observation)
                if result.terminated || result.truncated { break }
            }
        }
    }

    /// The items retrieved for the simulator's current user, by hand: whole categories in the
    /// order of their centres' dot product with the sum of the clicks' embeddings (ties to the
    /// lower category) until `size` items, then the `standing` most popular items.
    func expectedRetrieval(_ simulator: RecommendationEnvironment, size: Int, standing: Int) -> Set<Int32> {
        let catalogue = simulator.catalogue, d = catalogue.dimension
        var sum = [Float](repeating: 0, count: d)
        for item in simulator.recentClickedItems { for k in 0..<d { sum[k] += catalogue.embeddings[Int(item), k] } }
        var retrieved = Set<Int32>()
        if sum.contains(where: { $0 != 0 }) {
            let score = (0..<catalogue.categoryCount).map { c in (0..<d).reduce(Float(0)) { $0 + catalogue.categoryCentres[c, $1] * sum[$1] } }
            let order = (0..<catalogue.categoryCount).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
            for c in order where retrieved.count < size {
                retrieved.formUnion(catalogue.categories.indices.filter { catalogue.categories[$0] == c }.map(Int32.init))
            }
        }
        retrieved.formUnion(catalogue.popularityRank.indices.filter { catalogue.popularityRank[$0] < standing }.map(Int32.init))
        return retrieved
    }

    /// Every item the builder scores above −∞ is a retrieved item that is allowed and not shown
    /// yet, and every such item is scored; its score is the whole catalogue builder's for the
    /// same weights and previous slate; its candidates are the best of those scores, in order;
    /// and the slate is drawn from them.
    @Test(arguments: [false, true])
    func theRetrievedItemsAreScoredAsTheWholeCatalogueScoresThem(video: Bool) throws {
        let simulator: RecommendationEnvironment
        if video {
            var configuration = VideoFeedConfiguration()
            (configuration.items, configuration.categories, configuration.retrieval) = (3_000, 30, 400)
            simulator = VideoFeedSimulator(configuration: configuration)
        } else {
            var configuration = EcommerceConfiguration()
            (configuration.items, configuration.categories, configuration.retrieval, configuration.retrievalStanding) = (3_000, 30, 400, 300)
            simulator = EcommerceSimulator(configuration: configuration)
        }
        let twoStage = WeightedSlateBuilder(for: simulator)
        let whole = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal)
        #expect(twoStage.retrieval?.size == 400 && twoStage.retrieval?.standing == (video ? 200 : 300) && whole.retrieval == nil)
        let standing = twoStage.retrieval!.standing
        var reference = [Int32](repeating: 0, count: simulator.slateSize)
        var builds = 0, withClicks = 0
        try walk(simulator, twoStage, users: 0..<12) { action, previous, slate in
            var retrieved = expectedRetrieval(simulator, size: 400, standing: standing)
            if video {
                let quality = simulator.itemQualitySignal!
                let best = quality.indices.sorted { quality[$0] > quality[$1] || (quality[$0] == quality[$1] && $0 < $1) }.prefix(standing)
                retrieved.formUnion(best.map(Int32.init))
            }
            let eligible = retrieved.filter { simulator.constraints.allows(Int($0), in: simulator.catalogue) && !simulator.shownItems.contains($0) }
            whole.build(simulator, action: action, previousSlate: previous[...], into: &reference)
            let scores = twoStage.scores.scalars, wholeScores = whole.scores.scalars
            #expect(Set(scores.indices.filter { scores[$0] > -.infinity }.map(Int32.init)) == eligible)
            #expect(twoStage.scoredItems.map(Array.init) == eligible.sorted())
            for item in eligible {
                #expect(abs(scores[Int(item)] - wholeScores[Int(item)]) <= 1e-5 * max(1, abs(wholeScores[Int(item)])), "item \(item)")
            }
            // The candidates: the eligible items by the whole catalogue's score (within rounding).
            let (candidates, values) = twoStage.bestCandidates
            let byWhole = eligible.sorted { wholeScores[Int($0)] > wholeScores[Int($1)] || (wholeScores[Int($0)] == wholeScores[Int($1)] && $0 < $1) }
            let shared = min(candidates.count, byWhole.count)
            for j in 0..<shared { #expect(abs(values[flat: j] - wholeScores[Int(byWhole[j])]) <= 1e-5 * max(1, abs(values[flat: j]))) }
            for j in 1..<candidates.count { #expect(values[flat: j - 1] >= values[flat: j]) }
            #expect(Set(slate).isSubset(of: Set(candidates)) && Set(slate).isSubset(of: eligible))
            builds += 1
            if !simulator.recentClickedItems.isEmpty { withClicks += 1 }
        }
        #expect(builds >= 30 && withClicks >= 10)
    }

    /// A catalogue small enough that every item is retrieved, with more shown than the pool can
    /// spare: the two-stage builder's candidates (padded with −∞ items, lowest first) and slate
    /// are the whole catalogue builder's.
    @Test func withEveryItemRetrievedTheCandidatesAndSlateAreTheWholeCatalogues() {
        var configuration = EcommerceConfiguration()
        (configuration.items, configuration.categories, configuration.retrieval) = (150, 5, 150)
        let simulator = EcommerceSimulator(configuration: configuration)
        let twoStage = WeightedSlateBuilder(for: simulator)
        let whole = WeightedSlateBuilder(catalogue: simulator.catalogue)
        #expect(twoStage.candidates == 150)
        var reference = [Int32](repeating: 0, count: simulator.slateSize)
        var padded = 0, builds = 0
        walk(simulator, twoStage, users: 0..<10) { action, previous, slate in
            whole.build(simulator, action: action, previousSlate: previous[...], into: &reference)
            #expect(twoStage.bestCandidates.items == whole.bestCandidates.items)
            #expect(slate == reference)
            if twoStage.bestCandidates.scores[flat: twoStage.candidates - 1] == -.infinity { padded += 1 }
            builds += 1
        }
        #expect(builds >= 20 && padded >= 5)
    }

    /// The candidate generator's size counts whole categories: a user's interest items are the
    /// first categories that reach it, and a user without clicks gets the standing items alone.
    @Test func aUserWithoutClicksGetsTheStandingItems() {
        var configuration = EcommerceConfiguration()
        (configuration.items, configuration.categories, configuration.retrieval, configuration.coldStartShare) = (2_000, 20, 300, 1)
        let simulator = EcommerceSimulator(configuration: configuration)
        let builder = WeightedSlateBuilder(for: simulator)
        var observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        var slate = [Int32](repeating: 0, count: simulator.slateSize)
        simulator.reset(seed: 3, observation: &observation)
        #expect(simulator.recentClickedItems.isEmpty)
        builder.build(simulator, action: Tensor(zeros: Shape(builder.actionDimension)), previousSlate: [], into: &slate)
        let popular = Set(simulator.catalogue.popularityRank.indices.filter { simulator.catalogue.popularityRank[$0] < builder.retrieval!.standing }.map(Int32.init))
        #expect(Set(builder.scoredItems ?? []) == popular.filter { simulator.constraints.allows(Int($0), in: simulator.catalogue) })
    }
}
