import DRLData
import DRLRanking
import DRLTensor
import Foundation

/// One recommendation request: the user, how many items, and optionally their context, a history
/// to score instead of the kept one, and the candidate items.
public struct RecommendRequest: Sendable {
    /// One event of a history given with the request.
    public struct HistoryItem: Sendable {
        public var item: String, event: FeedbackKind, value: Float, timestamp: Int64
        public init(item: String, event: FeedbackKind, value: Float = 1, timestamp: Int64) {
            (self.item, self.event, self.value, self.timestamp) = (item, event, value, timestamp)
        }
    }

    public var user: String
    /// Values of the model's context columns; missing columns read as the latest feedback's.
    public var context: [String: Double] = [:]
    /// When given, the history to score instead of the one the server keeps.
    public var history: [HistoryItem]?
    public var k: Int
    /// When given, only these items are ranked.
    public var candidates: [String]?
    /// Leave out items already in the user's history (unless they are candidates).
    public var excludeSeen = true
    /// When the list is served, in seconds since 1970 on the client's clock (a replay's or a
    /// simulation's time); nil: the service's clock. The impression and the history carry it.
    public var timestamp: Int64?

    public init(user: String, k: Int) { (self.user, self.k) = (user, k) }
}

/// The answer to a request: the items with their scores and propensities, the version and arm
/// that served, the fallback taken when there was one, and the impression id.
public struct Recommendation: Sendable {
    /// Why the version of the user's arm did not answer, and which did.
    public struct Fallback: Sendable, Equatable {
        /// The fault of the version the user's arm called for.
        public var fault: ModelFault
        /// The version that answered instead, or "popularity".
        public var servedBy: String

        public init(fault: ModelFault, servedBy: String) { (self.fault, self.servedBy) = (fault, servedBy) }
    }

    /// The items shown, best first: each with the model's score and the probability the serving
    /// policy had of showing it at its position (1 without exploration; see `SlateExploration`).
    public var items: [(id: String, score: Float, propensity: Double)]
    /// The version whose scores ranked the items (nil when popularity did).
    public var version: String?
    public var arm: TrafficSplit.Arm
    public var fallback: Fallback?
    /// The list's identifier, under which the impression log keeps it (nil without a log).
    public var impression: String?

    public init(items: [(id: String, score: Float, propensity: Double)], version: String?, arm: TrafficSplit.Arm, fallback: Fallback? = nil,
                impression: String? = nil) {
        (self.items, self.version, self.arm, self.fallback, self.impression) = (items, version, arm, fallback, impression)
    }
}

/// Serving without the network: the registry's production version and gray-release candidate,
/// each user's recent history, the durable feedback log, and the fallback chain. A request goes to
/// the version of its user's arm; if that version cannot load, scores NaN or infinity (or not one
/// score per item), or misses the latency budget, the production version answers (for a
/// candidate's user), then the versions in production before it, then item popularity. Nothing a
/// model does turns into a server error. Versions may be of any `ServableModel` kind in
/// `Configuration.modelKinds`, as long as they share one item catalogue and context columns.
public final class RecommendationService: RecommendationEndpoint, @unchecked Sendable {
    /// How the service serves: replicas, latency budget and fallbacks, bounds on k, history and
    /// users, the guardrail, model kinds, exploration, the impression log, the clock and the
    /// restart snapshot.
    public struct Configuration: Sendable {
        public var replicas = 2
        /// A version whose scoring takes longer is bypassed for `cooldown` (see `ServedModel`).
        public var latencyBudget = Duration.milliseconds(50)
        public var cooldown = Duration.seconds(10)
        public var maxK = 200
        /// How many earlier production versions are kept loaded as fallbacks.
        public var fallbackDepth = 1
        /// Interactions kept per user: the models read the latest ones (their history length),
        /// and all of them are left out of the user's recommendations.
        public var historyCapacity = 200
        /// Users whose histories are kept; past it the least recently active are forgotten (see `UserHistories`).
        public var maximumUsers = 1_000_000
        public var guardrail = Guardrail()
        /// The kinds of model the registry's checkpoints may hold.
        public var modelKinds = ServableModelKinds.standard
        /// How served lists explore (default: not at all).
        public var exploration = SlateExploration.greedy
        /// The seed of the exploration's draws and of the lists' impression ids (default: random
        /// draws and ids), so that a seeded run (the closed loop) serves the same lists again.
        public var explorationSeed: UInt64?
        /// Where every served list is logged with its propensities before it is answered
        /// (`ImpressionLog`); nil: lists are not logged.
        public var impressionLogPath: String?
        /// What an acknowledged list or piece of feedback survives: by default a crash of the
        /// machine (on disk before the answer); `.written` a crash of the process, with the logs
        /// flushed to disk at an interval (see `AppendOnlyLog.Durability`).
        public var logDurability = AppendOnlyLog.Durability.synced
        /// With an impression log, how many of the latest lists are kept in memory, so that
        /// feedback naming one is checked against it and logged with its version and arm.
        public var recentImpressions = 100_000
        /// The time a served list (and feedback without a timestamp) is logged and kept with, in
        /// seconds since the epoch by default, when the request gives none. A simulation that
        /// drives the service stamps its requests itself (`RecommendRequest.timestamp`) or gives
        /// its own clock, shared with its feedback's timestamps, so that the order of lists and
        /// feedback in the logs is exact.
        public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        /// Where the state rebuilt from the logs is kept (`ServiceSnapshot`): written after each
        /// start's replay and by `writeSnapshot`, read by the next start, which then replays only
        /// what the logs gained since. nil: every start replays the logs whole.
        public var snapshotPath: String?
        public init() {}
    }

    public let registry: ModelRegistry
    public let configuration: Configuration
    public let histories: UserHistories
    public let feedbackLog: FeedbackLog
    public let impressionLog: ImpressionLog?
    /// The item vocabulary every served version shares.
    public let itemIds: [String]
    public let contextColumns: [String]
    private let itemIndex: [String: Int32]
    private let trainingCounts: [Float]
    /// Whether served lists enter the users' histories (the served models read them).
    private let keepsServedLists: Bool

    private let lock = NSLock()
    private var state: RegistryState
    private var models: [String: ServedModel] = [:]
    private var loadFaults: [String: String] = [:]
    /// A logged list the service still knows: whom it was served to, by which version and arm,
    /// during which rollout, and whether feedback naming it has converted it yet.
    private struct RecentList {
        var user: String, version: String, arm: TrafficSplit.Arm, items: [Int32]
        var rollout: String?
        var converted = false
    }
    /// The latest logged lists by id, at most `recentImpressions`; `recentOrder` is a ring of their
    /// ids, the oldest at `recentNext` once it is full.
    private var recent: [String: RecentList] = [:]
    private var recentOrder: [String] = []
    private var recentNext = 0
    /// Held by the work that appends to a log and applies it to memory, closed by a snapshot.
    private let gate = QuiescenceGate()
    /// The logs' line counts when the start's replay ended (a snapshot's places add what the logs
    /// appended since).
    private var linesAtStart: (feedback: Int, impressions: Int) = (0, 0)
    /// Draws each request's exploration seed.
    private var explorationSeeds: RandomGenerator
    /// Draws the impression ids when the exploration is seeded.
    private var impressionIds: RandomGenerator
    /// The running rollout's outcomes per arm (reset when another rollout starts).
    private var outcomes: (candidate: String, arms: [TrafficSplit.Arm: ArmOutcome])?

    /// Loads what the registry serves and replays the feedback log at `feedbackPath` (and the
    /// impression log) into the users' histories. Fails only when no version can be loaded at all
    /// (there would be no item catalogue to serve), with every version's reason.
    public init(registry: ModelRegistry, feedbackPath: String, configuration: Configuration = Configuration()) throws {
        self.registry = registry
        self.configuration = configuration
        explorationSeeds = RandomGenerator(seed: configuration.explorationSeed ?? UInt64.random(in: .min ... .max), stream: 0xE5)
        state = try registry.state()
        guard let production = state.production else {
            throw RegistryError("registry '\(registry.directory)' has no production version: promote one first (drlrec registry promote)")
        }
        var reference: ServedModel?
        var reasons: [String] = []
        for id in [production] + state.history.reversed() {
            do {
                reference = try Self.loadVersion(id, from: registry, configuration)
                break
            } catch {
                reasons.append("\(id): \(error)")
            }
        }
        guard let reference else {
            throw RegistryError("no version of registry '\(registry.directory)' can be served: \(reasons.joined(separator: "; "))")
        }
        itemIds = reference.itemIds
        contextColumns = reference.contextColumns
        itemIndex = Dictionary(uniqueKeysWithValues: itemIds.enumerated().map { ($1, Int32($0)) })
        trainingCounts = reference.trainingCounts
        keepsServedLists = reference.readsImpressions
        models[reference.version] = reference
        histories = UserHistories(capacity: configuration.historyCapacity, items: itemIds.count, maximumUsers: configuration.maximumUsers)
        // A log's commit thread holds it until it is shut down: a start that fails after opening a
        // log shuts it down, or each failed start would leave a thread behind (found by fuzzing:
        // thousands of failed starts in one process ran out of memory).
        let feedbackLog = try FeedbackLog(path: feedbackPath, contextColumns: contextColumns, durability: configuration.logDurability)
        let columns = reference.contextColumns, durability = configuration.logDurability
        do { impressionLog = try configuration.impressionLogPath.map { try ImpressionLog(path: $0, contextColumns: columns, durability: durability) } } catch {
            feedbackLog.shutDown()
            throw error
        }
        self.feedbackLog = feedbackLog
        // A restart with the same seed goes on with other ids than those already logged.
        impressionIds = RandomGenerator(seed: configuration.explorationSeed ?? 0, stream: 0x1D &+ UInt64(impressionLog?.end.bytes ?? 0))
        // And with other exploration draws than its first start made (a fresh log keeps the seed's first stream).
        if let seed = configuration.explorationSeed, let log = impressionLog, log.holdsLists {
            explorationSeeds = RandomGenerator(seed: seed, stream: 0xE5 &+ UInt64(log.end.bytes))
        }
        do {
            let snapshot = loadSnapshot()
            try replayLogs(feedbackPath: feedbackPath, after: snapshot)
            if snapshot == nil || replay.feedbackRows + replay.impressionRows > 0 {
                do { try writeSnapshotNow() } catch { replay.snapshotNotWritten = "\(error)" }
            }
            try reload()
        } catch {
            feedbackLog.shutDown()
            impressionLog?.shutDown()
            throw error
        }
        #if os(Linux)
        // The replay read both logs whole; hand the memory it freed back to the system, so that a
        // restarted server's resident size is its state's, not its logs' (measured: 126 → 86 MB
        // after replaying 750,000 impression rows).
        _ = releaseFreedMemory(0)
        #endif
    }

    /// The registry state being served.
    public var servedState: RegistryState { lock.withLock { state } }

    /// How the start rebuilt the users' histories and the latest lists.
    public struct Replay: Sendable {
        /// Whether it started from the snapshot (and replayed only the logs' later lines).
        public var fromSnapshot = false
        /// Why the snapshot found at `snapshotPath` was not used.
        public var snapshotRefused: String?
        /// Why the snapshot could not be written after the replay (the start goes on without).
        public var snapshotNotWritten: String?
        /// The log rows replayed.
        public var feedbackRows = 0, impressionRows = 0
    }

    public private(set) var replay = Replay()

    /// Versions that failed to load, with the reason.
    public var loadFailures: [String: String] { lock.withLock { loadFaults } }

    /// The lines of the feedback and impression logs the start left out of its replay (each kept
    /// in its log's `LogQuarantine` file), with why.
    public private(set) var badLogLines: [LoggedInteractions.BadRow] = []

    /// Re-reads the registry: loads the versions it now serves (production, candidate and the
    /// fallbacks) and drops the others. Returns whether the state changed.
    @discardableResult
    public func reload() throws -> Bool {
        let fresh = try registry.state()
        let wanted = Self.servedVersions(fresh, depth: configuration.fallbackDepth)
        let (current, loaded, failed) = lock.withLock { (state, models, loadFaults) }
        guard fresh != current || wanted.contains(where: { loaded[$0] == nil && failed[$0] == nil }) else { return false }
        var next = loaded.filter { wanted.contains($0.key) }
        var faults: [String: String] = [:]
        for id in wanted where next[id] == nil {
            do {
                let model = try Self.loadVersion(id, from: registry, configuration)
                guard model.itemIds == itemIds, model.contextColumns == contextColumns else {
                    throw RegistryError("version '\(id)' has another item catalogue or context columns than the served versions")
                }
                next[id] = model
            } catch {
                faults[id] = "\(error)"
            }
        }
        lock.withLock { (state, models, loadFaults) = (fresh, next, faults) }
        return true
    }

    /// The registered version `id`, loaded as its checkpoint's kind with the configured replicas (static:
    /// the initialiser loads versions before the service is complete).
    private static func loadVersion(_ id: String, from registry: ModelRegistry, _ configuration: Configuration) throws -> ServedModel {
        try ServedModel(version: id, checkpoint: try registry.checkpointPath(of: id), kinds: configuration.modelKinds,
                        replicas: configuration.replicas, cooldown: configuration.cooldown)
    }

    static func servedVersions(_ state: RegistryState, depth: Int) -> [String] {
        var ids = [state.production].compactMap { $0 } + state.history.suffix(depth).reversed()
        if let candidate = state.rollout?.candidate { ids.insert(candidate, at: 0) }
        return ids
    }

    // MARK: Recommend

    /// The longest user id accepted, in UTF-8 bytes: every id is kept (in the histories, the logs
    /// and the open lists), so an unbounded one would let a client grow the server at will.
    public static let maximumUserIdBytes = 256

    public func recommend(_ request: RecommendRequest) async throws(RequestError) -> Recommendation {
        guard !request.user.isEmpty else { throw .invalidField("user_id", reason: "is empty") }
        guard request.user.utf8.count <= Self.maximumUserIdBytes else {
            throw .invalidField("user_id", reason: "is \(request.user.utf8.count) bytes long; ids may be at most \(Self.maximumUserIdBytes)")
        }
        if impressionLog != nil, request.user.contains(where: { $0.isNewline || $0 == "\0" }) { throw .lineBreakInId(request.user) }
        guard request.k >= 1 && request.k <= min(configuration.maxK, itemIds.count) else {
            throw .invalidField("k", reason: "is \(request.k); it must be between 1 and \(min(configuration.maxK, itemIds.count))")
        }
        var candidateMask: [Bool]?
        if let candidates = request.candidates {
            guard !candidates.isEmpty else { throw .invalidField("candidates", reason: "is empty") }
            var mask = [Bool](repeating: false, count: itemIds.count)
            var unknown: [String] = []
            for id in candidates { if let i = itemIndex[id] { mask[Int(i)] = true } else { unknown.append(id) } }
            guard unknown.isEmpty else { throw .unknownCandidates(unknown) }
            candidateMask = mask
        }
        let stored = histories.entry(for: request.user)
        var events: [UserEvent]
        if let given = request.history {
            events = []
            for (k, h) in given.enumerated() {
                guard let i = itemIndex[h.item] else { throw .inHistory(index: k, .unknownItem(h.item)) }
                guard h.value.isFinite else { throw .inHistory(index: k, .invalidField("value", reason: "is not finite")) }
                events.append(UserEvent(item: i, event: h.event, value: h.value, timestamp: h.timestamp))
            }
        } else if let stored {
            events = stored.events
        } else {
            // A model that reads the lists it served starts from what it served: a user it has
            // not seen is a new user (served from the context), not a mistake.
            guard keepsServedLists else { throw .unknownUser(request.user) }
            events = []
        }
        let context = try contextValues(request.context, latest: stored?.context)

        let (serving, split, loaded) = lock.withLock { (state, state.split, models) }
        let arm = split?.arm(for: request.user) ?? .control
        var chain = Self.servedVersions(serving, depth: configuration.fallbackDepth)
        if arm == .control, let candidate = serving.rollout?.candidate { chain.removeAll { $0 == candidate } }
        var firstFault: ModelFault?
        // The list's id comes first: a model exploring in its action draws the noise from it.
        let impression = impressionLog.map { _ in newImpressionId() }
        let exploration = configuration.exploration
        let noise = exploration.actionNoise > 0 ? exploration.actionNoise(impression: impression ?? newImpressionId()) : nil
        for id in chain {
            guard let model = loaded[id] else { firstFault = firstFault ?? .loadFailed; continue }
            if let problem = model.contextProblem(context) { throw .invalidField("context", reason: problem) }
            // A model that ranks without scoring every item serves a list that needs no other score.
            let listed: Result<[(id: String, score: Float, propensity: Double)], ModelFault>
            if candidateMask == nil, model.decidesEligibility || !request.excludeSeen, exploration.readsNoScores,
               let ranked = model.ranked(request.k, history: events, context: context, actionNoise: noise, budget: configuration.latencyBudget,
                                         { list($0) }) {
                listed = ranked
            } else {
                listed = model.scores(history: events, context: context, actionNoise: noise, budget: configuration.latencyBudget).map { scores in
                    list(scores, k: request.k, candidates: candidateMask, seen: request.excludeSeen && !model.decidesEligibility ? events : [])
                }
            }
            switch listed {
            case .success(let items):
                return try await served(Recommendation(items: items, version: id, arm: arm,
                                                       fallback: firstFault.map { Recommendation.Fallback(fault: $0, servedBy: id) },
                                                       impression: impression),
                                        user: request.user, timestamp: request.timestamp, context: context, rollout: serving.rollout?.candidate)
            case .failure(let fault):
                firstFault = firstFault ?? fault
            }
        }
        let counts = histories.popularity()
        let popularity = zip(trainingCounts, counts).map { $0 + $1 }
        let items = list(popularity, k: request.k, candidates: candidateMask, seen: request.excludeSeen ? events : [])
        return try await served(Recommendation(items: items, version: nil, arm: arm,
                                               fallback: Recommendation.Fallback(fault: firstFault ?? .loadFailed, servedBy: "popularity"),
                                               impression: impression),
                                user: request.user, timestamp: request.timestamp, context: context, rollout: serving.rollout?.candidate)
    }

    /// A new list's id: a random UUID, or one drawn from the exploration seed when there is one.
    private func newImpressionId() -> String {
        guard configuration.explorationSeed != nil else {
            // A random (version 4) UUID from the system's generator (no file to open): Foundation's
            // UUID() opens, reads and closes /dev/urandom on Linux, 3% of a ranked request's time.
            var system = SystemRandomNumberGenerator()
            var uuid = withUnsafeBytes(of: (system.next() as UInt64, system.next() as UInt64)) { $0.load(as: uuid_t.self) }
            uuid.6 = uuid.6 & 0x0F | 0x40
            uuid.8 = uuid.8 & 0x3F | 0x80
            return UUID(uuid: uuid).uuidString
        }
        let words = lock.withLock { (impressionIds.next(), impressionIds.next()) }
        return UUID(uuid: withUnsafeBytes(of: words) { $0.load(as: uuid_t.self) }).uuidString
    }

    /// The answer, once the impression log (when there is one) has it on disk; only then is it
    /// counted for the running rollout.
    private func served(_ answer: Recommendation, user: String, timestamp: Int64?, context: [Float], rollout: String?) async throws(RequestError) -> Recommendation {
        await gate.enter()
        defer { gate.leave() }
        let now = timestamp ?? configuration.clock()
        if let impressionLog, let id = answer.impression {
            let impression = Impression(id: id, user: user, timestamp: now,
                                        version: answer.version ?? "popularity", arm: answer.arm, context: context,
                                        items: answer.items.map { ($0.id, $0.propensity) })
            do { try await impressionLog.append(impression) } catch { throw .impressionNotLogged("\(error)") }
            remember(impression, rollout: rollout)
        }
        if keepsServedLists {
            histories.recordImpressions(user: user, items: answer.items.map { itemIndex[$0.id]! }, timestamp: now)
        }
        recordServed(answer.items, to: user, arm: answer.arm, rollout: rollout)
        return answer
    }

    private func remember(_ impression: Impression, rollout: String?) {
        remember(impression.id, RecentList(user: impression.user, version: impression.version, arm: impression.arm,
                                           items: impression.items.map { itemIndex[$0.id]! }, rollout: rollout))
    }

    private func remember(_ id: String, _ list: RecentList) {
        let capacity = configuration.recentImpressions
        guard capacity > 0 else { return }
        lock.withLock {
            if recentOrder.count < capacity {
                recentOrder.append(id)
            } else {
                recent[recentOrder[recentNext]] = nil
                recentOrder[recentNext] = id
                recentNext = (recentNext + 1) % capacity
            }
            recent[id] = list
        }
    }

    /// The served list that feedback on `item` by `user` names, by its impression id and the
    /// item's 1-based position, checked against what was served and to whom.
    public func servedList(impression id: String, position: Int, item: String, user: String) throws(RequestError) -> LoggedInteractions.Served {
        guard let list = lock.withLock({ recent[id] }) else { throw .unknownImpression(id) }
        guard list.user == user else { throw .invalidField("impression_id", reason: "names a list served to another user") }
        guard (1...list.items.count).contains(position) else {
            throw .invalidField("position", reason: "is \(position); impression '\(id)' showed \(list.items.count) items")
        }
        let shown = itemIds[Int(list.items[position - 1])]
        guard shown == item else {
            throw .invalidField("item_id", reason: "is '\(item)', but impression '\(id)' showed '\(shown)' at position \(position)")
        }
        return LoggedInteractions.Served(impression: id, position: position, version: list.version, arm: list.arm.rawValue)
    }

    /// Counts a list served during a rollout. Without an impression log it is remembered as the
    /// user's open list, to credit the arm with a conversion when feedback on one of its items
    /// arrives; with one, only feedback that names the list converts it (see `feedback`).
    private func recordServed(_ items: [(id: String, score: Float, propensity: Double)], to user: String, arm: TrafficSplit.Arm, rollout: String?) {
        guard let rollout else { return }
        if impressionLog == nil { histories.recordList(user: user, items: items.map { itemIndex[$0.id]! }, arm: arm) }
        lock.withLock {
            if outcomes?.candidate != rollout { outcomes = (rollout, [:]) }
            outcomes!.arms[arm, default: ArmOutcome()].served += 1
        }
    }

    /// The running rollout's outcomes: (control, candidate).
    public var rolloutOutcomes: (control: ArmOutcome, candidate: ArmOutcome)? {
        lock.withLock {
            guard let outcomes, outcomes.candidate == state.rollout?.candidate else { return nil }
            return (outcomes.arms[.control] ?? ArmOutcome(), outcomes.arms[.candidate] ?? ArmOutcome())
        }
    }

    /// Applies the guardrail to the running rollout: when the candidate does worse than the
    /// control beyond doubt, the rollout is stopped in the registry (an audited rollback of the
    /// candidate) and the service stops serving it. Returns the reason when it did.
    @discardableResult
    public func enforceGuardrail() throws -> String? {
        guard let (control, candidate) = rolloutOutcomes,
              case .rollBack(let reason) = configuration.guardrail.verdict(control: control, candidate: candidate) else { return nil }
        try registry.stopRollout(reason: reason)
        try reload()
        return reason
    }

    private func contextValues(_ given: [String: Double], latest: [Float]?) throws(RequestError) -> [Float] {
        for name in given.keys where !contextColumns.contains(name) {
            throw .unknownContextField(name, known: contextColumns)
        }
        // A user known only from the lists served to them has no context yet.
        var values = latest.flatMap { $0.count == contextColumns.count ? $0 : nil } ?? [Float](repeating: 0, count: contextColumns.count)
        for (j, name) in contextColumns.enumerated() {
            guard let value = given[name] else { continue }
            guard value.isFinite else { throw .invalidField("context field '\(name)'", reason: "is not a finite number") }
            values[j] = Float(value)
        }
        return values
    }

    /// The list to show: the k best eligible items, best first (candidates only when given, items
    /// in `seen` left out unless they are candidates; fewer than k when fewer are eligible), with
    /// the positions the configured exploration draws from the other eligible items.
    private func list(_ scores: [Float], k: Int, candidates: [Bool]?, seen: [UserEvent]) -> [(id: String, score: Float, propensity: Double)] {
        let exploration = configuration.exploration
        let choice = ServedListChoice(scores: scores, k: k, candidates: candidates, seen: seen, withPool: exploration.epsilon > 0)
        guard exploration.epsilon > 0 else { return choice.greedy.map { (itemIds[Int($0)], scores[Int($0)], 1) } }
        let popularity = exploration.explorer == .popularity ? zip(trainingCounts, histories.popularity()).map { $0 + $1 } : []
        var generator = RandomGenerator(seed: lock.withLock { explorationSeeds.next() })
        return exploration.place(greedy: choice.greedy, pool: choice.pool, scores: scores, popularity: popularity, using: &generator)
            .map { (itemIds[Int($0.item)], scores[Int($0.item)], $0.propensity) }
    }

    /// The list `list(_:k:candidates:seen:)` makes of the same model's scores, from its ranked
    /// items: the greedy list is theirs, the pool the other items the model would show.
    private func list(_ ranked: RankedItems) -> [(id: String, score: Float, propensity: Double)] {
        let exploration = configuration.exploration
        guard exploration.epsilon > 0 else { return zip(ranked.items, ranked.scores).map { (itemIds[Int($0)], $1, 1) } }
        var pool = ranked.eligible
        for item in ranked.items { pool.remove(item) }
        let popularity = exploration.explorer == .popularity ? zip(trainingCounts, histories.popularity()).map { $0 + $1 } : []
        var generator = RandomGenerator(seed: lock.withLock { explorationSeeds.next() })
        return exploration.place(greedy: ranked.items, pool: pool, popularity: popularity, using: &generator).map { placement in
            let score = ranked.items.firstIndex(of: placement.item).map { ranked.scores[$0] } ?? ranked.score(placement.item)
            return (itemIds[Int(placement.item)], score, placement.propensity)
        }
    }

    // MARK: Feedback

    /// Validates the event, appends it durably to the feedback log (returning once it is on
    /// disk) and then adds it to the user's history. During a rollout, positive feedback converts
    /// a list for its arm's outcome. With an impression log only feedback that names the list
    /// (checked by `servedList`, whose impression ids are unguessable) converts it, once: a client
    /// cannot move the guardrail with feedback on lists it was not served. Without one, the user's
    /// latest list is converted by positive feedback on one of its items, whoever sends it.
    public func feedback(_ event: FeedbackEvent) async throws -> Void {
        guard !event.user.isEmpty else { throw RequestError.invalidField("user_id", reason: "is empty") }
        guard event.user.utf8.count <= Self.maximumUserIdBytes else {
            throw RequestError.invalidField("user_id", reason: "is \(event.user.utf8.count) bytes long; ids may be at most \(Self.maximumUserIdBytes)")
        }
        guard let item = itemIndex[event.item] else { throw RequestError.unknownItem(event.item) }
        guard event.value.isFinite else { throw RequestError.invalidField("value", reason: "is not a finite number") }
        guard event.context.count == contextColumns.count, event.context.allSatisfy(\.isFinite) else {
            throw RequestError.invalidField("context", reason: "must give the finite fields \(contextColumns)")
        }
        for text in [event.user, event.item] where text.contains(where: { $0.isNewline || $0 == "\0" }) {
            throw RequestError.lineBreakInId(text)
        }
        await gate.enter()
        defer { gate.leave() }
        try await feedbackLog.append(event)
        let converted = histories.record(user: event.user, UserEvent(item: item, event: event.event, value: event.value, timestamp: event.timestamp),
                                         context: event.context)
        lock.withLock {
            guard let rolloutCandidate = outcomes?.candidate else { return }
            if impressionLog == nil {
                if let converted { outcomes!.arms[converted, default: ArmOutcome()].converted += 1 }
            } else if let served = event.served, ArmOutcome.isPositive(event.event, value: event.value),
                      let list = recent[served.impression], list.user == event.user, !list.converted, list.rollout == rolloutCandidate {
                recent[served.impression]!.converted = true
                outcomes!.arms[list.arm, default: ArmOutcome()].converted += 1
            }
        }
    }

    /// Feedback as a client states it: the list it names checked against the lists served
    /// (`servedList`), the context completed (`feedbackContext`), stamped by the service's clock
    /// when it has no timestamp, then logged (`feedback(_: FeedbackEvent)`).
    public func feedback(_ request: FeedbackRequest) async throws {
        let served = try request.impression.map { impression throws(RequestError) in
            try servedList(impression: impression.id, position: impression.position, item: request.item, user: request.user)
        }
        try await feedback(FeedbackEvent(user: request.user, item: request.item, timestamp: request.timestamp ?? configuration.clock(),
                                         event: request.event, value: request.value,
                                         context: try feedbackContext(user: request.user, request.context), served: served))
    }

    /// The context a feedback event is logged with: the given fields, the rest from the user's
    /// latest context (zero for a new user).
    public func feedbackContext(user: String, _ given: [String: Double]) throws(RequestError) -> [Float] {
        try contextValues(given, latest: histories.entry(for: user)?.context)
    }

    // MARK: Snapshot

    /// Writes the snapshot (when `snapshotPath` is set): new requests wait while the ones that are
    /// logging an event finish and the state is copied (copy-on-write), then the copy is written
    /// atomically while requests go on. A restart then replays only what the logs gain after it.
    public func writeSnapshot() async throws {
        guard configuration.snapshotPath != nil else { return }
        await gate.close()
        let captured = capture()
        gate.reopen()
        // Written on a thread of its own: the caller's executor may be a server's event loop
        // (`drlrec serve`), whose connections would wait for the whole file.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            Thread { [self] in
                do { try write(captured); done.resume() } catch { done.resume(throwing: error) }
            }.start()
        }
    }

    /// A copy of the state with the places in the logs it reaches to.
    private typealias CapturedState = (contents: UserHistories.Contents, lists: [ServiceSnapshot.ServedList],
                                       feedback: LinePosition, impressions: LinePosition?)

    /// The state and the logs' ends; called with nothing being logged (the start, or a closed gate).
    private func capture() -> CapturedState {
        let feedbackEnd = feedbackLog.end
        let impressionsEnd = impressionLog?.end
        let lists = lock.withLock {
            // The ring from its oldest list (at `recentNext` once it is full).
            let ids = recentOrder.count < configuration.recentImpressions ? recentOrder : Array(recentOrder[recentNext...] + recentOrder[..<recentNext])
            return ids.compactMap { id in
                recent[id].map { ServiceSnapshot.ServedList(id: id, user: $0.user, version: $0.version, arm: $0.arm, items: $0.items) }
            }
        }
        return (histories.contents, lists,
                LinePosition(byte: feedbackEnd.bytes, line: linesAtStart.feedback + feedbackEnd.appendedLines),
                impressionsEnd.map { LinePosition(byte: $0.bytes, line: linesAtStart.impressions + $0.appendedLines) })
    }

    private func write(_ captured: CapturedState) throws {
        guard let path = configuration.snapshotPath else { return }
        var impressions: ServiceSnapshot.LogMark?
        if let impressionLog, let position = captured.impressions { impressions = try ServiceSnapshot.mark(of: impressionLog.path, at: position) }
        let snapshot = ServiceSnapshot(settings: snapshotSettings, feedback: try ServiceSnapshot.mark(of: feedbackLog.path, at: captured.feedback),
                                       impressions: impressions, histories: captured.contents, recentLists: captured.lists)
        try snapshot.write(to: path)
    }

    private func writeSnapshotNow() throws { try write(capture()) }

    private var snapshotSettings: String {
        ServiceSnapshot.settings(itemIds: itemIds, contextColumns: contextColumns, historyCapacity: configuration.historyCapacity,
                                 maximumUsers: configuration.maximumUsers, keepsServedLists: keepsServedLists,
                                 logsImpressions: impressionLog != nil)
    }

    /// The snapshot at `snapshotPath` when it can be used: whole, of these settings, and at places
    /// the logs still hold. Otherwise nil, with the reason in `replay.snapshotRefused`.
    private func loadSnapshot() -> ServiceSnapshot? {
        guard let path = configuration.snapshotPath, FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            guard let data = FileManager.default.contents(atPath: path) else { throw SnapshotRefusal("it cannot be read") }
            let snapshot = try ServiceSnapshot.decode(Array(data), settings: snapshotSettings, items: itemIds.count, contextWidth: contextColumns.count,
                                                      capacity: configuration.historyCapacity, maximumUsers: configuration.maximumUsers)
            guard (snapshot.impressions != nil) == (impressionLog != nil) else {
                throw SnapshotRefusal(impressionLog == nil ? "it has a place in an impression log, and none is kept" : "it has no place in the impression log")
            }
            var logs = [(feedbackLog.path, snapshot.feedback)]
            if let impressionLog, let mark = snapshot.impressions { logs.append((impressionLog.path, mark)) }
            for (log, mark) in logs where try ServiceSnapshot.mark(of: log, at: mark.position) != mark {
                throw SnapshotRefusal("the log '\(log)' no longer holds the bytes the snapshot was taken from (replaced, cut or rewritten)")
            }
            replay.fromSnapshot = true
            return snapshot
        } catch {
            replay.snapshotRefused = "the snapshot '\(path)' was not used: \(error)"
            return nil
        }
    }

    /// Rebuilds what the service knew before a restart: the users' histories from the feedback
    /// log and, with an impression log, the latest lists (so that feedback naming them is still
    /// accepted) and, for models that read them, the lists in the users' histories. The two logs
    /// are merged by time, each in the order it was written. Times are whole seconds, and at a tie
    /// feedback goes first (a history sent before the user's first list), unless it names a list
    /// not replayed yet: feedback answers the list it names.
    private func replayLogs(feedbackPath: String, after snapshot: ServiceSnapshot?) throws {
        if let snapshot {
            histories.restore(snapshot.histories)
            for list in snapshot.recentLists {
                remember(list.id, RecentList(user: list.user, version: list.version, arm: list.arm, items: list.items, rollout: nil))
            }
        }
        let feedback: LoggedInteractions
        (feedback, linesAtStart.feedback) = try readLog(feedbackPath, resuming: snapshot?.feedback.position)
        var shown: LoggedInteractions?
        if let path = configuration.impressionLogPath {
            (shown, linesAtStart.impressions) = try readLog(path, resuming: snapshot?.impressions?.position)
        }
        (replay.feedbackRows, replay.impressionRows) = (feedback.count, shown?.count ?? 0)
        var k = 0, row = 0
        var replayed = Set<String>()
        while k < feedback.count || row < (shown?.count ?? 0) {
            if let shown, row < shown.count,
               k == feedback.count || shown.timestamps[row] < feedback.timestamps[k]
                || (shown.timestamps[row] == feedback.timestamps[k] && feedback.served(k).map { !replayed.contains($0.impression) } == true) {
                if let id = shown.served(row)?.impression { replayed.insert(id) }
                row = replayList(shown, from: row)
                continue
            }
            defer { k += 1 }
            guard let item = itemIndex[feedback.itemIds[Int(feedback.items[k])]] else { continue }
            let width = feedback.contextColumns.count
            histories.record(user: feedback.userIds[Int(feedback.users[k])],
                             UserEvent(item: item, event: feedback.events[k], value: feedback.values[k], timestamp: feedback.timestamps[k]),
                             context: Array(feedback.context[(width * k)..<(width * (k + 1))]))
        }
    }

    /// A log for the replay: a line that cannot be read is left out and kept in the log's
    /// quarantine file (`LogQuarantine`), so that a damaged line never stops a restart.
    /// With `start`, only the lines from there on are read. Returns the log's line count too.
    private func readLog(_ path: String, resuming start: LinePosition?) throws -> (log: LoggedInteractions, lines: Int) {
        let (log, bad, end) = try LoggedInteractions.read(csv: path, skippingBadRows: true, resuming: start)
        try LogQuarantine.keep(bad, of: path)
        badLogLines += bad
        return (log, end.line)
    }

    /// Replays the list whose first row in the impression log is `start` (its rows are written
    /// together); returns the row after it.
    private func replayList(_ shown: LoggedInteractions, from start: Int) -> Int {
        guard let served = shown.served(start) else { return start + 1 }
        var end = start + 1
        while end < shown.count, shown.served(end)?.impression == served.impression { end += 1 }
        let items = (start..<end).compactMap { itemIndex[shown.itemIds[Int(shown.items[$0])]] }
        let user = shown.userIds[Int(shown.users[start])]
        guard items.count == end - start else { return end }  // a list of another catalogue
        remember(served.impression, RecentList(user: user, version: served.version, arm: TrafficSplit.Arm(rawValue: served.arm) ?? .control,
                                               items: items, rollout: nil))
        if keepsServedLists { histories.recordImpressions(user: user, items: items, timestamp: shown.timestamps[start]) }
        return end
    }
}

#if os(Linux)
/// glibc's malloc_trim (malloc.h, which Swift's Glibc module does not export).
@_silgen_name("malloc_trim")
private func releaseFreedMemory(_ pad: Int) -> Int32
#endif
