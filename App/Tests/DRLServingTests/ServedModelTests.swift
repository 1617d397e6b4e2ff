import DRLData
import DRLRanking
import Testing
@testable import DRLServing

@Suite struct ServedModelTests {
    static let history = [UserEvent(item: 3, event: .click, value: 1, timestamp: 0), UserEvent(item: 4, event: .click, value: 1, timestamp: 3_600)]

    /// The latency budget is a circuit breaker: a scoring that overruns it is discarded, and the
    /// version then answers nothing, however ample the budget, until its cooldown has passed.
    @Test func anOverrunBypassesTheVersionForItsCooldown() throws {
        let held = try ServedModel(version: "v1", checkpoint: Fixtures.cycleCheckpoint, replicas: 1, cooldown: .seconds(600))
        #expect(held.scores(history: Self.history, context: [1], budget: .nanoseconds(1)) == .failure(.timeout))
        #expect(held.scores(history: Self.history, context: [1], budget: .seconds(600)) == .failure(.timeout))

        let released = try ServedModel(version: "v1", checkpoint: Fixtures.cycleCheckpoint, replicas: 1, cooldown: .zero)
        #expect(released.scores(history: Self.history, context: [1], budget: .nanoseconds(1)) == .failure(.timeout))
        guard case .success(let scores) = released.scores(history: Self.history, context: [1], budget: .seconds(600)) else {
            Issue.record("a version past its cooldown did not answer")
            return
        }
        #expect(scores.count == released.itemCount && scores.allSatisfy(\.isFinite))
    }
}
