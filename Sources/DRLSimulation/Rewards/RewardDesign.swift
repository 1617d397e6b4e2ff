/// How the simulator's feedback becomes the agent's reward: the feedback mapping (user objective),
/// revenue (platform objective, price/100 per purchase), sponsored clicks (advertiser objective:
/// items whose index is a multiple of `sponsoredEvery`), their weights and the diversity penalty
/// applied to each slate item against the recently shown ones.
public struct RewardDesign: Sendable {
    public var mapping: RewardMapping
    public var objectives: ObjectiveWeights
    public var diversity: DiversityPenalty
    public var sponsoredEvery: Int

    public init(mapping: RewardMapping, objectives: ObjectiveWeights = ObjectiveWeights(), diversity: DiversityPenalty = DiversityPenalty(weight: 0),
                sponsoredEvery: Int = 50) {
        self.mapping = mapping
        self.objectives = objectives
        self.diversity = diversity
        self.sponsoredEvery = sponsoredEvery
    }

    public static var ecommerce: RewardDesign {
        RewardDesign(mapping: .ecommerce, objectives: ObjectiveWeights(user: 1, platform: 0, advertiser: 0),
                     diversity: DiversityPenalty(weight: 0.1, window: 10))
    }
}
