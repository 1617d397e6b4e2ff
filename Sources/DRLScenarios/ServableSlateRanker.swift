import DRLAgents
import DRLData
import DRLNN
import DRLRanking
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// The list-wise ranker of a `drlrec train --env ecommerce` or `--env video` checkpoint, served:
/// the platform's view of the user is rebuilt from the history the service keeps (the lists it
/// served and the user's feedback) and the request's context by the platform's
/// `ObservableSlatePlatform.observe` (`EcommerceObservedUser`, `VideoObservedUser`), the same code
/// that gave the agent its observations in training; the agent's greedy ranking weights build the
/// slate with the same `WeightedSlateBuilder`, over the same catalogue (and, on e-commerce, the
/// same collaborative model), rebuilt from the settings the checkpoint records. On e-commerce a user
/// who came without past clicks is served with cold-start transfer from their segment, as
/// `drlrec abtest` runs the ranker (`ColdStartTransferPolicy`, 32 groups of the existing users).
/// Items are named by their catalogue index ("0", "1", …).
///
/// Its scores put the slate first, in order, and then every other eligible item by its weighted
/// score; items shown to the user before (or not allowed) are −∞, as the builder rules them out.
public final class ServableSlateRanker: ServableModel {
    public static let checkpointKind = "slate-ranker"

    public let itemIds: [String]
    public let contextColumns: [String]
    /// On e-commerce, the existing users' clicks per item (what the collaborative model learnt
    /// from); the catalogue's popularity in a million interactions on the video feed.
    public let itemCounts: [Float]
    public var decidesEligibility: Bool { true }
    public var readsImpressions: Bool { true }

    private let platform: Platform
    /// The agent (fine-tuning from served logs trains it further: `SlateRankerFineTuning`).
    let agent: ContinuousControlAgent
    /// The labels of the checkpoint it was loaded from, for a checkpoint of the same kind.
    let labels: [String: String]
    private let builder: WeightedSlateBuilder
    /// The history a state encoder reads; nil for the summary observation.
    private let historyTokens: Int?
    private var observation: Tensor
    private var slate: [Int32]
    /// Cold-start histories by demographics, computed once each: a pure function of them (a kernel
    /// density over every existing user, most of a new user's request), and a platform has few of
    /// them (e-commerce: one per segment). At most `cachedHistoriesLimit` are kept.
    private var initialHistories: [[Float]: [Int32]] = [:]
    private static let cachedHistoriesLimit = 1_024

    /// The ranker saved at `path`; refused unless it is an e-commerce or video ranker (SAC or
    /// TD3) with labels that rebuild its simulator. Serving reads the policy from either kind of
    /// file (`CheckpointContents`).
    public static func load(checkpoint path: String) throws -> ServableSlateRanker { try load(checkpoint: path, trainingState: false) }

    /// With `trainingState` (to train it further) the file must hold the whole state.
    static func load(checkpoint path: String, trainingState: Bool) throws -> ServableSlateRanker {
        let checkpoint = try ScenarioCheckpoint(path: path)
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        guard let scenario = checkpoint.scenario, scenario != .education else {
            throw refuse("a served slate ranker is trained on ecommerce or video; the file's scenario is \(checkpoint.scenario?.rawValue ?? "not recorded")")
        }
        guard SlateRanker.kinds.contains(checkpoint.agentKind) else {
            throw refuse("a served slate ranker is one of \(SlateRanker.kinds.joined(separator: ", ")); the file holds a '\(checkpoint.agentKind)' agent")
        }
        let origin = "\(path) (metadata '\(ScenarioCheckpoint.settingsKey)')"
        let platform: Platform
        do {
            platform = try Platform.shared(scenario, settings: checkpoint.settings, origin: origin, historyTokens: checkpoint.stateEncoder?.history,
                                           shapes: checkpoint.tensorShapes)
        } catch let error as ConfigurationFileError {
            throw refuse("\(error)")
        }
        return try ServableSlateRanker(path: path, trainingState: trainingState, kind: checkpoint.agentKind, scenario: scenario,
                                       encoder: checkpoint.stateEncoder, hyperparameters: checkpoint.recordedHyperparameters, platform: platform,
                                       labels: ScenarioCheckpoint.labels(scenario: scenario, settings: checkpoint.settings, stateEncoder: checkpoint.stateEncoder))
    }

    private init(path: String, trainingState: Bool, kind: String, scenario: Scenario, encoder: (model: ScenarioCheckpoint.SequenceModel, history: Int)?,
                 hyperparameters: (text: String, origin: String)?, platform: Platform, labels: [String: String]) throws {
        self.platform = platform
        self.labels = labels
        let simulator = platform.simulator
        builder = WeightedSlateBuilder(for: simulator, collaborative: platform.collaborative)
        agent = try SlateRanker.agent(kind, for: simulator, builder: builder, gamma: SlateRanker.gamma(for: scenario), stateEncoder: encoder?.model,
                                      hyperparameters: hyperparameters, actingOnly: !trainingState, seed: 0)
        if trainingState { try agent.load(from: path) } else { try agent.loadPolicy(from: path) }
        itemIds = (0..<simulator.catalogue.count).map(String.init)
        contextColumns = simulator.contextColumns
        itemCounts = platform.itemCounts
        historyTokens = encoder?.history
        observation = Tensor(zeros: Shape(simulator.observationSpace.dimension))
        slate = [Int32](repeating: 0, count: simulator.slateSize)
    }

    public func contextProblem(_ context: [Float]) -> String? { platform.simulator.contextProblem(context) }

    /// The slate the ranker shows the user: what the same agent shows in simulation for the same
    /// events and context.
    /// With `actionNoise`, the slate of the agent's weights perturbed by it (exploration in the action).
    public func slate(history: [UserEvent], context: [Float], actionNoise: ActionNoise? = nil) -> [Int32] {
        let (user, weights) = decide(history: history, context: context, actionNoise: actionNoise)
        builder.build(user, action: weights, previousSlate: user.latestSlate[...], into: &slate)
        return slate
    }

    /// The agent's observation of the user and the ranking weights it chooses there (with
    /// cold-start transfer where it applies), perturbed by `actionNoise` when given: the state and
    /// action of the ranker's decision.
    public func decision(history: [UserEvent], context: [Float], actionNoise: ActionNoise? = nil) -> (observation: Tensor, action: Tensor) {
        let weights = decide(history: history, context: context, actionNoise: actionNoise).weights
        return (observation.clone(), weights.clone())
    }

    /// The platform's view of the user and the agent's greedy weights, perturbed by `actionNoise`;
    /// `observation` holds the state.
    private func decide(history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> (user: ObservedSlateUser, weights: Tensor) {
        let simulator = platform.simulator
        var user = simulator.observe(history: history, context: context, historyTokens: historyTokens, into: &observation)
        if let profiles = platform.profiles, user.arrivedWithoutClicks,
           let clicks = ColdStartTransferPolicy.transferredClicks(seed: initialHistory(profiles, user.demographics), real: user.recentClickedItems) {
            user.recentClickedItems = clicks
            if let range = simulator.clickHistoryObservationRange {
                ColdStartTransferPolicy.writeClickHistory(clicks, catalogue: simulator.catalogue, at: range, into: &observation)
            }
        }
        guard case .continuous(var weights) = agent.act(observation, mode: .greedy) else {
            requirementFailure("ServableSlateRanker: the \(type(of: agent)) does not act with ranking weights")
        }
        let range = WeightedSlateBuilder.actionRange
        actionNoise?.perturb(&weights, low: range.lowerBound, high: range.upperBound)
        return (user, weights)
    }

    private func initialHistory(_ profiles: UserGroupProfiles, _ demographics: [Float]) -> [Int32] {
        if let history = initialHistories[demographics] { return history }
        let history = profiles.initialHistory(for: demographics)
        if initialHistories.count < Self.cachedHistoriesLimit { initialHistories[demographics] = history }
        return history
    }

    public func scores(history: [UserEvent], context: [Float]) -> [Float] { scores(history: history, context: context, actionNoise: nil) }

    public func scores(history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> [Float] {
        let slate = slate(history: history, context: context, actionNoise: actionNoise)
        var scores = builder.scores.scalars
        var best = -Float.infinity
        for score in scores where score.isFinite && score > best { best = score }
        if best == -.infinity { best = 0 }
        for (position, item) in slate.enumerated() { scores[Int(item)] = best + Float(slate.count - position) }
        return scores
    }

    /// What `scores` ranks first, without copying every item's score or ranking them again: the
    /// slate, then the builder's best candidates (the slate is drawn from them); nil beyond them.
    public func rankedItems(_ count: Int, history: [UserEvent], context: [Float], actionNoise: ActionNoise?) -> RankedItems? {
        guard count <= builder.candidates else { return nil }
        let slate = slate(history: history, context: context, actionNoise: actionNoise)
        let (candidates, candidateScores) = builder.bestCandidates
        // The best finite score of all is the best candidate's: the candidates are the best scores.
        var best = candidateScores[flat: 0]
        if !best.isFinite { best = 0 }
        func slateScore(_ position: Int) -> Float { best + Float(slate.count - position) }
        var items: [Int32] = [], scores: [Float] = []
        items.reserveCapacity(count)
        scores.reserveCapacity(count)
        for (position, item) in slate.enumerated() where items.count < count { items.append(item); scores.append(slateScore(position)) }
        for (j, item) in candidates.enumerated() where items.count < count && !slate.contains(item) && candidateScores[flat: j] > -.infinity {
            items.append(item)
            scores.append(candidateScores[flat: j])
        }
        var eligible: ItemSet
        if let scored = builder.scoredItems {
            eligible = ItemSet(capacity: itemIds.count)
            eligible.insert(contentsOf: scored)
        } else {
            eligible = builder.scores.withUnsafeBufferPointer { ItemSet(capacity: $0.count, where: { $0 > -.infinity }, values: $0) }
        }
        for item in slate { eligible.insert(item) }
        // The builder's scores are read when asked, not kept: a copy held past this call would
        // make the next build copy every score before writing them (the contract allows it: the
        // scores are valid until the model's next call).
        return RankedItems(items: items, scores: scores, eligible: eligible) { [builder] item in
            if let position = slate.firstIndex(of: item) { return slateScore(position) }
            return builder.scores[flat: Int(item)]
        }
    }

    /// What every ranker of one simulator's settings shares, built once per process: the
    /// simulator (for its catalogue, rules and views of users) and, on e-commerce, the
    /// collaborative model of its existing users, which takes seconds to fit and is only read (its
    /// fold-in is a pure function).
    private final class Platform: @unchecked Sendable {
        let simulator: any ObservableSlatePlatform
        let collaborative: ImplicitALS?
        /// The existing users' group profiles for cold-start transfer (e-commerce).
        let profiles: UserGroupProfiles?
        let itemCounts: [Float]

        private static let lock = NSLock()
        nonisolated(unsafe) private static var built: [String: Platform] = [:]

        private init(_ simulator: any ObservableSlatePlatform, existing: ExistingUserModels?) throws {
            self.simulator = simulator
            collaborative = try existing?.als().model
            profiles = try existing?.profiles()
            itemCounts = try existing?.clickCounts() ?? simulator.catalogue.popularity.map { $0 * 1e6 }
        }

        /// The platform of `scenario` with the settings `text` (the defaults when nil), refused
        /// unless the checkpoint's networks (their tensor `shapes`) fit it: a state encoder's
        /// `historyTokens` must be the settings' history length.
        static func shared(_ scenario: Scenario, settings text: String?, origin: String, historyTokens: Int?, shapes: [String: [Int]]) throws
            -> Platform {
            let actorInput = actorInputs.first { shapes[$0] != nil } ?? actorInputs[0]
            let key = scenario.rawValue + (text ?? "")
            return try lock.withLock {
                if let platform = built[key] { return platform }
                let platform: Platform
                switch scenario {
                case .ecommerce:
                    var settings = EcommerceConfiguration()
                    if let text { try ConfigurationFile.load(text: text, origin: origin, into: &settings) }
                    if let historyTokens, historyTokens != settings.historyTokens {
                        throw ConfigurationFileError(path: origin, key: "history_tokens",
                                                     reason: "is \(settings.historyTokens), but the state encoder reads \(historyTokens) interactions")
                    }
                    if historyTokens == nil, settings.historyTokens != 0 {
                        throw ConfigurationFileError(path: origin, key: "history_tokens",
                                                     reason: "is \(settings.historyTokens), but the checkpoint's ranker has no state encoder to read a sequence")
                    }
                    if historyTokens == nil {
                        try fit(shapes, actorInput, axis: 1, is: 10 + 2 * settings.dimension + settings.segments,
                                "the observation of these settings ('dimension', 'segments')", origin)
                    } else {
                        try fit(shapes, "critic.encoder.item.weight", axis: 0, is: settings.items + 1, "these settings' 'items' and padding", origin)
                        try fit(shapes, "critic.encoder.category.weight", axis: 0, is: settings.categories + 1, "these settings' 'categories' and padding", origin)
                    }
                    platform = try Platform(EcommerceSimulator(configuration: settings),
                                            existing: ExistingUserModels(environment: EcommerceSimulator(configuration: settings)))
                case .video:
                    var settings = VideoFeedConfiguration()
                    if let text { try ConfigurationFile.load(text: text, origin: origin, into: &settings) }
                    try fit(shapes, actorInput, axis: 1, is: 10 + 2 * settings.dimension, "the observation of these settings ('dimension')", origin)
                    platform = try Platform(VideoFeedSimulator(configuration: settings), existing: nil)
                case .education:
                    requirementFailure("ServableSlateRanker: education serves tasks (ServableTutor)")
                }
                built[key] = platform
                return platform
            }
        }

        /// The actor's first weight matrix, [hidden, observation] (SAC's actor has a trunk, TD3's does not).
        private static let actorInputs = ["actor.trunk.0.weight", "actor.0.weight"]

        /// Refuses settings the checkpoint's networks do not fit before anything is built from
        /// them: building a platform costs time and memory with its settings, while the tensors
        /// are bytes the file really holds.
        private static func fit(_ shapes: [String: [Int]], _ name: String, axis: Int, is expected: Int, _ what: String, _ origin: String)
            throws(ConfigurationFileError) {
            guard let shape = shapes[name], shape.count > axis else {
                throw ConfigurationFileError(path: origin, reason: "the checkpoint has no tensor '\(name)' of a ranker")
            }
            guard shape[axis] == expected else {
                throw ConfigurationFileError(path: origin, reason: "\(what) give \(expected), but the checkpoint's '\(name)' has \(shape[axis]) (shape \(shape))")
            }
        }
    }
}
