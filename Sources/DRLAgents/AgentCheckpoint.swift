import DRLNN
import DRLTensor

/// What an agent checkpoint holds.
public enum CheckpointContents: String, Sendable, CaseIterable {
    /// What acting needs (`CheckpointedAgent.checkpointPolicyTensors`: DQN's online network, the
    /// actor of SAC and TD3 with any state encoder it reads through), the kind, the step counters
    /// and the labels: what serving, evaluation and A/B tests read, a small part of the whole.
    case policy
    /// Everything training needs to resume exactly (see `AgentCheckpoint`). Files from before
    /// this distinction hold it.
    case trainingState = "training-state"
}

/// An agent's complete training state in one safetensors file, written atomically: networks,
/// target networks, optimizer moments, step counters, the agent's random generator, its replay
/// buffer (contents, ring position and, for a prioritized one, the priorities), transitions pending
/// in n-step accumulators and, when a training loop wrote it, the loop's state
/// (`TrainingLoopState`). An agent restored from it, in this process or another, continues with the
/// same numbers as the one that saved it. The file names the agent kind; restoring it into another
/// kind, or into networks or buffers of other sizes, is refused before anything changes. Agents
/// reach it through `CheckpointedAgent`.
public enum AgentCheckpoint {
    /// The metadata entry that names the agent kind.
    public static let kindKey = "drlrec.agent"
    static let environmentStepsKey = "drlrec.environment_steps"
    static let gradientStepsKey = "drlrec.gradient_steps"
    static let generatorKey = "drlrec.rng"
    static let replayCountKey = "drlrec.replay.count"
    static let replayPositionKey = "drlrec.replay.position"
    /// The metadata entry that says what the file holds (`CheckpointContents`); absent in files
    /// from before policy-only files, which hold the training state.
    public static let contentsKey = "drlrec.checkpoint_contents"
    /// The metadata entry that holds the agent's hyperparameters in full, as a configuration file
    /// (`CheckpointedAgent.checkpointHyperparameters`); absent in files from before it.
    public static let hyperparametersKey = "drlrec.hyperparameters"

    /// An agent's step counters and generator, saved in the metadata.
    public struct Counters {
        public var environmentSteps: Int, gradientSteps: Int, generator: RandomGenerator
        /// The training loop's state, when the checkpoint was written by one.
        var loop: TrainingLoopState? = nil

        public init(environmentSteps: Int, gradientSteps: Int, generator: RandomGenerator) {
            self.environmentSteps = environmentSteps
            self.gradientSteps = gradientSteps
            self.generator = generator
        }
    }

    /// `extra` tensors and `extraMetadata` are agent-specific state (a prioritized replay's
    /// priorities, pending n-step transitions).
    static func save(kind: String, hyperparameters: String, parts: [CheckpointPart], replay: ReplayBuffer?,
                     extra: [(name: String, tensor: Tensor)], extraMetadata: [String: String], labels: [String: String], counters: Counters, to path: String) throws(CheckpointError) {
        var metadata = [
            kindKey: kind,
            hyperparametersKey: hyperparameters,
            environmentStepsKey: String(counters.environmentSteps),
            gradientStepsKey: String(counters.gradientSteps),
            generatorKey: counters.generator.stateDescription,
        ]
        if let replay {
            metadata[replayCountKey] = String(replay.ringState.count)
            metadata[replayPositionKey] = String(replay.ringState.position)
        }
        if let loop = counters.loop { metadata.merge(loop.metadata) { _, new in new } }
        metadata.merge(extraMetadata) { _, new in new }
        for key in labels.keys.sorted() where metadata[key] != nil {
            requirementFailure("AgentCheckpoint.save: the label '\(key)' is a key of the agent's own state")
        }
        metadata.merge(labels) { _, new in new }
        try ModelCheckpoint.save(parts, extra: replayTensors(replay) + extra, metadata: metadata, to: path)
    }

    /// Saves what acting needs (`tensors`, named as in a training-state file) with the kind, the
    /// step counters and the labels.
    static func savePolicy(kind: String, hyperparameters: String, tensors: [(name: String, tensor: Tensor)], labels: [String: String],
                           counters: Counters, to path: String) throws(CheckpointError) {
        var metadata = [
            kindKey: kind,
            hyperparametersKey: hyperparameters,
            contentsKey: CheckpointContents.policy.rawValue,
            environmentStepsKey: String(counters.environmentSteps),
            gradientStepsKey: String(counters.gradientSteps),
        ]
        for key in labels.keys.sorted() where metadata[key] != nil {
            requirementFailure("AgentCheckpoint.savePolicy: the label '\(key)' is a key of the agent's own state")
        }
        metadata.merge(labels) { _, new in new }
        try SafeTensors.write(tensors, metadata: metadata, to: path)
    }

    /// What the file at `path` holds, from its header: refused unless it is a checkpoint of a
    /// `kind` agent.
    static func contents(of path: String, kind: String) throws(CheckpointError) -> CheckpointContents {
        let metadata = try SafeTensors.describe(path).metadata
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        guard let found = metadata[kindKey] else {
            throw refuse("metadata '\(kindKey)' is missing: the file is not a DRLRec agent checkpoint")
        }
        guard found == kind else { throw refuse("the file holds a '\(found)' agent, not a '\(kind)' agent") }
        return try contents(metadata, path: path)
    }

    /// What the agent checkpoint at `path` with this header metadata holds.
    public static func contents(_ metadata: [String: String], path: String) throws(CheckpointError) -> CheckpointContents {
        guard let text = metadata[contentsKey] else { return .trainingState }
        guard let contents = CheckpointContents(rawValue: text) else {
            throw CheckpointError(path: path, reason: .invalidHeader(
                "metadata '\(contentsKey)' is '\(text)', not one of \(CheckpointContents.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        return contents
    }

    /// Loads the parts, the replay and the `extra` tensors in place and returns the saved counters
    /// and generator. `validate` checks the agent-specific metadata before anything changes.
    static func load(kind: String, parts: [CheckpointPart], replay: ReplayBuffer?, extra: [(name: String, tensor: Tensor)],
                     from path: String, validate: ([String: String]) throws(CheckpointError) -> Void)
        throws(CheckpointError) -> Counters {
        var counters = Counters(environmentSteps: 0, gradientSteps: 0, generator: RandomGenerator(seed: 0))
        var ring = (count: 0, position: 0)
        try ModelCheckpoint.load(from: path, into: parts, extra: replayTensors(replay) + extra) { metadata throws(CheckpointError) in
            func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
            guard let found = metadata[kindKey] else {
                throw refuse("metadata '\(kindKey)' is missing: the file is not a DRLRec agent checkpoint")
            }
            guard found == kind else { throw refuse("the file holds a '\(found)' agent, not a '\(kind)' agent") }
            if try contents(metadata, path: path) == .policy {
                throw refuse("the file holds only the agent's policy ('\(contentsKey)' is 'policy'), not the training state "
                             + "(replay, optimizers, target networks) that resuming training needs")
            }
            func integer(_ key: String, in range: ClosedRange<Int>) throws(CheckpointError) -> Int {
                guard let text = metadata[key], let value = Int(text), range.contains(value) else {
                    throw refuse("metadata '\(key)' is missing or not an integer in \(range.lowerBound)...\(range.upperBound)")
                }
                return value
            }
            counters.environmentSteps = try integer(environmentStepsKey, in: 0...Int.max)
            counters.gradientSteps = try integer(gradientStepsKey, in: 0...Int.max)
            guard let text = metadata[generatorKey], let generator = RandomGenerator(stateDescription: text) else {
                throw refuse("metadata '\(generatorKey)' is missing or not a generator state")
            }
            counters.generator = generator
            do throws(LoopStateError) {
                counters.loop = try TrainingLoopState(metadata: metadata)
            } catch {
                throw refuse("training-loop metadata: \(error.detail)")
            }
            try validate(metadata)
            if let replay {
                ring.count = try integer(replayCountKey, in: 0...replay.capacity)
                ring.position = try integer(replayPositionKey, in: 0...(replay.capacity - 1))
                guard ring.count == replay.capacity || ring.position == ring.count else {
                    throw refuse("replay count \(ring.count) and position \(ring.position) are inconsistent for capacity \(replay.capacity)")
                }
            }
        }
        replay?.restoreRing(count: ring.count, position: ring.position)
        return counters
    }

    private static func replayTensors(_ replay: ReplayBuffer?) -> [(name: String, tensor: Tensor)] {
        replay?.checkpointTensors.map { (name: "replay." + $0.name, tensor: $0.tensor) } ?? []
    }
}

/// An agent that saves and restores its whole training state (see `AgentCheckpoint` for what a
/// file holds). A conforming agent names its state, and `save(to:loop:)` and `load(from:)` come
/// with the protocol, so no agent writes its own file handling and every agent's files refuse
/// the same mistakes (another kind, other sizes, a malformed counter). State beyond networks,
/// replay and counters, such as DQN's pending n-step transitions and priorities, travels in
/// `checkpointTensors` and `checkpointMetadata` and is restored by
/// `restoration(ofCheckpointMetadata:path:)`; agents without any keep the empty defaults.
public protocol CheckpointedAgent: AnyObject {
    /// The agent kind the file names (for example "dqn"); a file of another kind is refused. It is
    /// in every saved file, so an agent's kind never changes.
    var checkpointKind: String { get }
    /// The parameter stores, with their optimizers' moments, under distinct name prefixes.
    var checkpointParts: [CheckpointPart] { get }
    /// What acting needs, named as in a training-state file (a subset of its tensors), so that a
    /// policy file and the policy part of a training-state file load alike.
    var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { get }
    /// The agent's configuration in full, as a configuration file of its hyperparameters
    /// (`ConfigurationFile.text(of:)`), which every file records so that the agent can be rebuilt.
    var checkpointHyperparameters: String { get }
    /// The replay buffer, saved with its fill and write position; nil for agents without one.
    var checkpointReplay: ReplayBuffer? { get }
    /// Further tensors of the agent's state, loaded in place.
    var checkpointTensors: [(name: String, tensor: Tensor)] { get }
    /// Further state as metadata entries (keys prefixed "drlrec.KIND.").
    var checkpointMetadata: [String: String] { get }
    /// The step counters and generator; loading sets them.
    var checkpointCounters: AgentCheckpoint.Counters { get set }
    /// Reads the entries of `checkpointMetadata` from a file being loaded from `path`, before
    /// anything changes: throws to refuse the file, or returns what restores that state once the
    /// tensors and counters are in place.
    func restoration(ofCheckpointMetadata metadata: [String: String], path: String) throws(CheckpointError) -> () -> Void
}

extension CheckpointedAgent {
    public var checkpointTensors: [(name: String, tensor: Tensor)] { [] }
    public var checkpointMetadata: [String: String] { [:] }
    public func restoration(ofCheckpointMetadata metadata: [String: String], path: String) throws(CheckpointError) -> () -> Void { {} }

    /// Writes the agent's training state to `path` (replaced atomically) and, from a training
    /// loop, the loop's (see `TrainingLoopState`). `labels` are metadata entries the file carries
    /// for whoever reads it later, saying how the agent was built beyond its kind and sizes (the
    /// scenario it was trained on, its state encoder); they may not reuse a key of the agent's state.
    /// With `contents` `.policy`, only what acting needs is written (`loop` is not).
    public func save(to path: String, loop: TrainingLoopState? = nil, labels: [String: String] = [:],
                     contents: CheckpointContents = .trainingState) throws(CheckpointError) {
        var counters = checkpointCounters
        guard contents == .trainingState else {
            try AgentCheckpoint.savePolicy(kind: checkpointKind, hyperparameters: checkpointHyperparameters, tensors: checkpointPolicyTensors,
                                           labels: labels, counters: counters, to: path)
            return
        }
        counters.loop = loop
        try AgentCheckpoint.save(kind: checkpointKind, hyperparameters: checkpointHyperparameters, parts: checkpointParts,
                                 replay: checkpointReplay, extra: checkpointTensors,
                                 extraMetadata: checkpointMetadata, labels: labels, counters: counters, to: path)
    }

    /// Loads the policy (`checkpointPolicyTensors`) from a file `save` wrote with either contents,
    /// for acting: the rest of the agent's state, counters included, stays as it is. Refused, with
    /// nothing changed, unless the file holds an agent of this kind with policy networks of these
    /// sizes. Returns what the file holds.
    @discardableResult
    public func loadPolicy(from path: String) throws(CheckpointError) -> CheckpointContents {
        let contents = try AgentCheckpoint.contents(of: path, kind: checkpointKind)
        try SafeTensors.load(from: path, into: checkpointPolicyTensors, ignoringOthers: contents == .trainingState)
        return contents
    }

    /// Restores a file written by `save` from an agent of the same kind and sizes; nothing changes
    /// when it is refused (a policy-only file is). Returns the training loop's state when a loop
    /// wrote the file (pass it
    /// to `train(…, resuming:)`).
    @discardableResult
    public func load(from path: String) throws(CheckpointError) -> TrainingLoopState? {
        var restore: () -> Void = {}
        let counters = try AgentCheckpoint.load(kind: checkpointKind, parts: checkpointParts, replay: checkpointReplay,
                                                extra: checkpointTensors, from: path) { metadata throws(CheckpointError) in
            restore = try restoration(ofCheckpointMetadata: metadata, path: path)
        }
        restore()
        checkpointCounters = counters
        return counters.loop
    }
}
