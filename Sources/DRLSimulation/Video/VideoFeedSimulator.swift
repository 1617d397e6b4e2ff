import DRLAgents
import DRLData
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one simulated viewer did over an episode.
public struct VideoEpisodeStatistics: Sendable, Equatable {
    public var lowFrequency = false
    public var sessions = 0, screens = 0, views = 0, skips = 0, fullPlays = 0
    public var likes = 0, shares = 0, subscribes = 0, playlists = 0
    public var watchMinutes: Float = 0
    /// Clickbait views (bait above 0.5).
    public var baitViews = 0
    /// The viewer came back on the last day of the week.
    public var activeOnLastDay = false
    public var finalSatisfaction: Float = 0
}

/// A video or news feed: dense sessions in which each screen shows a few videos and the viewer
/// watches one (for some of its length) or scrolls on. Videos differ in quality and in clickbait:
/// bait draws the click but is abandoned early and erodes satisfaction, quality is watched to the
/// end, liked and shared and builds it. The head of the popularity distribution is baitier, as it
/// is on real feeds. Device and time of day tilt what the viewer wants; watching pulls the interest
/// towards what was watched; repetition tires a category. Satisfaction sets the chance of coming
/// back on each later day. An episode is one viewer over `days` days.
///
/// Observation (dimension 10 + 2·dimension), as the e-commerce one: device (3), time of day (sin,
/// cos), the low-frequency flag, a zero (no cold start here), the mean embedding of the last 5
/// watched videos, the mean embedding of the last two screens, the session's elapsed share, the
/// day's progress and the watch rate of the last 5 screens.
public final class VideoFeedSimulator: RecommendationEnvironment {
    public let configuration: VideoFeedConfiguration
    public let catalogue: Catalogue
    public var retrievalSize: Int { configuration.retrieval }
    public var retrievalStanding: Int { configuration.retrievalStanding }
    public let constraints: PlatformConstraints
    public let observationSpace: Space
    public let actionSpace: Space
    /// Quality and clickbait of each video, in [0, 1], and its length in minutes.
    public let quality: [Float], bait: [Float], minutes: [Float]
    /// What the platform knows of each video's quality: its historical watch fraction for a
    /// typical viewer, estimated with noise (not its true quality).
    public let itemQualitySignal: [Float]?
    public private(set) var statistics = VideoEpisodeStatistics()
    private var rng = RandomGenerator(seed: 0)
    private var interest: [Float], effective: [Float], fatigue: [Float]
    private let contextDirections: Tensor
    private var satisfaction: Float = 0
    /// The session's time of day (one of four 6-hour slots) and the current skip streak.
    private var slot = 0, skipStreak = 0
    public private(set) var lastClickedItem: Int32?
    /// What the platform has observed of the current viewer: their context and the events so far,
    /// from which the observation is built (as a served ranker builds it from a logged history).
    public private(set) var observed: VideoObservedUser
    /// The events of the last `reset` or `step`, in order: what the platform logs of them.
    public private(set) var lastEvents: [UserEvent] = []
    private var utilities: [Float], weights: [Float]

    public init(configuration: VideoFeedConfiguration = VideoFeedConfiguration(), catalogueSeed: UInt64 = 11) {
        let c = configuration
        require(c.slateSize >= 1 && c.slateSize <= c.items && c.days >= 1 && c.sessionMinutes > 0 && c.lowFrequencySessionMinutes > 0,
                "VideoFeedConfiguration: slate \(c.slateSize), days \(c.days) and session minutes must be positive")
        self.configuration = configuration
        observed = VideoObservedUser(configuration: configuration)
        catalogue = Catalogue(items: c.items, categories: c.categories, dimension: c.dimension, seed: catalogueSeed)
        constraints = PlatformConstraints.none(catalogue)
        var itemRandom = RandomGenerator(seed: catalogueSeed, stream: 0x51DE0)
        let headness = catalogue.popularityRank.map { 1 - Float($0) / Float(c.items - 1) }
        bait = headness.map { h in 1 / (1 + expf(-(3 * h - 3 + itemRandom.normal()))) }
        quality = bait.map { b in min(max(0.7 - 0.5 * b + 0.15 * itemRandom.normal(), 0), 1) }
        minutes = (0..<c.items).map { _ in min(max(4 * expf(0.5 * itemRandom.normal()), 0.5), 30) }
        // One interest tilt per (device, time slot): 3 devices × 4 slots of the day.
        var directions = Tensor.normal(Shape(12, c.dimension), using: &itemRandom)
        directions.withUnsafeMutableBufferPointer { p in
            for r in 0..<12 {
                var norm: Float = 0
                for j in 0..<c.dimension { norm += p[r * c.dimension + j] * p[r * c.dimension + j] }
                for j in 0..<c.dimension { p[r * c.dimension + j] /= norm.squareRoot() }
            }
        }
        contextDirections = directions
        itemQualitySignal = zip(quality, bait).map { q, b in
            let typical = 1 / (1 + expf(-c.watchSlope * (0.5 + q - c.watchCentre))) * (1 - c.baitPenalty * b)
            return min(max(typical + 0.05 * itemRandom.normal(), 0), 1)
        }
        let dimension = 10 + 2 * c.dimension
        observationSpace = .box(low: Array(repeating: -1, count: dimension), high: Array(repeating: 1, count: dimension))
        actionSpace = .slate(candidates: c.items, k: c.slateSize)
        interest = Array(repeating: 0, count: c.dimension)
        effective = interest
        fatigue = Array(repeating: 0, count: c.categories)
        utilities = Array(repeating: 0, count: c.slateSize + 1)
        weights = utilities
    }

    public var observationDimension: Int { observationSpace.dimension }
    public var slateSize: Int { configuration.slateSize }
    public var shownItems: Set<Int32> { observed.shownItems }
    public var recentClickedItems: [Int32] { observed.watched }
    public var currentSatisfaction: Float { satisfaction }
    public var currentInterest: [Float] { interest }
    /// Minutes left in the current session.
    public var remainingSessionMinutes: Float {
        (observed.lowFrequency ? configuration.lowFrequencySessionMinutes : configuration.sessionMinutes) - observed.sessionMinutes
    }

    /// The viewer's fit with a video in the current context (cosine of the tilted interest and the embedding).
    public func fit(_ item: Int) -> Float {
        var sum: Float = 0
        for j in 0..<configuration.dimension { sum += effective[j] * catalogue.embeddings[item, j] }
        return sum
    }

    public func reset(seed: UInt64?, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed, stream: 0x51D) }
        let c = configuration
        observed.startOver()
        lastEvents.removeAll(keepingCapacity: true)
        observed.lowFrequency = rng.uniform() < c.lowFrequencyShare
        SimulatedUser.randomInterest(&interest, catalogue: catalogue, using: &rng)
        for k in fatigue.indices { fatigue[k] = 0 }
        satisfaction = c.initialSatisfaction
        lastClickedItem = nil
        statistics = VideoEpisodeStatistics()
        statistics.lowFrequency = observed.lowFrequency
        statistics.sessions = 1
        startSession()
        writeObservation(&observation)
    }

    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .slate(let slate) = action else { requirementFailure("VideoFeedSimulator takes a .slate action, got \(action)") }
        let c = configuration
        require(slate.count == c.slateSize, "VideoFeedSimulator: the slate has \(slate.count) videos; a screen shows \(c.slateSize)")
        for (position, item) in slate.enumerated() {
            require(item >= 0 && Int(item) < c.items, "VideoFeedSimulator: slate position \(position) holds video \(item), outside 0..<\(c.items)")
            require(!slate[..<position].contains(item), "VideoFeedSimulator: video \(item) appears twice on the screen")
        }
        lastEvents.removeAll(keepingCapacity: true)
        for (position, item) in slate.enumerated() {
            let i = Int(item)
            utilities[position] = fit(i) + c.clickbaitAppeal * bait[i] - c.fatigueWeight * fatigue[Int(catalogue.categories[i])]
                - (observed.shownItems.contains(item) ? c.repeatPenalty : 0)
        }
        utilities[c.slateSize] = c.skipUtility
        let largest = utilities.max()!
        for k in 0...c.slateSize { weights[k] = expf(c.choiceTemperature * (utilities[k] - largest)) }
        let choice = weights.withUnsafeBufferPointer { rng.categorical($0) }
        for k in fatigue.indices { fatigue[k] *= c.fatigueDecay }
        for item in slate { fatigue[Int(catalogue.categories[Int(item)])] += c.fatigueIncrement }
        statistics.screens += 1
        let time = Int64(statistics.screens)
        for (position, item) in slate.enumerated() { emit(UserEvent(item: item, event: .impression, value: Float(position + 1), timestamp: time)) }
        var reward: Float = 0
        var minutesSpent = c.browseMinutes
        lastClickedItem = choice < c.slateSize ? slate[choice] : nil
        if choice < c.slateSize {
            let item = Int(slate[choice])
            let fraction = 1 / (1 + expf(-c.watchSlope * (fit(item) + quality[item] - c.watchCentre))) * (1 - c.baitPenalty * bait[item])
            let watchedMinutes = fraction * minutes[item]
            minutesSpent += watchedMinutes
            statistics.views += 1
            statistics.watchMinutes += watchedMinutes
            if bait[item] > 0.5 { statistics.baitViews += 1 }
            skipStreak = fraction < c.abandonedView ? skipStreak + 1 : 0
            reward += c.reward.reward(for: Feedback(.view, value: fraction))
            emit(UserEvent(item: Int32(item), event: .view, value: fraction, timestamp: time))
            func engage(_ kind: FeedbackKind) {
                reward += c.reward.reward(for: Feedback(kind))
                emit(UserEvent(item: Int32(item), event: kind, timestamp: time))
            }
            if fraction > 0.95 {
                statistics.fullPlays += 1
                engage(.fullPlay)
            }
            let q = quality[item]
            if rng.uniform() < c.likeRate * q * fraction { statistics.likes += 1; engage(.like) }
            if rng.uniform() < c.shareRate * q * fraction { statistics.shares += 1; engage(.share) }
            if rng.uniform() < c.subscribeRate * q * fraction { statistics.subscribes += 1; engage(.subscribe) }
            if rng.uniform() < c.playlistRate * fraction { statistics.playlists += 1; engage(.addToPlaylist) }
            satisfaction += c.satisfactionQuality * (fraction * q - c.satisfactionBait * bait[item])
            for j in 0..<c.dimension { interest[j] += c.interestDrift * fraction * (catalogue.embeddings[item, j] - interest[j]) }
            SimulatedUser.normalize(&interest)
            updateEffectiveInterest()
        } else {
            statistics.skips += 1
            skipStreak += 1
            satisfaction -= c.satisfactionSkip
            reward += c.reward.reward(for: Feedback(.skip))
        }
        satisfaction = min(max(satisfaction, 0), 1)
        observed.sessionMinutes += minutesSpent
        let terminated = false
        var truncated = false
        if remainingSessionMinutes <= 0 || skipStreak >= c.patience {
            observed.day += 1
            let returnProbability = (observed.lowFrequency ? c.lowFrequencyReturnBase : c.returnBase) + c.returnSlope * satisfaction
            while observed.day < c.days && rng.uniform() >= returnProbability { observed.day += 1 }
            if observed.day >= c.days {
                truncated = true
            } else {
                statistics.sessions += 1
                if observed.day == c.days - 1 { statistics.activeOnLastDay = true }
                startSession()
            }
        }
        if terminated || truncated { statistics.finalSatisfaction = satisfaction }
        writeObservation(&observation)
        return StepResult(reward: reward, terminated: terminated, truncated: truncated)
    }

    private func startSession() {
        observed.sessionMinutes = 0
        skipStreak = 0
        observed.device = rng.nextIndex(below: 3)
        slot = rng.nextIndex(below: 4)
        observed.hour = Float(slot) * 6 + 3
        updateEffectiveInterest()
    }

    private func emit(_ event: UserEvent) {
        observed.record(event)
        lastEvents.append(event)
    }

    /// The interest tilted towards the session's context direction.
    private func updateEffectiveInterest() {
        let c = configuration, row = observed.device * 4 + slot
        for j in 0..<c.dimension { effective[j] = interest[j] + c.contextShift * contextDirections[row, j] }
        SimulatedUser.normalize(&effective)
    }


    private func writeObservation(_ observation: inout Tensor) {
        require(observation.count == observationDimension,
                "VideoFeedSimulator observations have \(observationDimension) elements; got a tensor of shape \(observation.shape)")
        observed.writeObservation(catalogue: catalogue, into: &observation)
    }
}
