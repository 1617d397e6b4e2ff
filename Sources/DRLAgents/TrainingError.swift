import DRLNN

/// Checkpoints written during training: the agent's full state to `path` (replaced atomically)
/// every `interval` environment steps of the run.
public struct CheckpointSchedule: Sendable {
    public let interval: Int
    public let path: String

    public init(every interval: Int, to path: String) {
        precondition(interval > 0, "CheckpointSchedule: the interval must be positive, got \(interval)")
        self.interval = interval
        self.path = path
    }

    /// After the run advanced from `previousSteps` to `completedSteps`: saves through `save` when
    /// that passed a multiple of the interval.
    func afterSteps(_ completedSteps: Int, from previousSteps: Int, environmentStep: Int,
                    save: (String) throws(CheckpointError) -> Void) throws(TrainingError) {
        guard completedSteps / interval > previousSteps / interval else { return }
        do { try save(path) } catch { throw .checkpoint(environmentStep: environmentStep, error) }
    }
}

/// Why a training loop stopped before its last step.
public enum TrainingError: Error, CustomStringConvertible {
    /// A gradient or loss became NaN or infinite; nothing was trained on it.
    case nonFinite(environmentStep: Int, NonFiniteError)
    /// A scheduled checkpoint could not be written; training stops rather than run on unsaved.
    case checkpoint(environmentStep: Int, CheckpointError)

    public var description: String {
        switch self {
        case .nonFinite(let step, let error): return "training stopped at environment step \(step): \(error)"
        case .checkpoint(let step, let error): return "training stopped at environment step \(step): the checkpoint failed: \(error)"
        }
    }
}
