import DRLData
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the video feed has observed of one viewer, and the observation its rankers read, built
/// from nothing else: the visit's context (device, hour, the low-frequency flag, day and the
/// session's minutes so far) and the viewer's events in order. The simulator keeps one per viewer
/// and feeds it the events it emits; a served ranker rebuilds one from the history the service
/// kept and the request's context, through the same `record`.
///
/// The events: an `.impression` per video on a screen, its value the 1-based position (position 1
/// starts a new screen); a `.view` of a shown video, its value the fraction watched. The
/// engagement that follows a view (`.fullPlay`, `.like`, `.share`, `.subscribe`,
/// `.addToPlaylist`) and other kinds change nothing the rankers read.
public struct VideoObservedUser: Sendable {
    /// The context columns a served ranker takes, in the order of `context`.
    public static let contextColumns = ["device", "hour", "low_frequency", "day", "session_minutes"]

    private let days: Int, sessionMinutesBudget: Float, lowFrequencySessionMinutes: Float

    // The visit's context.
    public var device = 0
    public var hour: Float = 0
    public var lowFrequency = false
    public var day = 0
    public var sessionMinutes: Float = 0

    // What the events built.
    private var slates: ShownSlates
    /// The last 5 videos watched, oldest first.
    public private(set) var watched: [Int32] = []
    /// Every video shown so far.
    public var shownItems: Set<Int32> { slates.items }
    /// The videos of the latest screen, in order.
    public var latestSlate: [Int32] { slates.latest }

    public init(configuration: VideoFeedConfiguration) {
        let c = configuration
        (days, sessionMinutesBudget, lowFrequencySessionMinutes) = (c.days, c.sessionMinutes, c.lowFrequencySessionMinutes)
        slates = ShownSlates(slateSize: c.slateSize)
    }

    /// A new viewer: the context back to its defaults and no events (the storage is kept, so a
    /// simulator's new episode allocates nothing).
    public mutating func startOver() {
        (device, hour, lowFrequency, day, sessionMinutes) = (0, 0, false, 0, 0)
        slates.clear()
        watched.removeAll(keepingCapacity: true)
    }

    /// The viewer rebuilt from a history (oldest first) and a context in the order of
    /// `contextColumns`; check the context with `contextProblem` first.
    public init(configuration: VideoFeedConfiguration, history: some Sequence<UserEvent>, context: [Float]) {
        self.init(configuration: configuration)
        setContext(context)
        slates.reserveCapacity(history.underestimatedCount)
        for event in history { record(event) }
    }

    // MARK: Context

    /// The visit's context in the order of `contextColumns`.
    public var context: [Float] { [Float(device), hour, lowFrequency ? 1 : 0, Float(day), sessionMinutes] }

    /// Why `context` is not a context of this feed (nil when it is): the field named with the
    /// values it may take.
    public func contextProblem(_ context: [Float]) -> String? {
        VisitContext.problem(context, columns: Self.contextColumns, rules: [
            VisitContext.whole(in: 0...2, "a device in 0...2"), ({ $0 >= 0 && $0 < 24 }, "an hour in [0, 24)"),
            VisitContext.whole(in: 0...1, "0 or 1"), VisitContext.whole(in: 0...days, "a day in 0...\(days)"),
            ({ $0 >= 0 && $0 <= 1e6 }, "minutes in [0, 1e6]"),
        ])
    }

    /// Sets the visit's context from values in the order of `contextColumns` (see `contextProblem`).
    public mutating func setContext(_ context: [Float]) {
        require(contextProblem(context) == nil, "VideoObservedUser: context \(context) \(contextProblem(context) ?? "")")
        (device, hour, lowFrequency) = (Int(context[0]), context[1], context[2] == 1)
        (day, sessionMinutes) = (Int(context[3]), context[4])
    }

    // MARK: Events

    /// Adds one event to what the platform knows (see the type's description).
    public mutating func record(_ event: UserEvent) {
        switch event.event {
        case .impression:
            slates.show(event.item, position: event.value)
        case .view:
            _ = slates.respond(to: event.item)
            watched.append(event.item)
            if watched.count > 5 { watched.removeFirst() }
        default: break
        }
    }

    // MARK: Observation

    /// The observation (10 + 2·dimension; see `VideoFeedSimulator`).
    public func writeObservation(catalogue: Catalogue, into observation: inout Tensor) {
        let d = catalogue.dimension
        require(observation.count == 10 + 2 * d, "VideoObservedUser: the observation has \(10 + 2 * d) elements, got \(observation.shape)")
        observation.withUnsafeMutableBufferPointer { o in
            for k in 0..<o.count { o[k] = 0 }
            o[device] = 1
            o[3] = sinf(2 * .pi * hour / 24)
            o[4] = cosf(2 * .pi * hour / 24)
            o[5] = lowFrequency ? 1 : 0
            SimulatedUser.addMeanEmbedding(of: watched, catalogue: catalogue, into: o, at: 7)
            SimulatedUser.addMeanEmbedding(of: slates.recent, catalogue: catalogue, into: o, at: 7 + d)
            let budget = lowFrequency ? lowFrequencySessionMinutes : sessionMinutesBudget
            o[7 + 2 * d] = min(sessionMinutes / budget, 1)
            o[8 + 2 * d] = Float(day) / Float(days)
            o[9 + 2 * d] = slates.responseRate
        }
    }
}

extension VideoFeedSimulator: ObservableSlatePlatform {
    public var contextColumns: [String] { VideoObservedUser.contextColumns }
    public var visitContext: [Float] { observed.context }

    public func contextProblem(_ context: [Float]) -> String? { VideoObservedUser(configuration: configuration).contextProblem(context) }

    public func observe(history: [UserEvent], context: [Float], historyTokens: Int?, into observation: inout Tensor) -> ObservedSlateUser {
        require(historyTokens == nil, "VideoFeedSimulator: the video feed has no sequence observation")
        let user = VideoObservedUser(configuration: configuration, history: history, context: context)
        user.writeObservation(catalogue: catalogue, into: &observation)
        return ObservedSlateUser(catalogue: catalogue, constraints: constraints, shownItems: user.shownItems, recentClickedItems: user.watched,
                                 latestSlate: user.latestSlate, arrivedWithoutClicks: false, demographics: [])
    }
}
