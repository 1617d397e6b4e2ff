import DRLAgents
import DRLData
import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one simulated user did over an episode, and what was shown to them.
public struct EcommerceEpisodeStatistics: Sendable, Equatable {
    public var lowFrequency = false, coldStart = false
    public var sessions = 0, sessionsWithPurchase = 0
    public var steps = 0, clicks = 0, carts = 0, purchases = 0
    public var revenue: Float = 0
    /// Slate items shown; those shown to this user before in the episode; and those whose
    /// category was already in the previous slate (the repetition that builds fatigue).
    public var shown = 0, repeated = 0, categoryRepeats = 0
    /// Slate items from the long tail.
    public var tailShown = 0
    /// The user's satisfaction when the episode ended.
    public var finalSatisfaction: Float = 0
    /// Slates of the first day (a cold-start user's early interactions) and the purchases that
    /// followed the first day's clicks.
    public var firstDaySteps = 0, firstDayPurchases = 0
}

/// An e-commerce platform in the spirit of RecSim's interest-evolution and long-term-satisfaction
/// environments. A catalogue of 10,000 items in 50 categories with Zipf popularity; users with
/// latent interests (a few categories each), many of them low-frequency and some arriving cold.
/// Each step shows a slate; the user clicks one item or none by a multinomial logit whose utility
/// rewards fit and popularity and punishes category fatigue and repeats. A click may go to the
/// cart or the wishlist; a cart becomes a purchase a few steps later. Clicks pull the interest
/// towards the item. Satisfaction is the long-term state: well-fitting items raise it, generic
/// best-sellers much less, ignored and fatiguing slates lower it, and it sets the probability that
/// the user comes back the next day. An episode is one user over up to `days` days.
///
/// Summary observation (dimension 10 + 2·dimension + segments): device (3, one-hot), time of day
/// (sin, cos), low-frequency and cold-start flags, the mean embedding of the last 5 clicked items,
/// the mean embedding of the last two slates, the session's progress, the day's progress, the
/// click rate of the last 5 slates and the user's demographic segment (one-hot).
///
/// Sequence observation (`historyTokens` = N > 0), for a `SequenceStateEncoder`: the context
/// (device, time of day, the two flags, session and day progress, click rate, segment: 10 +
/// segments) and the last N clicks, oldest first and padded in front, each a token [item,
/// category, event, slate position / slate size, log(price / 30), steps ago / 10] whose event is
/// the deepest funnel stage the click has reached so far (0 click, 1 wishlist, 2 cart, 3
/// purchase). A warm user's past clicks are clicks at position 0, ten steps back.
public final class EcommerceSimulator: RecommendationEnvironment, SequenceObservable {
    public let configuration: EcommerceConfiguration
    public let catalogue: Catalogue
    public var retrievalSize: Int { configuration.retrieval }
    public var retrievalStanding: Int { configuration.retrievalStanding }
    public let observationSpace: Space
    public let actionSpace: Space
    public let constraints: PlatformConstraints
    /// The statistics of the current episode (complete once it has ended).
    public private(set) var statistics = EcommerceEpisodeStatistics()
    /// What the platform has observed of the current user: their context and the events so far,
    /// from which the observation is built (as a served ranker builds it from a logged history).
    public private(set) var observed: EcommerceObservedUser
    /// The events of the last `reset` or `step`, in order: what the platform logs of them.
    public private(set) var lastEvents: [UserEvent] = []
    private var rng = RandomGenerator(seed: 0)
    private var interest: [Float]
    private var fatigue: [Float]
    private var satisfaction: Float = 0
    /// The preferred categories of each demographic segment (fixed by the catalogue seed).
    public let segmentPreferences: [[Int]]
    private var ignoredStreak = 0
    public private(set) var lastClickedItem: Int32?
    /// Interactions remembered for sequence observations, of this simulator's or of a policy's.
    public var interactionMemory: Int { observed.interactionMemory }
    /// Purchases waiting to arrive: arrival step, item, and the day of the click that caused it.
    private var pendingPurchases: [(arrival: Int, item: Int, day: Int)] = []
    private var utilities: [Float], weights: [Float]
    private let headness: [Float]
    /// Running sums of the popularity, for drawing items by popularity in O(log items).
    private let cumulativePopularity: [Float]

    public init(configuration: EcommerceConfiguration = EcommerceConfiguration(), catalogueSeed: UInt64 = 7,
                blockedCategories: Set<Int32> = []) {
        let c = configuration
        require(c.slateSize >= 1 && c.slateSize <= c.items && c.days >= 1 && c.sessionSteps >= 1 && c.lowFrequencySessionSteps >= 1,
                "EcommerceConfiguration: slate \(c.slateSize), days \(c.days) and session budgets must be positive, with the slate within \(c.items) items")
        require(c.historyTokens >= 0, "EcommerceConfiguration: historyTokens \(c.historyTokens) must be ≥ 0")
        require(c.segments >= 1 && (1...c.categories).contains(c.segmentCategories),
                "EcommerceConfiguration: \(c.segments) segments must be at least 1, each preferring 1...\(c.categories) categories, got \(c.segmentCategories)")
        self.configuration = configuration
        observed = EcommerceObservedUser(configuration: configuration)
        catalogue = Catalogue(items: c.items, categories: c.categories, dimension: c.dimension, seed: catalogueSeed)
        constraints = PlatformConstraints(blocking: blockedCategories, in: catalogue)
        var segmentRNG = RandomGenerator(seed: catalogueSeed, stream: 0x5E6)
        segmentPreferences = (0..<c.segments).map { _ in Array(segmentRNG.permutation(c.categories).prefix(c.segmentCategories)) }
        if c.historyTokens == 0 {
            let dimension = 10 + 2 * c.dimension + c.segments
            observationSpace = .box(low: Array(repeating: -1, count: dimension), high: Array(repeating: 1, count: dimension))
        } else {
            let context = 10 + c.segments
            let tokenLow: [Float] = [-1, -1, 0, 0, -10, 0], tokenHigh: [Float] = [Float(c.items - 1), Float(c.categories - 1), 3, 1, 10, 1e6]
            observationSpace = .box(low: Array(repeating: -1, count: context) + Array((0..<c.historyTokens).map { _ in tokenLow }.joined()),
                                    high: Array(repeating: 1, count: context) + Array((0..<c.historyTokens).map { _ in tokenHigh }.joined()))
        }
        actionSpace = .slate(candidates: c.items, k: c.slateSize)
        interest = Array(repeating: 0, count: c.dimension)
        fatigue = Array(repeating: 0, count: c.categories)
        utilities = Array(repeating: 0, count: c.slateSize + 1)
        weights = utilities
        headness = catalogue.popularityRank.map { 1 - Float($0) / Float(c.items - 1) }
        var running: Float = 0
        cumulativePopularity = catalogue.popularity.map { running += $0; return running }
    }

    public var observationDimension: Int { observationSpace.dimension }
    public var slateSize: Int { configuration.slateSize }

    /// A new user: with a seed, the user (and the whole episode) is fixed by it, so that two
    /// policies can be compared on the same population with paired seeds.
    public func reset(seed: UInt64?, observation: inout Tensor) {
        if let seed { rng = RandomGenerator(seed: seed, stream: 0xEC0) }
        let c = configuration
        observed.startOver()
        lastEvents.removeAll(keepingCapacity: true)
        observed.lowFrequency = rng.uniform() < c.lowFrequencyShare
        observed.coldStart = rng.uniform() < c.coldStartShare
        observed.segment = rng.nextIndex(below: c.segments)
        // Interest: a mix of one to three category centres, mostly the segment's, normalised.
        SimulatedUser.randomInterest(&interest, catalogue: catalogue, preferred: segmentPreferences[observed.segment], affinity: c.segmentAffinity,
                                     using: &rng)
        for k in fatigue.indices { fatigue[k] = 0 }
        satisfaction = c.initialSatisfaction
        ignoredStreak = 0
        lastClickedItem = nil
        pendingPurchases.removeAll(keepingCapacity: true)
        statistics = EcommerceEpisodeStatistics()
        statistics.lowFrequency = observed.lowFrequency
        statistics.coldStart = observed.coldStart
        statistics.sessions = 1
        if !observed.coldStart {
            // A warm user's past clicks: items drawn by popularity among those that fit.
            var past = 0
            while past < c.warmHistory {
                let item = sampleByPopularity()
                if fit(item) > 0.3 {
                    emit(UserEvent(item: Int32(item), event: .click, timestamp: 0))
                    past += 1
                }
            }
        }
        startSession()
        writeObservation(&observation)
    }

    /// Shows `action` (a `.slate` of distinct item indices) and returns the reward of the
    /// feedback that arrived at this step (the click and cart now, purchases when they arrive).
    public func step(_ action: Action, observation: inout Tensor) -> StepResult {
        guard case .slate(let slate) = action else { requirementFailure("EcommerceSimulator takes a .slate action, got \(action)") }
        let c = configuration
        require(slate.count == c.slateSize, "EcommerceSimulator: the slate has \(slate.count) items; the simulator shows \(c.slateSize)")
        for (position, item) in slate.enumerated() {
            require(item >= 0 && Int(item) < c.items, "EcommerceSimulator: slate position \(position) holds item \(item), outside 0..<\(c.items)")
            require(!slate[..<position].contains(item), "EcommerceSimulator: item \(item) appears twice in the slate")
            require(constraints.allows(Int(item), in: catalogue), "EcommerceSimulator: item \(item) of slate position \(position) is in a blocked category")
        }
        lastEvents.removeAll(keepingCapacity: true)
        var rewards = ObjectiveRewards()
        var diversityCost: Float = 0
        // Choice among the slate and no click.
        for (position, item) in slate.enumerated() {
            let i = Int(item)
            let repeatCost = observed.shownItems.contains(item) ? c.repeatPenalty : 0
            utilities[position] = fit(i) + c.popularityBias * headness[i] - c.fatigueWeight * fatigue[Int(catalogue.categories[i])]
                - repeatCost - c.positionBias * Float(position)
            diversityCost += c.reward.diversity.penalty(of: i, after: observed.recentShown[...], in: catalogue)
        }
        utilities[c.slateSize] = c.noClickUtility
        let largest = utilities.max()!
        for k in 0...c.slateSize { weights[k] = expf(c.choiceTemperature * (utilities[k] - largest)) }
        let choice = weights.withUnsafeBufferPointer { rng.categorical($0) }
        // Exposure: statistics, fatigue and the recent-slate memory.
        var slateFatigue: Float = 0
        let previousSlate = observed.recentShown.suffix(c.slateSize)
        for item in slate {
            statistics.shown += 1
            if observed.shownItems.contains(item) { statistics.repeated += 1 }
            let category = catalogue.categories[Int(item)]
            if previousSlate.contains(where: { catalogue.categories[Int($0)] == category }) { statistics.categoryRepeats += 1 }
            if catalogue.isLongTail(Int(item), headFraction: c.headFraction) { statistics.tailShown += 1 }
            slateFatigue += fatigue[Int(catalogue.categories[Int(item)])] / Float(c.slateSize)
        }
        for k in fatigue.indices { fatigue[k] *= c.fatigueDecay }
        for item in slate { fatigue[Int(catalogue.categories[Int(item)])] += c.fatigueIncrement }
        statistics.steps += 1
        for (position, item) in slate.enumerated() {
            emit(UserEvent(item: item, event: .impression, value: Float(position + 1), timestamp: Int64(statistics.steps)))
        }
        if observed.day == 0 { statistics.firstDaySteps += 1 }
        satisfaction -= c.satisfactionFatigue * slateFatigue
        lastClickedItem = choice < c.slateSize ? slate[choice] : nil
        if choice < c.slateSize {
            let item = Int(slate[choice])
            let itemFit = fit(item)
            statistics.clicks += 1
            ignoredStreak = 0
            rewards.user += c.reward.mapping.reward(for: Feedback(.click))
            if item % c.reward.sponsoredEvery == 0 { rewards.advertiser += 1 }
            satisfaction += c.satisfactionFit * itemFit - c.satisfactionGeneric * headness[item]
            // Interest drifts towards what was consumed.
            for j in 0..<c.dimension { interest[j] += c.driftRate * (catalogue.embeddings[item, j] - interest[j]) }
            SimulatedUser.normalize(&interest)
            let logit = c.cartBase + c.cartFit * itemFit - c.cartPrice * logf(catalogue.prices[item] / 30)
            var stage = 0
            if rng.uniform() < 1 / (1 + expf(-logit)) {
                stage = 2
                statistics.carts += 1
                rewards.user += c.reward.mapping.reward(for: Feedback(.addToCart))
                if rng.uniform() < c.purchaseProbability {
                    pendingPurchases.append((statistics.steps + 1 + rng.nextIndex(below: c.maxPurchaseDelay), item, observed.day))
                }
            } else if rng.uniform() < c.wishlistProbability {
                stage = 1
                rewards.user += c.reward.mapping.reward(for: Feedback(.wishlist))
            }
            let time = Int64(statistics.steps)
            emit(UserEvent(item: Int32(item), event: .click, timestamp: time))
            if stage > 0 { emit(UserEvent(item: Int32(item), event: stage == 2 ? .addToCart : .wishlist, timestamp: time)) }
        } else {
            ignoredStreak += 1
            satisfaction -= c.satisfactionIgnored
        }
        satisfaction = min(max(satisfaction, 0), 1)
        observed.sessionStep += 1
        // Session end, then the next day's return or the end of the episode.
        var terminated = false, truncated = false
        let budget = observed.lowFrequency ? c.lowFrequencySessionSteps : c.sessionSteps
        if observed.sessionStep >= budget || ignoredStreak >= c.patience {
            observed.day += 1
            let returnProbability = (observed.lowFrequency ? c.lowFrequencyReturnBase : c.returnBase) + c.returnSlope * satisfaction
            if observed.day >= c.days {
                truncated = true
            } else if rng.uniform() < returnProbability {
                statistics.sessions += 1
                startSession()
            } else {
                terminated = true
            }
        }
        // Purchases arriving now, or, when the episode ends, all that are still on their way.
        let ended = terminated || truncated
        var boughtThisSession = false
        pendingPurchases.removeAll { purchase in
            guard ended || purchase.arrival <= statistics.steps else { return false }
            statistics.purchases += 1
            statistics.revenue += catalogue.prices[purchase.item]
            if purchase.day == 0 { statistics.firstDayPurchases += 1 }
            rewards.user += c.reward.mapping.reward(for: Feedback(.purchase))
            rewards.platform += catalogue.prices[purchase.item] / 100
            emit(UserEvent(item: Int32(purchase.item), event: .purchase, timestamp: Int64(statistics.steps)))
            boughtThisSession = true
            return true
        }
        if boughtThisSession { markSessionPurchase() }
        if ended { statistics.finalSatisfaction = satisfaction }
        writeObservation(&observation)
        let reward = c.reward.objectives.combine(rewards) - c.reward.diversity.weight * diversityCost / Float(c.slateSize)
        return StepResult(reward: reward, terminated: terminated, truncated: truncated)
    }

    private func emit(_ event: UserEvent) {
        observed.record(event)
        lastEvents.append(event)
    }

    /// Sessions with at least one purchase are counted once each.
    private var sessionPurchaseMarked = -1
    private func markSessionPurchase() {
        guard sessionPurchaseMarked != statistics.sessions else { return }
        sessionPurchaseMarked = statistics.sessions
        statistics.sessionsWithPurchase += 1
    }

    private func startSession() {
        observed.sessionStep = 0
        ignoredStreak = 0
        observed.device = rng.nextIndex(below: 3)
        observed.hour = rng.uniform(0, 24)
        sessionPurchaseMarked = -1
    }

    /// The user's fit with an item: the cosine of interest and embedding.
    public func fit(_ item: Int) -> Float {
        var sum: Float = 0
        for j in 0..<configuration.dimension { sum += interest[j] * catalogue.embeddings[item, j] }
        return sum
    }

    /// The user's current satisfaction (hidden from the agent; for tests and analysis).
    public var currentSatisfaction: Float { satisfaction }

    /// The user's interest vector (hidden from the agent; for tests and analysis).
    public var currentInterest: [Float] { interest }

    /// What the platform knows of the current user: every item shown so far this episode, and the
    /// last (up to 5) clicked items, oldest first (warm users start with their past clicks).
    public var shownItems: Set<Int32> { observed.shownItems }
    public var recentClickedItems: [Int32] { observed.recentClicks }

    /// The user's demographic segment, one-hot (known to the platform from the first visit).
    public var demographics: [Float] { observed.demographics }

    /// Where the mean embedding of the recent clicks lies in the observation.
    public var clickHistoryObservationRange: Range<Int>? { configuration.historyTokens == 0 ? 7..<(7 + configuration.dimension) : nil }

    /// Slates left in the current session (the user's browsing budget).
    public var remainingSessionSteps: Int {
        (observed.lowFrequency ? configuration.lowFrequencySessionSteps : configuration.sessionSteps) - observed.sessionStep
    }

    private func sampleByPopularity() -> Int {
        let target = rng.uniform() * cumulativePopularity[cumulativePopularity.count - 1]
        var low = 0, high = cumulativePopularity.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulativePopularity[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }


    private func writeObservation(_ observation: inout Tensor) {
        let c = configuration
        require(observation.count == observationDimension,
                "EcommerceSimulator observations have \(observationDimension) elements; got a tensor of shape \(observation.shape)")
        if c.historyTokens > 0 { return writeSequenceObservation(historyTokens: c.historyTokens, into: &observation) }
        observed.writeSummaryObservation(catalogue: catalogue, into: &observation)
    }

    /// Writes the sequence observation with the last `historyTokens` interactions (at most
    /// `interactionMemory`), whatever observation the simulator itself gives.
    public func writeSequenceObservation(historyTokens n: Int, into observation: inout Tensor) {
        observed.writeSequenceObservation(historyTokens: n, catalogue: catalogue, into: &observation)
    }

    /// The `SequenceStateEncoder` layout of the simulator's own observation (nil for the summary one).
    public var stateEncoderLayout: SequenceStateEncoder.Configuration? {
        configuration.historyTokens > 0 ? stateEncoderLayout(historyTokens: configuration.historyTokens) : nil
    }

    /// The `SequenceStateEncoder` layout of a sequence observation of `historyTokens` interactions.
    public func stateEncoderLayout(historyTokens: Int) -> SequenceStateEncoder.Configuration {
        let c = configuration
        return SequenceStateEncoder.Configuration(items: c.items, categories: c.categories, eventTypes: 4, historyLength: historyTokens,
                                                  engagementFeatures: 3, contextFeatures: 10 + c.segments)
    }
}
