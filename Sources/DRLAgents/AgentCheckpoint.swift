import DRLNN
import DRLTensor

/// An agent's complete training state in one safetensors file, written atomically: networks,
/// target networks, optimizer moments, step counters, the agent's random generator, its uniform
/// replay buffer (contents and ring position) and, when a training loop wrote it, the loop's state
/// (`TrainingLoopState`). An agent restored from it, in this process or another, continues with the
/// same numbers as the one that saved it. Two things are not
/// saved: a prioritized replay buffer and transitions still pending in an n-step accumulator;
/// such an agent restores its networks and counters and refills its replay (`learningStarts`
/// transitions) before it learns again. The file names the agent kind; restoring it into another
/// kind, or into networks or buffers of other sizes, is refused before anything changes.
enum AgentCheckpoint {
    static let kindKey = "drlrec.agent"
    static let environmentStepsKey = "drlrec.environment_steps"
    static let gradientStepsKey = "drlrec.gradient_steps"
    static let generatorKey = "drlrec.rng"
    static let replayCountKey = "drlrec.replay.count"
    static let replayPositionKey = "drlrec.replay.position"

    struct Counters {
        var environmentSteps: Int, gradientSteps: Int, generator: RandomGenerator
        /// The training loop's state, when the checkpoint was written by one.
        var loop: TrainingLoopState? = nil
    }

    static func save(kind: String, parts: [CheckpointPart], replay: ReplayBuffer?, counters: Counters,
                     to path: String) throws(CheckpointError) {
        var metadata = [
            kindKey: kind,
            environmentStepsKey: String(counters.environmentSteps),
            gradientStepsKey: String(counters.gradientSteps),
            generatorKey: counters.generator.stateDescription,
        ]
        if let replay {
            metadata[replayCountKey] = String(replay.ringState.count)
            metadata[replayPositionKey] = String(replay.ringState.position)
        }
        if let loop = counters.loop { metadata.merge(loop.metadata) { _, new in new } }
        try ModelCheckpoint.save(parts, extra: replayTensors(replay), metadata: metadata, to: path)
    }

    /// Loads the parts and the replay in place and returns the saved counters and generator.
    static func load(kind: String, parts: [CheckpointPart], replay: ReplayBuffer?, from path: String)
        throws(CheckpointError) -> Counters {
        var counters = Counters(environmentSteps: 0, gradientSteps: 0, generator: RandomGenerator(seed: 0))
        var ring = (count: 0, position: 0)
        try ModelCheckpoint.load(from: path, into: parts, extra: replayTensors(replay)) { metadata throws(CheckpointError) in
            func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
            guard let found = metadata[kindKey] else {
                throw refuse("metadata '\(kindKey)' is missing: the file is not a DRLRec agent checkpoint")
            }
            guard found == kind else { throw refuse("the file holds a '\(found)' agent, not a '\(kind)' agent") }
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
