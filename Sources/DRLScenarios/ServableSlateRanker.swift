import DRLAgents
import DRLData
import DRLNN
import DRLRanking
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// The e-commerce list-wise ranker of a `drlrec train --env ecommerce` checkpoint, served: the
/// platform's view of the user is rebuilt from the history the service keeps (the lists it served
/// and the user's feedback) and the request's context by `EcommerceObservedUser`, the same code
/// that gave the agent its observations in training; the agent's greedy ranking weights build the
/// slate with the same `WeightedSlateBuilder`, over the same catalogue and collaborative model,
/// both rebuilt from the settings the checkpoint records. Items are named by their catalogue
/// index ("0", "1", …).
///
/// Its scores put the slate first, in order, and then every other eligible item by its weighted
/// score; items shown to the user before (or not allowed) are −∞, as the builder rules them out.
public final class ServableSlateRanker: ServableModel {
    public static let checkpointKind = "slate-ranker"

    public let itemIds: [String]
    public let contextColumns = EcommerceObservedUser.contextColumns
    /// The existing users' clicks per item (what the collaborative model learnt from).
    public let itemCounts: [Float]
    public var decidesEligibility: Bool { true }
    public var readsImpressions: Bool { true }

    private let platform: Platform
    private let agent: ContinuousControlAgent
    private let builder: WeightedSlateBuilder
    /// The history a state encoder reads; nil for the summary observation.
    private let historyTokens: Int?
    private var observation: Tensor
    private var slate: [Int32]

    /// The ranker saved at `path`; refused unless it is an e-commerce ranker (SAC or TD3) with
    /// labels that rebuild its simulator.
    public static func load(checkpoint path: String) throws -> ServableSlateRanker {
        let checkpoint = try ScenarioCheckpoint(path: path)
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        guard checkpoint.scenario == .ecommerce else {
            throw refuse("a served slate ranker is trained on ecommerce; the file's scenario is \(checkpoint.scenario?.rawValue ?? "not recorded")")
        }
        guard SlateRanker.kinds.contains(checkpoint.agentKind) else {
            throw refuse("a served slate ranker is one of \(SlateRanker.kinds.joined(separator: ", ")); the file holds a '\(checkpoint.agentKind)' agent")
        }
        var settings = EcommerceConfiguration()
        if let text = checkpoint.settings {
            do { try ConfigurationFile.load(text: text, origin: "\(path) (metadata '\(ScenarioCheckpoint.settingsKey)')", into: &settings) } catch {
                throw refuse("\(error)")
            }
        }
        if let encoder = checkpoint.stateEncoder, encoder.history != settings.historyTokens {
            throw refuse("the state encoder reads \(encoder.history) interactions but the settings give history_tokens \(settings.historyTokens)")
        }
        let platform = try Platform.shared(settings)
        return try ServableSlateRanker(path: path, kind: checkpoint.agentKind, encoder: checkpoint.stateEncoder?.model, platform: platform)
    }

    private init(path: String, kind: String, encoder: ScenarioCheckpoint.SequenceModel?, platform: Platform) throws {
        self.platform = platform
        let simulator = platform.simulator
        builder = WeightedSlateBuilder(catalogue: simulator.catalogue, qualitySignal: simulator.itemQualitySignal, collaborative: platform.collaborative)
        agent = SlateRanker.agent(kind, for: simulator, builder: builder, gamma: SlateRanker.gamma(for: .ecommerce), stateEncoder: encoder, seed: 0)
        try agent.load(from: path)
        itemIds = (0..<simulator.catalogue.count).map(String.init)
        itemCounts = platform.clickCounts
        historyTokens = encoder == nil ? nil : simulator.configuration.historyTokens
        observation = Tensor(zeros: Shape(simulator.observationDimension))
        slate = [Int32](repeating: 0, count: simulator.slateSize)
    }

    public func contextProblem(_ context: [Float]) -> String? {
        EcommerceObservedUser(configuration: platform.simulator.configuration).contextProblem(context)
    }

    /// The slate the ranker shows the user: what the same agent shows in simulation for the same
    /// events and context.
    public func slate(history: [UserEvent], context: [Float]) -> [Int32] {
        let simulator = platform.simulator
        let user = EcommerceObservedUser(configuration: simulator.configuration, history: history, context: context)
        if let historyTokens {
            user.writeSequenceObservation(historyTokens: historyTokens, catalogue: simulator.catalogue, into: &observation)
        } else {
            user.writeSummaryObservation(catalogue: simulator.catalogue, into: &observation)
        }
        guard case .continuous(let weights) = agent.act(observation, mode: .greedy) else {
            requirementFailure("ServableSlateRanker: the \(type(of: agent)) does not act with ranking weights")
        }
        builder.build(ObservedPlatform(catalogue: simulator.catalogue, constraints: simulator.constraints, user: user), action: weights,
                      previousSlate: user.latestSlate[...], into: &slate)
        return slate
    }

    public func scores(history: [UserEvent], context: [Float]) -> [Float] {
        let slate = slate(history: history, context: context)
        var scores = builder.scores.scalars
        let best = scores.lazy.filter(\.isFinite).max() ?? 0
        for (position, item) in slate.enumerated() { scores[Int(item)] = best + Float(slate.count - position) }
        return scores
    }

    /// The platform a user is served on: the view rebuilt from their events.
    private struct ObservedPlatform: PlatformView {
        let catalogue: Catalogue
        let constraints: PlatformConstraints
        let user: EcommerceObservedUser
        var shownItems: Set<Int32> { user.shownItems }
        var recentClickedItems: [Int32] { user.recentClicks }
    }

    /// What every ranker of one simulator's settings shares, built once per process: the
    /// simulator (for its catalogue and rules) and the collaborative model of its existing users,
    /// which takes seconds to fit and is only read (its fold-in is a pure function).
    private final class Platform: @unchecked Sendable {
        let simulator: EcommerceSimulator
        let collaborative: ImplicitALS
        let clickCounts: [Float]

        private static let lock = NSLock()
        nonisolated(unsafe) private static var built: [String: Platform] = [:]

        private init(_ settings: EcommerceConfiguration) throws {
            simulator = EcommerceSimulator(configuration: settings)
            let existing = ExistingUserModels(environment: EcommerceSimulator(configuration: settings))
            collaborative = try existing.als().model
            clickCounts = try existing.clickCounts()
        }

        static func shared(_ settings: EcommerceConfiguration) throws -> Platform {
            let key = ConfigurationFile.text(of: settings)
            return try lock.withLock {
                if let platform = built[key] { return platform }
                let platform = try Platform(settings)
                built[key] = platform
                return platform
            }
        }
    }
}

extension ServableModelKinds {
    /// Every kind DRLRec serves: next-item models, the e-commerce ranker and the education tutor.
    public static let drlrec = ServableModelKinds([NextItemModel.self, ServableSlateRanker.self, ServableTutor.self])
}
