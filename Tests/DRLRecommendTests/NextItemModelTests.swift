import DRLRecommend
import DRLTensor
import Testing

@Suite struct NextItemModelTests {

    /// Users walk a cycle of 24 items, each with a stride of their own (1, 2 or 3, told by the
    /// context), so the next item follows from the last one and the stride. The ranker, trained
    /// at every position, puts the held-out next item first for most users, where popularity
    /// cannot.
    @Test func learnsSequentialPatterns() throws {
        var log = LoggedInteractions(contextColumns: ["stride"])
        var rng = RandomGenerator(seed: 4)
        let items = 24
        for user in 0..<90 {
            let stride = 1 + user % 3
            var item = rng.nextIndex(below: items)
            for t in 0..<(10 + rng.nextIndex(below: 6)) {
                log.append(user: "u\(user)", item: "i\(item)", timestamp: Int64(t * 3_600), event: .click, context: [Float(stride)])
                item = (item + stride) % items
            }
        }
        let split = LeaveOneOutSplit(log)
        var configuration = NextItemModel.Configuration()
        configuration.historyLength = 8
        configuration.dimension = 16
        configuration.epochs = 30
        configuration.batchSize = 16
        configuration.learningRate = 3e-3
        configuration.validationInterval = 5
        let model = NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), configuration: configuration, seed: 1)
        try model.train(on: split, seed: 2)
        let test = model.evaluate(split, on: .test, k: 1)
        #expect(test.hitRate > 0.8, "HR@1 \(test.hitRate); validation curve \(model.validationCurve)")
        let counts = Tensor(shape: Shape(split.items), scalars: split.trainingCounts)
        let popularity = evaluateRanking(split, on: .test, k: 1) { _, scores in scores.copy(from: counts) }
        #expect(test.hitRate > popularity.hitRate + 0.5, "popularity HR@1 \(popularity.hitRate)")
    }
}
