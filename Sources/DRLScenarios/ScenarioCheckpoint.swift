import DRLAgents
import DRLNN

/// What a checkpoint written by a scenario's recipe says about itself, read from its header: the
/// agent kind (written by every agent) and the labels `drlrec train` adds (see
/// `CheckpointedAgent.save(to:loop:labels:)`): the scenario it was trained on and the state
/// encoder its ranker reads through, so that a policy is rebuilt from the file alone.
public struct ScenarioCheckpoint: Sendable {
    public typealias SequenceModel = SequenceStateEncoder.Configuration.SequenceModel

    static let scenarioKey = "drlrec.scenario"
    static let stateEncoderKey = "drlrec.state_encoder"
    static let historyKey = "drlrec.history_tokens"
    static let settingsKey = "drlrec.settings"

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

    private static func unlabelledStateEncoder(_ tensors: [(name: String, shape: [Int])]) -> (model: SequenceModel, history: Int)? {
        guard let positions = tensors.first(where: { $0.name == "critic.encoder.position.weight" }) else { return nil }
        let names = tensors.map(\.name)
        let model: SequenceModel = names.contains { $0.hasPrefix("critic.encoder.sequence.attention.") } ? .attention
            : names.contains("critic.encoder.sequence.weight_ih_l0") ? .gru : .convolution
        return (model, positions.shape[0])
    }
}
