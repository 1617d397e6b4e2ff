/// Settings of `EcommerceSimulator`; every number of the user model is here.
public struct EcommerceConfiguration: Sendable {
    public var items = 10_000, categories = 50, dimension = 16
    /// Items per recommended slate.
    public var slateSize = 10
    /// Days an episode may last; a user comes back each day with the return probability.
    public var days = 7
    /// Share of users who visit rarely (short sessions, low return probability).
    public var lowFrequencyShare: Float = 0.6
    /// Share of users who arrive with no history.
    public var coldStartShare: Float = 0.2
    /// Demographic segments (say, age band by region): each prefers `segmentCategories`
    /// categories, and each of a user's interest centres comes from their segment's preferred
    /// categories with probability `segmentAffinity`. The platform knows a user's segment from
    /// their first visit, which is what a cold-start transfer can build on.
    public var segments = 8, segmentCategories = 3
    public var segmentAffinity: Float = 0.9
    /// Slates a frequent user browses per session at most; a low-frequency user's budget.
    public var sessionSteps = 12, lowFrequencySessionSteps = 4
    /// Consecutive ignored slates after which the user leaves the session.
    public var patience = 3
    /// Multinomial-logit choice over the slate and a no-click option: P(i) ∝ exp(τ·uᵢ),
    /// P(none) ∝ exp(τ·u₀).
    public var choiceTemperature: Float = 6
    public var noClickUtility: Float = 1
    /// Utility uᵢ = fit + popularityBias·headness − fatigueWeight·fatigue[category] −
    /// repeatPenalty·[shown before] − positionBias·position, with fit the cosine of the user's
    /// interest and the item, and headness 1 for the most popular item falling to 0 in the tail.
    public var popularityBias: Float = 0.35
    public var fatigueWeight: Float = 0.6
    public var repeatPenalty: Float = 0.3
    public var positionBias: Float = 0.02
    /// Fatigue of a category rises by this per slate item of the category and decays by the factor each step.
    public var fatigueIncrement: Float = 0.03, fatigueDecay: Float = 0.8
    /// Interest moves this fraction towards a clicked item.
    public var driftRate: Float = 0.05
    /// After a click: add to cart with probability σ(cartBase + cartFit·fit − cartPrice·log(price/30)),
    /// otherwise wishlist with `wishlistProbability`; a cart becomes a purchase with
    /// `purchaseProbability`, 1...`maxPurchaseDelay` steps later.
    public var cartBase: Float = -1, cartFit: Float = 2.5, cartPrice: Float = 0.5
    public var wishlistProbability: Float = 0.2
    public var purchaseProbability: Float = 0.6
    public var maxPurchaseDelay = 3
    /// Satisfaction s ∈ [0, 1] (the long-term state): a click adds satisfactionFit·fit −
    /// satisfactionGeneric·headness (generic best-sellers please now but build little), an
    /// ignored slate subtracts satisfactionIgnored, and each step subtracts satisfactionFatigue·
    /// (mean fatigue of the slate's categories).
    public var satisfactionFit: Float = 0.12, satisfactionGeneric: Float = 0.08
    public var satisfactionIgnored: Float = 0.03, satisfactionFatigue: Float = 0.04
    public var initialSatisfaction: Float = 0.5
    /// Probability of coming back the next day: returnBase + returnSlope·s (frequent users) and
    /// lowFrequencyReturnBase + returnSlope·s (low-frequency users).
    public var returnBase: Float = 0.45, lowFrequencyReturnBase: Float = 0.15, returnSlope: Float = 0.5
    /// Interactions a warm user arrives with.
    public var warmHistory = 8
    /// 0: the summary observation (hand-made features). N > 0: the sequence observation, the
    /// context and the last N interactions as tokens for a `SequenceStateEncoder`.
    public var historyTokens = 0
    /// Items outside this top share of popularity are the long tail.
    public var headFraction: Float = 0.2
    /// Items the platform's candidate generator passes the list-wise ranker per slate (whole
    /// categories nearest the user's clicks until this many, beside the popular items; see
    /// `CandidateRetrieval`); 0: the ranker scores the whole catalogue.
    public var retrieval = 0
    /// The candidate generator's most popular items, passed whatever the user clicked.
    public var retrievalStanding = 200
    public var reward = RewardDesign.ecommerce

    public init() {}
}
