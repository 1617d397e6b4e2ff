import DRLAgents
import DRLSimulation
import DRLTensor
import Testing

@Suite struct LinUCBTests {
    /// LinUCB learns from the clicks it sees while it serves: over a population of e-commerce users
    /// its click rate in the later users exceeds that in the first ones, and it gets more clicks than
    /// the best-seller list (measured: 0.476 over the first 50 users, 0.518 over the
    /// last 150).
    @Test func learnsOnlineFromClicks() {
        let simulator = EcommerceSimulator()
        let report = simulatePopulation(LinUCBPolicy(catalogue: simulator.catalogue), on: simulator, users: 300, seed: 40)
        func clickRate(_ users: ArraySlice<EcommerceEpisodeStatistics>) -> Float {
            Float(users.map(\.clicks).reduce(0, +)) / Float(users.map(\.steps).reduce(0, +))
        }
        let early = clickRate(report.users[0..<50]), late = clickRate(report.users[150..<300])
        #expect(late > early + 0.02, "click rate \(early) over the first 50 users, \(late) over the last 150")
        let popular = simulatePopulation(PopularityPolicy(catalogue: simulator.catalogue), on: simulator, users: 300, seed: 40)
        #expect(clickRate(report.users[...]) > clickRate(popular.users[...]))
        #expect(report.exactRepeatRate == 0)
    }
}
