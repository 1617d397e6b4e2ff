import DRLData
import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the e-commerce platform has observed of one user, and the observation its rankers read,
/// built from nothing else: the visit's context (device, hour, the low-frequency and cold-start
/// flags, demographic segment, day and session step) and the user's events in order. The
/// simulator keeps one per user and feeds it the events it emits; a served ranker rebuilds one
/// from the history the service kept and the request's context. Both go through `record`, so a
/// policy sees the same state in training and in serving.
///
/// The events: an `.impression` per item shown, its value the item's 1-based position (position 1
/// starts a new slate); a `.click` on a shown item (a click before any slate is a past click, as a
/// warm user arrives with); `.wishlist` or `.addToCart` after it, and `.purchase` when one
/// arrives, raising the funnel stage of the item's latest click. Other kinds change nothing.
public struct EcommerceObservedUser: Sendable {
    /// The context columns a served ranker takes, in the order of `context`.
    public static let contextColumns = ["device", "hour", "low_frequency", "cold_start", "segment", "day", "session_step"]

    /// One remembered click: the item, its funnel stage (0 click, 1 wishlist, 2 cart, 3
    /// purchase), its 0-based position in its slate and the slate count when it happened.
    public struct Interaction: Sendable, Equatable {
        public var item: Int32, stage: Int, position: Int, step: Int
    }

    private let slateSize: Int, days: Int, sessionSteps: Int, lowFrequencySessionSteps: Int, segments: Int
    /// Interactions remembered for sequence observations (at least 20).
    public let interactionMemory: Int

    // The visit's context.
    public var device = 0
    public var hour: Float = 0
    public var lowFrequency = false, coldStart = false
    public var segment = 0
    public var day = 0, sessionStep = 0

    // What the events built.
    private var slates: ShownSlates
    /// The last clicked items, oldest first: at most 5 once the user clicks on the platform (a
    /// warm user's past clicks are all kept until then, and the list then stays at their count).
    public private(set) var recentClicks: [Int32] = []
    /// The last `interactionMemory` clicks, oldest first.
    public private(set) var interactions: [Interaction] = []
    /// The clicks the user had when the first slate was shown (nil before it).
    private var clicksBeforeFirstSlate: Int?
    /// Whether the user came to the platform without past clicks (a cold start, whom cold-start
    /// transfer serves from their demographics).
    public var arrivedWithoutClicks: Bool { (clicksBeforeFirstSlate ?? recentClicks.count) == 0 }
    /// The demographic segment, one-hot (what the platform knows of a user from the first visit).
    public var demographics: [Float] { (0..<segments).map { $0 == segment ? 1 : 0 } }
    /// Slates shown so far.
    public var steps: Int { slates.count }
    /// Every item shown so far.
    public var shownItems: Set<Int32> { slates.items }
    /// The items of the last two slates, oldest first.
    public var recentShown: [Int32] { slates.recent }
    /// The items of the latest slate, in order (what a slate builder avoids repeating).
    public var latestSlate: [Int32] { slates.latest }

    public init(configuration: EcommerceConfiguration) {
        let c = configuration
        (slateSize, days, sessionSteps, lowFrequencySessionSteps, segments) = (c.slateSize, c.days, c.sessionSteps, c.lowFrequencySessionSteps, c.segments)
        interactionMemory = max(c.historyTokens, 20)
        slates = ShownSlates(slateSize: c.slateSize)
    }

    /// A new user: the context back to its defaults and no events (the storage is kept, so a
    /// simulator's new episode allocates nothing).
    public mutating func startOver() {
        (device, hour, lowFrequency, coldStart, segment, day, sessionStep) = (0, 0, false, false, 0, 0, 0)
        slates.clear()
        recentClicks.removeAll(keepingCapacity: true)
        interactions.removeAll(keepingCapacity: true)
        clicksBeforeFirstSlate = nil
    }

    /// The user rebuilt from a history (oldest first) and a context in the order of
    /// `contextColumns`; check the context with `contextProblem` first.
    public init(configuration: EcommerceConfiguration, history: some Sequence<UserEvent>, context: [Float]) {
        self.init(configuration: configuration)
        setContext(context)
        slates.reserveCapacity(history.underestimatedCount)
        for event in history { record(event) }
    }

    // MARK: Context

    /// The visit's context in the order of `contextColumns`.
    public var context: [Float] {
        [Float(device), hour, lowFrequency ? 1 : 0, coldStart ? 1 : 0, Float(segment), Float(day), Float(sessionStep)]
    }

    /// Why `context` is not a context of this platform (nil when it is): each field named with
    /// the values it may take.
    public func contextProblem(_ context: [Float]) -> String? {
        let steps = max(sessionSteps, lowFrequencySessionSteps)
        return VisitContext.problem(context, columns: Self.contextColumns, rules: [
            VisitContext.whole(in: 0...2, "a device in 0...2"), ({ $0 >= 0 && $0 < 24 }, "an hour in [0, 24)"),
            VisitContext.whole(in: 0...1, "0 or 1"), VisitContext.whole(in: 0...1, "0 or 1"),
            VisitContext.whole(in: 0...(segments - 1), "a segment in 0...\(segments - 1)"), VisitContext.whole(in: 0...days, "a day in 0...\(days)"),
            VisitContext.whole(in: 0...steps, "a session step in 0...\(steps)"),
        ])
    }

    /// Sets the visit's context from values in the order of `contextColumns` (see `contextProblem`).
    public mutating func setContext(_ context: [Float]) {
        require(contextProblem(context) == nil, "EcommerceObservedUser: context \(context) \(contextProblem(context) ?? "")")
        device = Int(context[0])
        hour = context[1]
        (lowFrequency, coldStart) = (context[2] == 1, context[3] == 1)
        segment = Int(context[4])
        (day, sessionStep) = (Int(context[5]), Int(context[6]))
    }

    // MARK: Events

    /// Adds one event to what the platform knows (see the type's description).
    public mutating func record(_ event: UserEvent) {
        switch event.event {
        case .impression:
            if steps == 0 && event.value == 1 { clicksBeforeFirstSlate = recentClicks.count }
            slates.show(event.item, position: event.value)
        case .click:
            guard steps > 0 else {
                // Before any slate: a click from the user's past on the platform.
                recentClicks.append(event.item)
                interactions.append(Interaction(item: event.item, stage: 0, position: 0, step: -10))
                return
            }
            let position = slates.respond(to: event.item)
            recentClicks.append(event.item)
            if recentClicks.count > 5 { recentClicks.removeFirst() }
            interactions.append(Interaction(item: event.item, stage: 0, position: position ?? slateSize, step: steps))
            if interactions.count > interactionMemory { interactions.removeFirst() }
        case .wishlist: reach(stage: 1, item: event.item)
        case .addToCart: reach(stage: 2, item: event.item)
        case .purchase: reach(stage: 3, item: event.item)
        default: break
        }
    }

    private mutating func reach(stage: Int, item: Int32) {
        if let k = interactions.lastIndex(where: { $0.item == item }) { interactions[k].stage = stage }
    }

    // MARK: Observations

    /// The summary observation (10 + 2·dimension + segments; see `EcommerceSimulator`).
    public func writeSummaryObservation(catalogue: Catalogue, into observation: inout Tensor) {
        let d = catalogue.dimension
        require(observation.count == 10 + 2 * d + segments,
                "EcommerceObservedUser: the summary observation has \(10 + 2 * d + segments) elements, got \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in
            writeContext(into: o, progressAt: 7 + 2 * d)
            SimulatedUser.addMeanEmbedding(of: recentClicks, catalogue: catalogue, into: o, at: 7)
            SimulatedUser.addMeanEmbedding(of: recentShown, catalogue: catalogue, into: o, at: 7 + d)
        }
    }

    /// The sequence observation of the last `historyTokens` interactions (at most `interactionMemory`).
    public func writeSequenceObservation(historyTokens n: Int, catalogue: Catalogue, into observation: inout Tensor) {
        let context = 10 + segments
        require((1...interactionMemory).contains(n) && observation.count == context + 6 * n,
                "EcommerceObservedUser: a sequence observation of \(n) tokens (1...\(interactionMemory)) has \(context + 6 * n) elements, got \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in
            writeContext(into: o, progressAt: 7)
            let recent = interactions.suffix(n), padding = n - recent.count
            for t in 0..<n {
                let base = context + t * 6
                guard t >= padding else { o[base] = -1; continue }
                let interaction = recent[recent.startIndex + t - padding], item = Int(interaction.item)
                o[base] = Float(item)
                o[base + 1] = Float(catalogue.categories[item])
                o[base + 2] = Float(interaction.stage)
                o[base + 3] = Float(interaction.position) / Float(slateSize)
                o[base + 4] = logf(catalogue.prices[item] / 30)
                o[base + 5] = Float(steps - interaction.step) / 10
            }
        }
    }

    /// Zeroes `o` and writes the context both observations share: device (one-hot), time of day
    /// (sin, cos), the low-frequency and cold-start flags at 0...6; the session's and the day's
    /// progress and the recent click rate at `progressAt`, then the segment (one-hot).
    private func writeContext(into o: UnsafeMutableBufferPointer<Float>, progressAt offset: Int) {
        for k in 0..<o.count { o[k] = 0 }
        o[device] = 1
        o[3] = sinf(2 * .pi * hour / 24)
        o[4] = cosf(2 * .pi * hour / 24)
        o[5] = lowFrequency ? 1 : 0
        o[6] = coldStart ? 1 : 0
        let budget = lowFrequency ? lowFrequencySessionSteps : sessionSteps
        o[offset] = Float(sessionStep) / Float(budget)
        o[offset + 1] = Float(day) / Float(days)
        o[offset + 2] = slates.responseRate
        o[offset + 3 + segment] = 1
    }
}

extension EcommerceSimulator: ObservableSlatePlatform {
    public var contextColumns: [String] { EcommerceObservedUser.contextColumns }
    public var visitContext: [Float] { observed.context }

    public func contextProblem(_ context: [Float]) -> String? { EcommerceObservedUser(configuration: configuration).contextProblem(context) }

    public func observe(history: [UserEvent], context: [Float], historyTokens: Int?, into observation: inout Tensor) -> ObservedSlateUser {
        let user = EcommerceObservedUser(configuration: configuration, history: history, context: context)
        if let historyTokens {
            user.writeSequenceObservation(historyTokens: historyTokens, catalogue: catalogue, into: &observation)
        } else {
            user.writeSummaryObservation(catalogue: catalogue, into: &observation)
        }
        return ObservedSlateUser(catalogue: catalogue, constraints: constraints, shownItems: user.shownItems, recentClickedItems: user.recentClicks,
                                 latestSlate: user.latestSlate, arrivedWithoutClicks: user.arrivedWithoutClicks, demographics: user.demographics)
    }
}
