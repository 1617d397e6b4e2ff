import DRLData
import DRLRanking
import Foundation
import Testing
@testable import DRLServing

@Suite struct ServableModelTests {
    /// A registry whose v1 is the cycle next-item model and v2 a `FixedScoresModel` over the same
    /// catalogue that prefers later items, in production (v1 is its fallback).
    func mixedRegistry() throws -> (registry: ModelRegistry, items: [String]) {
        let cycle = try NextItemModel.load(from: Fixtures.cycleCheckpoint)
        let registry = try ModelRegistry(directory: Fixtures.scratchDirectory("servable"))
        let fixed = registry.directory + "/fixed.safetensors"
        try FixedScoresModel.save(items: cycle.itemIds, contextColumns: cycle.contextColumns, scores: cycle.itemIds.indices.map(Float.init), to: fixed)
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.register(checkpoint: fixed, parent: "v1", scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        try registry.promote("v2")
        return (registry, cycle.itemIds)
    }

    func request(seen item: String) -> RecommendRequest {
        var request = RecommendRequest(user: "a", k: 3)
        request.history = [.init(item: item, event: .click, timestamp: 0)]
        return request
    }

    /// Each version is loaded as the kind its checkpoint names, so a model of another kind serves
    /// beside next-item models, with the service's checks, seen-item exclusion and fallback chain.
    @Test func servesAModelOfAnotherKind() async throws {
        let (registry, items) = try mixedRegistry()
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        configuration.modelKinds = ServableModelKinds([NextItemModel.self, FixedScoresModel.self])
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
        defer { service.feedbackLog.shutDown() }
        #expect(service.loadFailures.isEmpty)

        let answer = try await service.recommend(request(seen: items[23]))
        #expect(answer.version == "v2" && answer.fallback == nil)
        #expect(answer.items.map(\.id) == [items[22], items[21], items[20]])
        #expect(answer.items.map(\.score) == [22, 21, 20])

        // A model that breaks the contract (23 scores for 24 items) is answered by its fallback.
        let broken = registry.directory + "/broken.safetensors"
        try FixedScoresModel.save(items: items, contextColumns: ["stride"], scores: [Float](repeating: 1, count: 23), to: broken)
        try registry.register(checkpoint: broken, parent: "v2", scenario: "cycle", dataHash: "d")
        try registry.promote("v3")
        try service.reload()
        let fallback = try await service.recommend(request(seen: items[23]))
        #expect(fallback.version == "v2" && fallback.fallback == Recommendation.Fallback(fault: .wrongScoreCount, servedBy: "v2"))
    }

    /// A model rules an item out with −∞: it is not shown, not even by exploration; +∞ (or NaN)
    /// is a fault, answered by the fallback.
    @Test func minusInfinityRulesAnItemOutAndPlusInfinityIsAFault() async throws {
        let (registry, items) = try mixedRegistry()
        let ruledOut = registry.directory + "/ruled-out.safetensors"
        var scores = items.indices.map(Float.init)
        (scores[22], scores[21]) = (-.infinity, -.infinity)
        try FixedScoresModel.save(items: items, contextColumns: ["stride"], scores: scores, to: ruledOut)
        try registry.register(checkpoint: ruledOut, parent: "v2", scenario: "cycle", dataHash: "d")
        try registry.promote("v3")
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        configuration.modelKinds = ServableModelKinds([NextItemModel.self, FixedScoresModel.self])
        configuration.exploration = SlateExploration(epsilon: 0.5, explorer: .uniform)
        configuration.explorationSeed = 9
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv", configuration: configuration)
        defer { service.feedbackLog.shutDown() }
        var shown = Set<String>()
        for _ in 0..<300 {
            let answer = try await service.recommend(request(seen: items[23]))
            #expect(answer.version == "v3" && answer.fallback == nil)
            shown.formUnion(answer.items.map(\.id))
        }
        #expect(shown.count == items.count - 3 && !shown.contains(items[22]) && !shown.contains(items[21]))

        scores[5] = .infinity
        try FixedScoresModel.save(items: items, contextColumns: ["stride"], scores: scores, to: ruledOut)
        try registry.register(checkpoint: ruledOut, parent: "v3", scenario: "cycle", dataHash: "d")
        try registry.promote("v4")
        try service.reload()
        let fallback = try await service.recommend(request(seen: items[23]))
        #expect(fallback.fallback == Recommendation.Fallback(fault: .nonFiniteScores, servedBy: "v3"))
    }

    /// A service that does not know a checkpoint's kind refuses that version with the kind named
    /// (its requests fall back), and serves the versions it knows.
    @Test func refusesAKindItDoesNotServe() async throws {
        let (registry, items) = try mixedRegistry()
        let service = try RecommendationService(registry: registry, feedbackPath: registry.directory + "/feedback.csv")
        defer { service.feedbackLog.shutDown() }
        let reason = try #require(service.loadFailures["v2"])
        #expect(reason.contains("holds a 'fixed-scores' model; the kinds served are next-item"), "\(reason)")
        let answer = try await service.recommend(request(seen: items[0]))
        #expect(answer.fallback?.fault == .loadFailed)
        #expect(throws: UnservableCheckpoint(path: Fixtures.cycleCheckpoint, kind: "next-item", served: ["fixed-scores"])) {
            try ServableModelKinds([FixedScoresModel.self]).load(checkpoint: Fixtures.cycleCheckpoint)
        }
    }
}
