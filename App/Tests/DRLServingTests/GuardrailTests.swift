import DRLData
import DRLRanking
import DRLTensor
import Foundation
import Testing
@testable import DRLServing

@Suite struct GuardrailTests {
    /// Two arms converting at the boundary of the null hypothesis (the candidate exactly
    /// `tolerance` below the control), checked every 50 lists up to 10,000 lists per arm, as the
    /// server checks at every poll: the sequential test rolls back at most about 1 − confidence of
    /// such rollouts (3 of these 400; the one-sided z-test at 99% it replaced, taken at every look,
    /// rolled back 34 of the same 400); a candidate a third worse is rolled back in nearly every
    /// rollout, after a few hundred lists.
    @Test func repeatedLooksKeepTheFalseAlarmRate() {
        let guardrail = Guardrail()
        func rollbacks(control: Double, candidate: Double, seed: UInt64) -> (count: Int, medianLists: Int) {
            var rng = RandomGenerator(seed: seed)
            var stopped: [Int] = []
            for _ in 0..<400 {
                var c = ArmOutcome(), t = ArmOutcome()
                for lists in 1...10_000 {
                    c.served += 1
                    t.served += 1
                    if Double(rng.uniform()) < control { c.converted += 1 }
                    if Double(rng.uniform()) < candidate { t.converted += 1 }
                    if lists % 50 == 0, case .rollBack = guardrail.verdict(control: c, candidate: t) {
                        stopped.append(lists)
                        break
                    }
                }
            }
            return (stopped.count, stopped.isEmpty ? 0 : stopped.sorted()[stopped.count / 2])
        }
        let null = rollbacks(control: 0.3, candidate: 0.3 * (1 - guardrail.tolerance), seed: 21)
        #expect(null.count <= 8, "\(null.count) of 400 rollouts at the null's boundary were rolled back")
        let worse = rollbacks(control: 0.3, candidate: 0.2, seed: 22)
        #expect(worse.count >= 396, "only \(worse.count) of 400 rollouts of a worse candidate were rolled back")
        #expect(worse.medianLists <= 2_000, "a worse candidate ran \(worse.medianLists) lists at the median")
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

    /// With an impression log, only feedback that names a list the user was served converts it,
    /// once: purchases posted for control users without their lists' ids (an attacker knows user
    /// ids, not impression ids) leave the outcomes as they are, as does feedback naming another
    /// user's list (refused) or a list twice. Without the log, the forged purchases would convert.
    @Test func feedbackWithoutTheListItAnswersCannotMoveTheGuardrail() async throws {
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("guardrail-forged"))
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, parent: "v1", scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        try registry.startRollout("v2", share: 0.5)
        var configuration = RecommendationService.Configuration()
        configuration.impressionLogPath = registry.directory + "/impressions.csv"
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
        defer { service.feedbackLog.shutDown(); service.impressionLog?.shutDown() }
        var answers: [(user: String, answer: Recommendation)] = []
        for user in 0..<40 {
            var request = RecommendRequest(user: "u\(user)", k: 2)
            request.context = ["stride": 1]
            request.history = [.init(item: "i\(user % 24)", event: .click, timestamp: 0)]
            answers.append(("u\(user)", try await service.recommend(request)))
        }
        let before = try #require(service.rolloutOutcomes)
        #expect(before.control.served + before.candidate.served == 40 && before.control.converted == 0 && before.candidate.converted == 0)
        // Forged: a purchase of each control user's first item, naming no list.
        for (user, answer) in answers where answer.arm == .control {
            try await service.feedback(FeedbackEvent(user: user, item: answer.items[0].id, timestamp: 1, event: .purchase, context: [1]))
        }
        #expect(service.rolloutOutcomes! == before)
        // Naming another user's list is refused.
        let (victim, list) = answers.first { $0.answer.arm == .candidate }!
        #expect(throws: RequestError.self) { try service.servedList(impression: list.impression!, position: 1, item: list.items[0].id, user: "mallory") }
        // The user's own feedback naming their list converts it, once.
        let served = try service.servedList(impression: list.impression!, position: 1, item: list.items[0].id, user: victim)
        for _ in 0..<3 {
            try await service.feedback(FeedbackEvent(user: victim, item: list.items[0].id, timestamp: 2, event: .click, context: [1], served: served))
        }
        #expect(service.rolloutOutcomes!.candidate.converted == 1 && service.rolloutOutcomes!.control.converted == 0)
    }
}
