import DRLData
import DRLSimulation
import DRLTensor
import Testing

@Suite struct EcommerceObservedUserTests {

    /// The platform's view rebuilt from the events the simulator emitted and the visit's context
    /// alone gives, at every step of 40 users, the observation the simulator gave its agent
    /// (summary and sequence observations), and the shown and clicked items a slate builder reads.
    @Test(arguments: [0, 10]) func aHistoryRebuildsTheSimulatorsObservation(historyTokens: Int) {
        var configuration = EcommerceConfiguration()
        configuration.historyTokens = historyTokens
        let simulator = EcommerceSimulator(configuration: configuration)
        let policy = DiversifiedGreedyPolicy(catalogue: simulator.catalogue)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var rebuilt = observation
        var slate = [Int32](repeating: 0, count: configuration.slateSize)
        var compared = 0, withPurchases = 0
        for user in 0..<40 {
            simulator.reset(seed: UInt64(user), observation: &observation)
            var history = simulator.lastEvents
            while true {
                let view = EcommerceObservedUser(configuration: configuration, history: history, context: simulator.observed.context)
                if historyTokens == 0 {
                    view.writeSummaryObservation(catalogue: simulator.catalogue, into: &rebuilt)
                } else {
                    view.writeSequenceObservation(historyTokens: historyTokens, catalogue: simulator.catalogue, into: &rebuilt)
                }
                #expect(rebuilt.scalars == observation.scalars, "user \(user), step \(view.steps)")
                #expect(view.shownItems == simulator.shownItems && view.recentClicks == simulator.recentClickedItems)
                compared += 1
                policy.recommend(simulator, observation: observation, into: &slate)
                let result = simulator.step(.slate(slate), observation: &observation)
                history += simulator.lastEvents
                if result.terminated || result.truncated { break }
            }
            if history.contains(where: { $0.event == .purchase }) { withPurchases += 1 }
        }
        #expect(compared > 200 && withPurchases > 3)
    }

    @Test func theEventsOfAStepAreTheSlateThenTheUsersResponse() {
        let simulator = EcommerceSimulator()
        let policy = MyopicGreedyPolicy(catalogue: simulator.catalogue)
        var observation = Tensor(zeros: Shape(simulator.observationDimension))
        var slate = [Int32](repeating: 0, count: 10)
        simulator.reset(seed: 2, observation: &observation)
        for _ in 0..<5 {
            policy.recommend(simulator, observation: observation, into: &slate)
            _ = simulator.step(.slate(slate), observation: &observation)
            let events = simulator.lastEvents
            #expect(events.prefix(10).map(\.item) == slate && events.prefix(10).map(\.value) == (1...10).map(Float.init))
            #expect(events.prefix(10).allSatisfy { $0.event == .impression })
            if let click = events.dropFirst(10).first(where: { $0.event == .click }) {
                #expect(click.item == simulator.lastClickedItem)
            } else {
                #expect(simulator.lastClickedItem == nil)
            }
        }
    }

    @Test func aContextOutsideThePlatformsValuesIsNamed() {
        let user = EcommerceObservedUser(configuration: EcommerceConfiguration())
        #expect(user.contextProblem([0, 12, 0, 0, 3, 0, 0]) == nil)
        #expect(user.contextProblem([3, 12, 0, 0, 3, 0, 0]) == "field 'device' is 3.0; it must be a device in 0...2")
        #expect(user.contextProblem([0, 24, 0, 0, 3, 0, 0]) == "field 'hour' is 24.0; it must be an hour in [0, 24)")
        #expect(user.contextProblem([0, 12, 0.5, 0, 3, 0, 0]) == "field 'low_frequency' is 0.5; it must be 0 or 1")
        #expect(user.contextProblem([0, 12, 0, 0, 8, 0, 0]) == "field 'segment' is 8.0; it must be a segment in 0...7")
        #expect(user.contextProblem([0, 12, 0, 0, 3, 0]) == "has 6 values for the columns \(EcommerceObservedUser.contextColumns)")
    }
}
