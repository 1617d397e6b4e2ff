import DRLAgents
import DRLRanking
import DRLSimulation
import DRLTensor
import Testing

@Suite struct WeightedSlateBuilderTests {

    /// With only the collaborative weight on (relevance, popularity, diversity and novelty at
    /// their zero), the slate is the unseen items the folded-in ALS factors score highest, and a
    /// user with no clicks falls back to the other weights.
    @Test func theCollaborativeWeightRanksByFoldedInFactors() throws {
        var configuration = EcommerceConfiguration()
        configuration.items = 800
        configuration.categories = 16
        let simulator = EcommerceSimulator(configuration: configuration)
        let (als, _) = try ALSPolicy.trained(on: simulator, logging: MyopicGreedyPolicy(catalogue: simulator.catalogue), users: 150, seed: 77)
        let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, collaborative: als.model)
        #expect(builder.actionDimension == 5)
        let action = Tensor(shape: Shape(5), scalars: [-1, 0, -1, -1, 1])
        let w = builder.weights(action)
        #expect(w.relevance == 0 && w.popularity == 0 && w.diversity == 0 && w.novelty == 0 && w.quality == 0 && w.collaborative == 2)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var slate = [Int32](repeating: 0, count: configuration.slateSize)
        var warmUsers = 0
        for seed in UInt64(0)..<8 {
            simulator.reset(seed: seed, observation: &observation)
            guard !simulator.recentClickedItems.isEmpty else { continue }
            warmUsers += 1
            builder.build(simulator, action: action, previousSlate: [], into: &slate)
            let factors = try als.model.foldIn(items: simulator.recentClickedItems)
            let scores = (0..<configuration.items).map { i in (0..<16).reduce(Float(0)) { $0 + factors[flat: $1] * als.model.itemFactors[i, $1] } }
            let worstShown = slate.map { scores[Int($0)] }.min()!
            let bestOther = (0..<configuration.items).filter { !slate.contains(Int32($0)) }.map { scores[$0] }.max()!
            #expect(worstShown >= bestOther - 1e-4)
        }
        #expect(warmUsers > 0)
    }

    /// The quality weight and the collaborative weight sit at the fifth and sixth action entries.
    @Test func qualityAndCollaborativeWeightsHaveTheirOwnEntries() throws {
        var configuration = VideoFeedConfiguration()
        configuration.items = 400
        configuration.categories = 10
        let simulator = VideoFeedSimulator(configuration: configuration)
        let als = ImplicitALS(users: 5, items: configuration.items, seed: 1)
        let builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal, collaborative: als)
        #expect(builder.actionDimension == 6)
        let w = builder.weights(Tensor(shape: Shape(6), scalars: [0, 0, 0, 0, 0.5, -0.5]))
        #expect(w.quality == 0.5 && w.collaborative == 0.5)
        #expect(WeightedSlateBuilder(catalogue: simulator.catalogue).actionDimension == 4)
    }
}
