import DRLAgents
import DRLNN

/// What a checkpoint written by a scenario's recipe says about itself, read from its header: the
/// agent kind (written by every agent) and the labels `drlrec train` adds (see
/// `CheckpointedAgent.save(to:loop:labels:)`): the scenario it was trained on and the state
/// encoder its ranker reads through, so that a policy is rebuilt from the file alone.
public struct ScenarioCheckpoint: Sendable {
    /// The sequence model of a ranker's state encoder.
    public typealias SequenceModel = SequenceStateEncoder.Configuration.SequenceModel

    static let scenarioKey = "drlrec.scenario"
    static let stateEncoderKey = "drlrec.state_encoder"
    static let historyKey = "drlrec.history_tokens"
    public static let settingsKey = "drlrec.settings"

    public let path: String
    /// The agent kind ("sac", "td3", "a2c", …).
    public let agentKind: String
    /// The scenario it was trained on; nil in files written before checkpoints carried labels.
    public let scenario: Scenario?
    /// The state encoder's sequence model and the history length it reads; nil for an agent that
    /// reads the summary observation.
    public let stateEncoder: (model: SequenceModel, history: Int)?
    /// The simulator's settings in full (`ConfigurationFile.text(of:)`); nil in files written
    /// before checkpoints carried them (the defaults).
    public let settings: String?
    /// Every tensor's shape, by name.
    public let tensorShapes: [String: [Int]]
    /// The policy only, or the whole training state.
    public let contents: CheckpointContents
    /// The agent's hyperparameters as the file records them (a configuration file's text, see
    /// `CheckpointedAgent.checkpointHyperparameters`), checked against its tensors: the network
    /// widths against the policy's and, with the training state, the replay's size against its
    /// replay. nil in files from before they were recorded: the recipe's defaults.
    public let hyperparameters: String?

    /// `hyperparameters` with the place errors name, for the recipes' agent builders.
    public var recordedHyperparameters: (text: String, origin: String)? {
        hyperparameters.map { ($0, "\(path) (metadata '\(AgentCheckpoint.hyperparametersKey)')") }
    }

    /// The labels a recipe's checkpoints carry: the scenario, the simulator's `settings` (see
    /// `ScenarioSimulators.settings(of:)`), the state encoder, and the kind of model the file
    /// serves as (`ServableSlateRanker`, `ServableTutor`), so the registry takes it.
    public static func labels(scenario: Scenario, settings: String? = nil, stateEncoder: (model: SequenceModel, history: Int)? = nil)
        -> [String: String] {
        var labels = [scenarioKey: scenario.rawValue]
        if let settings { labels[settingsKey] = settings }
        labels[ModelCheckpoint.modelKindKey] = scenario == .education ? ServableTutor.checkpointKind : ServableSlateRanker.checkpointKind
        if let stateEncoder {
            labels[stateEncoderKey] = stateEncoder.model.rawValue
            labels[historyKey] = String(stateEncoder.history)
        }
        return labels
    }

    /// Reads the header of the checkpoint at `path`; a file that is no agent checkpoint, or whose
    /// labels are malformed, is refused with the key at fault.
    public init(path: String) throws(ScenarioError) {
        let header: (tensors: [(name: String, shape: [Int])], metadata: [String: String])
        do { header = try SafeTensors.describe(path) } catch { throw .checkpoint(error) }
        func refuse(_ detail: String) -> ScenarioError { .checkpoint(CheckpointError(path: path, reason: .invalidHeader(detail))) }
        let metadata = header.metadata
        guard let kind = metadata[AgentCheckpoint.kindKey] else { throw refuse("metadata '\(AgentCheckpoint.kindKey)' is missing: the file is not a DRLRec agent checkpoint") }
        self.path = path
        agentKind = kind
        do { contents = try AgentCheckpoint.contents(metadata, path: path) } catch { throw .checkpoint(error) }
        settings = metadata[Self.settingsKey]
        tensorShapes = Dictionary(header.tensors.map { ($0.name, $0.shape) }) { first, _ in first }
        if let text = metadata[AgentCheckpoint.hyperparametersKey] {
            hyperparameters = try ScenarioCheckpoint.checked(hyperparameters: text, kind: kind, tensors: header.tensors, contents: contents, path: path)
        } else {
            hyperparameters = nil
        }
        guard let name = metadata[Self.scenarioKey] else {
            // Files from before the labels: the scenario is unknown, and the state encoder shows in
            // the tensors' names (an encoder's position table has one row per history token).
            scenario = nil
            stateEncoder = Self.unlabelledStateEncoder(header.tensors)
            return
        }
        guard let scenario = Scenario(rawValue: name) else {
            throw refuse("metadata '\(Self.scenarioKey)' is '\(name)', not one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.scenario = scenario
        switch (metadata[Self.stateEncoderKey], metadata[Self.historyKey]) {
        case (nil, nil): stateEncoder = nil
        case let (model?, history?):
            guard let sequenceModel = SequenceModel(rawValue: model) else {
                throw refuse("metadata '\(Self.stateEncoderKey)' is '\(model)', not one of \(SequenceModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let longest = SequenceStateEncoder.Configuration.maximumHistoryLength
            guard let length = Int(history), (1...longest).contains(length) else {
                throw refuse("metadata '\(Self.historyKey)' is '\(history)', not a history length in 1...\(longest)")
            }
            stateEncoder = (sequenceModel, length)
        default:
            throw refuse("metadata '\(Self.stateEncoderKey)' and '\(Self.historyKey)' come together; the file has only one of them")
        }
    }

    /// `text` when the networks and replay it describes are the file's, so that a file cannot
    /// make a reader build networks or buffers larger than what it holds.
    private static func checked(hyperparameters text: String, kind: String, tensors: [(name: String, shape: [Int])],
                                contents: CheckpointContents, path: String) throws(ScenarioError) -> String {
        let origin = "\(path) (metadata '\(AgentCheckpoint.hyperparametersKey)')"  // as recordedHyperparameters says
        func parse<Configuration: FileConfigurable>(_ defaults: Configuration) throws(ScenarioError) -> Configuration {
            var configuration = defaults
            do { try ConfigurationFile.load(text: text, origin: origin, into: &configuration) } catch { throw .configuration(error) }
            return configuration
        }
        // The policy's hidden layers are the rows of its first weight matrices, in file order.
        let hidden: [Int], buffer: Int?, policyPrefix: String
        switch kind {
        case "sac": let c = try parse(SACConfiguration()); (hidden, buffer, policyPrefix) = (c.hiddenSizes, c.bufferCapacity, "actor.trunk.")
        case "td3": let c = try parse(TD3Configuration()); (hidden, buffer, policyPrefix) = (c.hiddenSizes, c.bufferCapacity, "actor.")
        case Tutor.kind: (hidden, buffer, policyPrefix) = (try parse(A2CConfiguration()).hiddenSizes, nil, "policy.trunk.")
        default: return text  // not a scenario's agent: the loaders refuse its kind
        }
        let widths = tensors.filter { $0.name.hasPrefix(policyPrefix) && $0.name.hasSuffix(".weight") && $0.shape.count == 2 }.map { $0.shape[0] }
        func refuse(_ detail: String) -> ScenarioError { .checkpoint(CheckpointError(path: path, reason: .invalidHeader(detail))) }
        guard widths.count >= hidden.count, Array(widths.prefix(hidden.count)) == hidden else {
            throw refuse("\(origin): 'hidden_sizes' \(hidden) are not the widths of the policy's layers in the file (\(widths))")
        }
        if contents == .trainingState, let buffer {
            let rows = tensors.first { $0.name == "replay.observations" }?.shape.first
            guard rows == buffer else {
                throw refuse("\(origin): 'buffer_size' \(buffer) is not the replay's size in the file (\(rows.map(String.init) ?? "no replay"))")
            }
        }
        return text
    }

    private static func unlabelledStateEncoder(_ tensors: [(name: String, shape: [Int])]) -> (model: SequenceModel, history: Int)? {
        guard let positions = tensors.first(where: { $0.name == "critic.encoder.position.weight" }) else { return nil }
        let names = tensors.map(\.name)
        let model: SequenceModel = names.contains { $0.hasPrefix("critic.encoder.sequence.attention.") } ? .attention
            : names.contains("critic.encoder.sequence.weight_ih_l0") ? .gru : .convolution
        return (model, positions.shape[0])
    }
}
