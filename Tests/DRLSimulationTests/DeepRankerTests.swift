import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor
import Testing

@Suite struct DeepRankerTests {

    /// Trained on logged click sequences, the ranker's cross-entropy falls, and on new users it
    /// puts their next click in its top 10 more often than the best-seller list does.
    @Test func learnsToPredictTheNextClick() throws {
        var configuration = EcommerceConfiguration()
        configuration.items = 600
        configuration.categories = 12
        let platform = EcommerceSimulator(configuration: configuration)
        let logging = MyopicGreedyPolicy(catalogue: platform.catalogue)
        let examples = logNextClicks(logging, on: platform, historyTokens: 5, users: 400, seed: 10_000)
        #expect(examples.count > 1_000)
        var layout = platform.stateEncoderLayout(historyTokens: 5)
        layout.dimension = 16
        layout.outputDimension = 32
        let ranker = DeepRankerPolicy(layout: layout, seed: 1)
        try ranker.train(on: examples, epochs: 12, batchSize: 128, learningRate: 3e-3, seed: 2)
        #expect(ranker.epochLosses.last! < ranker.epochLosses.first! - 0.5, "losses \(ranker.epochLosses)")
        // Next-click hit rate at 10 on held-out users: the ranker's scores against the log's popularity.
        let held = logNextClicks(logging, on: platform, historyTokens: 5, users: 100, seed: 20_000)
        let counts = examples.items.reduce(into: [Float](repeating: 0, count: configuration.items)) { $0[Int($1)] += 1 }
        let popular = Set(counts.indices.sorted { counts[$0] > counts[$1] }.prefix(10).map { Int32($0) })
        var rankerHits = 0, popularityHits = 0
        for k in 0..<held.count {
            let scores = ranker.output.forward(ranker.encoder.forward(held.observations[rows: k..<(k + 1)].clone()))
            let target = scores[0, Int(held.items[k])]
            if (0..<configuration.items).filter({ scores[0, $0] > target }).count < 10 { rankerHits += 1 }
            if popular.contains(held.items[k]) { popularityHits += 1 }
        }
        #expect(rankerHits > 2 * popularityHits, "hits at 10: ranker \(rankerHits), popularity \(popularityHits) of \(held.count)")
    }

    /// Serving: distinct, unseen, allowed items whichever observation the platform gives its agent.
    @Test func recommendsUnseenAllowedItems() {
        var configuration = EcommerceConfiguration()
        configuration.items = 300
        configuration.categories = 6
        let platform = EcommerceSimulator(configuration: configuration, blockedCategories: [2])
        let ranker = DeepRankerPolicy(layout: platform.stateEncoderLayout(historyTokens: 4), seed: 3)
        var observation = Tensor(zeros: Shape(platform.observationDimension))
        var slate = [Int32](repeating: 0, count: configuration.slateSize)
        platform.reset(seed: 1, observation: &observation)
        for _ in 0..<5 {
            ranker.recommend(platform, observation: observation, into: &slate)
            #expect(Set(slate).count == slate.count)
            #expect(slate.allSatisfy { platform.catalogue.categories[Int($0)] != 2 && !platform.shownItems.contains($0) })
            if platform.step(.slate(slate), observation: &observation).terminated { break }
        }
    }
}
