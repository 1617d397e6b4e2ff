import DRLNN

/// An agent's networks, target networks, optimizers and step counters in one safetensors file,
/// written atomically. The replay buffer and the random generators are not saved: an agent
/// restored to continue training refills its replay (`learningStarts` transitions) before learning
/// again, and explores with fresh noise. The file names the agent kind, and restoring it into
/// another kind, or into networks of other sizes, is refused before anything changes.
enum AgentCheckpoint {
    static let kindKey = "drlrec.agent"
    static let environmentStepsKey = "drlrec.environment_steps"
    static let gradientStepsKey = "drlrec.gradient_steps"

    static func save(kind: String, parts: [CheckpointPart], environmentSteps: Int, gradientSteps: Int,
                     to path: String) throws(CheckpointError) {
        try ModelCheckpoint.save(parts, metadata: [
            kindKey: kind,
            environmentStepsKey: String(environmentSteps),
            gradientStepsKey: String(gradientSteps),
        ], to: path)
    }

    /// Loads the parts in place and returns the saved counters.
    static func load(kind: String, parts: [CheckpointPart], from path: String)
        throws(CheckpointError) -> (environmentSteps: Int, gradientSteps: Int) {
        var counters = (environmentSteps: 0, gradientSteps: 0)
        try ModelCheckpoint.load(from: path, into: parts) { metadata throws(CheckpointError) in
            guard let found = metadata[kindKey] else {
                throw CheckpointError(path: path, reason: .invalidHeader(
                    "metadata '\(kindKey)' is missing: the file is not a DRLRec agent checkpoint"))
            }
            guard found == kind else {
                throw CheckpointError(path: path, reason: .invalidHeader(
                    "the file holds a '\(found)' agent, not a '\(kind)' agent"))
            }
            func counter(_ key: String) throws(CheckpointError) -> Int {
                guard let text = metadata[key], let value = Int(text), value >= 0 else {
                    throw CheckpointError(path: path, reason: .invalidHeader(
                        "metadata '\(key)' is missing or not a non-negative integer"))
                }
                return value
            }
            counters = (try counter(environmentStepsKey), try counter(gradientStepsKey))
        }
        return counters
    }
}
