import DRLData
import DRLRanking
import DRLTensor
import Foundation
import Testing
@testable import DRLServing

@Suite struct GuardrailTests {
    @Test func normalQuantileMatchesKnownValues() {
        #expect(abs(Guardrail.normalQuantile(0.975) - 1.959964) < 1e-5)
        #expect(abs(Guardrail.normalQuantile(0.99) - 2.326348) < 1e-5)
        #expect(abs(Guardrail.normalQuantile(0.5)) < 1e-12)
        #expect(abs(Guardrail.normalQuantile(0.001) + 3.090232) < 1e-5)
    }

    @Test func judgesOnlyClearShortfalls() {
        let guardrail = Guardrail()
        #expect(guardrail.verdict(control: ArmOutcome(served: 400, converted: 200), candidate: ArmOutcome(served: 400, converted: 10)) == .keep)  // too few
        #expect(guardrail.verdict(control: ArmOutcome(served: 1000, converted: 300), candidate: ArmOutcome(served: 1000, converted: 290)) == .keep)
        #expect(guardrail.verdict(control: ArmOutcome(served: 1000, converted: 300), candidate: ArmOutcome(served: 1000, converted: 350)) == .keep)
        guard case .rollBack(let reason) = guardrail.verdict(control: ArmOutcome(served: 1000, converted: 300), candidate: ArmOutcome(served: 1000, converted: 200)) else {
            Issue.record("a drop from 30% to 20% over 1000 lists each was kept")
            return
        }
        #expect(reason.contains("200/1000") && reason.contains("300/1000"))
        // Arms at 0% and 100% have no variance of their own: the extreme shortfall is still seen,
        // and two arms that never convert are kept.
        guard case .rollBack = guardrail.verdict(control: ArmOutcome(served: 600, converted: 600), candidate: ArmOutcome(served: 667, converted: 0)) else {
            Issue.record("0 of 667 against 600 of 600 was kept")
            return
        }
        #expect(guardrail.verdict(control: ArmOutcome(served: 600, converted: 0), candidate: ArmOutcome(served: 667, converted: 0)) == .keep)
        #expect(guardrail.verdict(control: ArmOutcome(served: 600, converted: 600), candidate: ArmOutcome(served: 667, converted: 667)) == .keep)
    }

    /// A simulated rollout: users walk the cycle, get two items, and click the one that comes
    /// next in their walk when it is there. A candidate that has learnt nothing is rolled back
    /// by the guardrail; a candidate as good as the control runs on.
    @Test(arguments: [false, true])
    func rollsBackAWorseCandidate(candidateIsWorse: Bool) async throws {
        // The feedback log on a memory file system when there is one: the test is about the
        // guardrail, not about fsync's speed.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/drlrec-guardrail-\(UUID().uuidString)" : Fixtures.scratchDirectory("guardrail")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let registry = try ModelRegistry(directory: base)
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        var candidate = Fixtures.cycleCheckpoint
        if candidateIsWorse {
            candidate = base + "/untrained.safetensors"
            let log = Fixtures.cycleLog()
            try NextItemModel(log: log, categories: [Int32](repeating: 0, count: log.itemCount), seed: 9).save(to: candidate)
        }
        try registry.register(checkpoint: candidate, parent: "v1", scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        try registry.startRollout("v2", share: 0.5)
        let service = try RecommendationService(registry: registry, feedbackPath: base + "/feedback.csv")
        defer { service.feedbackLog.shutDown() }

        var rng = RandomGenerator(seed: 11)
        var stoppedAfter: Int?
        for user in 0..<3_000 where stoppedAfter == nil {
            let stride = 1 + rng.nextIndex(below: 3), start = rng.nextIndex(below: 24)
            var request = RecommendRequest(user: "sim\(user)", k: 2)
            request.context = ["stride": Double(stride)]
            request.history = (0..<4).map { .init(item: "i\((start + $0 * stride) % 24)", event: .click, timestamp: Int64($0 * 3600)) }
            let answer = try await service.recommend(request)
            let next = "i\((start + 4 * stride) % 24)"
            let clicked = answer.items.contains { $0.id == next }
            try await service.feedback(FeedbackEvent(user: "sim\(user)", item: clicked ? next : answer.items[0].id, timestamp: 4 * 3600,
                                                     event: clicked ? .click : .skip, context: [Float(stride)]))
            if user % 50 == 49, try service.enforceGuardrail() != nil { stoppedAfter = user + 1 }
        }
        let state = try registry.state()
        if candidateIsWorse {
            #expect(stoppedAfter != nil, "outcomes \(String(describing: service.rolloutOutcomes))")
            #expect(state.rollout == nil && state.production == "v1")
            #expect(state.events.last?.action == "stop-rollout" && state.events.last?.note?.hasPrefix("guardrail") == true)
            // Once stopped, every user is served by the control.
            var request = RecommendRequest(user: "after", k: 2)
            request.history = []
            #expect(try await service.recommend(request).version == "v1")
        } else {
            #expect(stoppedAfter == nil, "an equal candidate was rolled back: \(state.events.last?.note ?? "")")
            #expect(state.rollout?.candidate == "v2")
            let outcomes = try #require(service.rolloutOutcomes)
            #expect(abs(Double(outcomes.candidate.served) / 3_000 - 0.5) < 0.03)
        }
    }
}
