/// Settings of `VideoFeedSimulator`; every number of the viewer model is here.
public struct VideoFeedConfiguration: Sendable {
    public var items = 5_000, categories = 30, dimension = 16
    /// Videos per feed screen.
    public var slateSize = 5
    public var days = 7
    /// Minutes a viewer spends per session at most (frequent viewers, and the rest).
    public var sessionMinutes: Float = 40, lowFrequencySessionMinutes: Float = 15
    public var lowFrequencyShare: Float = 0.5
    /// Minutes spent scrolling a screen of the feed.
    public var browseMinutes: Float = 0.3
    /// Consecutive screens without a real view after which the viewer closes the app: a screen
    /// counts when it is skipped or when its video is abandoned below `abandonedView` of its
    /// length (a disappointing click does not renew the viewer's patience; it uses it up).
    public var patience = 3
    public var abandonedView: Float = 0.3
    /// Choice: multinomial logit over the screen and skipping it, with utility fit + clickbaitAppeal·bait
    /// − fatigueWeight·fatigue[category] − repeatPenalty·[seen] and a skip utility `skipUtility`.
    public var choiceTemperature: Float = 6, skipUtility: Float = 0.9
    public var clickbaitAppeal: Float = 0.5, fatigueWeight: Float = 0.6, repeatPenalty: Float = 0.5
    public var fatigueIncrement: Float = 0.08, fatigueDecay: Float = 0.8
    /// Context (device and time of day) tilts the interest towards a context direction by this much.
    public var contextShift: Float = 0.35
    /// Watch fraction σ(watchSlope·(fit + quality − watchCentre))·(1 − baitPenalty·bait): the
    /// viewer leaves a clickbait video soon after the click (pure bait keeps 15% of the watch).
    public var watchSlope: Float = 3, watchCentre: Float = 0.7, baitPenalty: Float = 0.85
    /// Engagement after watching (probabilities scale with quality and the watched fraction).
    public var likeRate: Float = 0.3, shareRate: Float = 0.08, subscribeRate: Float = 0.04, playlistRate: Float = 0.05
    /// Satisfaction: + satisfactionQuality·(watched·quality − satisfactionBait·bait) per view,
    /// − satisfactionSkip per skipped screen. Each later day the viewer opens the app with
    /// probability returnBase + returnSlope·s (lowFrequencyReturnBase for infrequent viewers);
    /// days without a visit are skipped, so the week always runs to its end.
    public var satisfactionQuality: Float = 0.15, satisfactionBait: Float = 0.8, satisfactionSkip: Float = 0.02
    public var initialSatisfaction: Float = 0.5
    public var returnBase: Float = 0.3, lowFrequencyReturnBase: Float = 0.1, returnSlope: Float = 0.6
    public var interestDrift: Float = 0.03
    /// Items the platform's candidate generator passes the list-wise ranker per slate (whole
    /// categories nearest the user's clicks until this many, beside the popular and the best-rated videos; see
    /// `CandidateRetrieval`); 0: the ranker scores the whole catalogue.
    public var retrieval = 0
    /// The candidate generator's most popular and best-rated videos (each), passed whatever the
    /// viewer watched.
    public var retrievalStanding = 200
    public var reward = RewardMapping.video

    public init() {}
}
