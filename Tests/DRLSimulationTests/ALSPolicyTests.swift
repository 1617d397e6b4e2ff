import DRLSimulation
import DRLTensor
import Testing

@Suite struct ALSPolicyTests {

    /// A user without clicks gets the items the logs clicked most; a user with clicks the unseen
    /// items their folded-in factors score highest.
    @Test func ranksByFoldedInFactorsOrLoggedPopularity() throws {
        var configuration = EcommerceConfiguration()
        configuration.items = 1_000
        configuration.categories = 20
        configuration.coldStartShare = 0.5
        let simulator = EcommerceSimulator(configuration: configuration)
        let (policy, log) = try ALSPolicy.trained(on: simulator, logging: MyopicGreedyPolicy(catalogue: simulator.catalogue), users: 200, seed: 99)
        #expect(log.userCount == 200 && log.clicks.contains { !$0.isEmpty })
        let counts = log.matrix(items: configuration.items).itemCounts()
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var slate = [Int32](repeating: 0, count: configuration.slateSize)
        var checkedCold = false, checkedWarm = false
        for seed in UInt64(0)..<10 {
            simulator.reset(seed: seed, observation: &observation)
            policy.recommend(simulator, observation: observation, into: &slate)
            #expect(Set(slate).count == slate.count)
            let scores: [Float]
            if simulator.recentClickedItems.isEmpty {
                scores = counts
                checkedCold = true
            } else {
                let factors = try policy.model.foldIn(items: simulator.recentClickedItems)
                scores = (0..<configuration.items).map { i in (0..<16).reduce(Float(0)) { $0 + factors[flat: $1] * policy.model.itemFactors[i, $1] } }
                checkedWarm = true
            }
            let worstShown = slate.map { scores[Int($0)] }.min()!
            let bestOther = (0..<configuration.items).filter { !slate.contains(Int32($0)) }.map { scores[$0] }.max()!
            #expect(worstShown >= bestOther - 1e-4)
        }
        #expect(checkedCold && checkedWarm)
    }
}
