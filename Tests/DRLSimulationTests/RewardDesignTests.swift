import DRLData
import DRLSimulation
import DRLTensor
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct RewardDesignTests {
    @Test func mappingWeighsKindsAndThresholdsViews() {
        let shop = RewardMapping.ecommerce
        #expect(shop.reward(for: Feedback(.click)) == 1 && shop.reward(for: Feedback(.purchase)) == 10)
        #expect(shop.reward(for: Feedback(.impression)) == 0)
        let feed = RewardMapping.video
        #expect(feed.reward(for: Feedback(.view, value: 0.2)) == 0)      // below the 30% threshold
        #expect(feed.reward(for: Feedback(.view, value: 0.5)) == 0.5)    // its watched fraction past it
        #expect(feed.reward(for: Feedback(.skip)) == -0.1)
        #expect(RewardMapping.tier(of: .click) == .immediate && RewardMapping.tier(of: .like) == .deeper)
        #expect(RewardMapping.tier(of: .purchase) == .delayed && RewardMapping.tier(of: .impression) == .none)
        for kind in FeedbackKind.allCases { #expect(FeedbackKind(name: kind.name) == kind) }
    }

    /// A purchase three steps after the click that led to it adds γ³·r to the click's step.
    @Test func delayedFeedbackIsCreditedToItsCauseDiscounted() {
        var ledger = DelayedRewardLedger(gamma: 0.9)
        for _ in 0..<6 { ledger.beginStep() }
        ledger.credit(1, causedBy: 2, arrivedAt: 2)
        ledger.credit(10, causedBy: 2, arrivedAt: 5)
        ledger.credit(3, causedBy: 4, arrivedAt: 4)
        let expected: [Float] = [0, 0, 1 + 10 * 0.729, 0, 3, 0]
        for (got, want) in zip(ledger.rewards, expected) { #expect(abs(got - want) < 1e-5) }
    }

    @Test func returnsDiscountPerStepOrPerTimeGap() {
        let returns = discountedReturns([1, 0, 2], gamma: 0.5)
        let expected: [Float] = [1.5, 1, 2]   // 1 + ½·(0 + ½·2), 0 + ½·2, 2
        #expect(returns == expected)
        // Gaps of 1 and 2 time units: the second discount is γ².
        let timed = discountedReturns([1, 0, 2], times: [0, 60, 180], gamma: 0.5, timeUnit: 60)
        #expect(abs(timed[1] - 0.25 * 2) < 1e-6 && abs(timed[0] - (1 + 0.5 * 0.5)) < 1e-6)
    }

    @Test func diversityPenaltyIsTheLargestRecentSimilarity() {
        let catalogue = Catalogue(items: 200, categories: 10, dimension: 8, seed: 1)
        let penalty = DiversityPenalty(weight: 0.5, window: 2)
        #expect(abs(penalty.penalty(of: 7, after: [7], in: catalogue) - 1) < 1e-5)
        let recent: [Int32] = [3, 7, 11]
        let expected = max(0, catalogue.similarity(5, 7), catalogue.similarity(5, 11))   // item 3 is outside the window
        #expect(abs(penalty.penalty(of: 5, after: recent[...], in: catalogue) - expected) < 1e-6)
        #expect(abs(penalty.apply(2, item: 5, after: recent[...], in: catalogue) - (2 - 0.5 * expected)) < 1e-6)
        #expect(DiversityPenalty(weight: 0).apply(2, item: 5, after: recent[...], in: catalogue) == 2)
    }

    @Test func objectivesCombineByWeight() {
        let r = ObjectiveRewards(user: 2, platform: 30, advertiser: 1)
        #expect(ObjectiveWeights(user: 1, platform: 0.1, advertiser: 2).combine(r) == 2 + 3 + 2)
        #expect(ObjectiveWeights().combine(r) == 2)
    }

    @Test func catalogueHasALongTailAndUnitEmbeddings() {
        let catalogue = Catalogue(items: 10_000, categories: 20, dimension: 16, seed: 2)
        #expect(abs(catalogue.popularity.reduce(0, +) - 1) < 1e-4)
        let head = catalogue.popularity.sorted(by: >).prefix(2_000).reduce(0, +)
        #expect(head > 0.6, "the top 20% of items should hold most of the popularity, got \(head)")
        for item in stride(from: 0, to: 10_000, by: 997) { #expect(abs(catalogue.similarity(item, item) - 1) < 1e-5) }
        #expect(Set(catalogue.categories).count == 20)
        // Items of one category are closer to each other than to other categories' items, on average.
        var same: Float = 0, other: Float = 0, sameCount = 0, otherCount = 0
        for a in 0..<300 { for b in (a + 1)..<300 {
            if catalogue.categories[a] == catalogue.categories[b] { same += catalogue.similarity(a, b); sameCount += 1 }
            else { other += catalogue.similarity(a, b); otherCount += 1 }
        } }
        #expect(same / Float(sameCount) > other / Float(otherCount) + 0.3)
    }

    /// Blocked categories get −∞ scores, so a top-K never returns them, and a slate holding one is
    /// refused with its position.
    @Test func blockedCategoriesAreNeverRecommended() throws {
        let catalogue = Catalogue(items: 500, categories: 5, dimension: 4, seed: 3)
        let constraints = PlatformConstraints(blocking: [1, 3], in: catalogue)
        var rng = RandomGenerator(seed: 4)
        var scores = Tensor.normal(Shape(3, 500), using: &rng)
        constraints.mask(&scores)
        let (_, slates) = topK(scores, k: 50)
        for item in slates { #expect(constraints.allows(Int(item), in: catalogue)) }
        for item in constraints.blockedItems { #expect(scores[0, Int(item)] == -.infinity) }
        #expect(constraints.blockedItems.count == catalogue.categories.filter { $0 == 1 || $0 == 3 }.count)
        let blocked = constraints.blockedItems[0]
        #expect {
            try constraints.check([slates[0], blocked], in: catalogue)
        } throws: { error in
            guard let violation = error as? ConstraintViolation else { return false }
            return violation.position == 1 && violation.item == Int(blocked) && [1, 3].contains(violation.category)
        }
        try constraints.check(Array(slates[0..<50]), in: catalogue)
    }
}
