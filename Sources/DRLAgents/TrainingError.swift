import DRLNN
import DRLTensor

/// Checkpoints written during training: the agent's full state and the loop's
/// (`TrainingLoopState`) to `path`, replaced atomically, every `interval` environment steps when
/// one is given, and when the run ends. Every file also carries `labels`: what the caller wants
/// the file to say about how its agent was built (see `CheckpointedAgent.save(to:loop:labels:)`).
public struct CheckpointSchedule: Sendable {
    public let interval: Int?
    public let path: String
    public let labels: [String: String]

    public init(every interval: Int? = nil, to path: String, labels: [String: String] = [:]) {
        require(interval.map { $0 > 0 } ?? true, "CheckpointSchedule: the interval must be positive, got \(interval!)")
        self.interval = interval
        self.path = path
        self.labels = labels
    }

    /// After the run advanced from environment step `previousSteps` to `completedSteps`: saves
    /// through `save` (given the path and the labels) when that passed a multiple of the interval.
    func afterSteps(_ completedSteps: Int, from previousSteps: Int,
                    save: (String, [String: String]) throws(CheckpointError) -> Void) throws(TrainingError) {
        guard let interval, completedSteps / interval > previousSteps / interval else { return }
        do { try save(path, labels) } catch { throw .checkpoint(environmentStep: completedSteps, error) }
    }

    /// At the end of the run (at environment step `completedSteps`): saves through `save`.
    func atEnd(_ completedSteps: Int, save: (String, [String: String]) throws(CheckpointError) -> Void) throws(TrainingError) {
        do { try save(path, labels) } catch { throw .checkpoint(environmentStep: completedSteps, error) }
    }
}

/// Why a training loop stopped before its last step.
public enum TrainingError: Error, CustomStringConvertible {
    /// A gradient or loss became NaN or infinite; nothing was trained on it.
    case nonFinite(environmentStep: Int, NonFiniteError)
    /// A scheduled checkpoint could not be written; training stops rather than run on unsaved.
    case checkpoint(environmentStep: Int, CheckpointError)
    /// The run to resume does not fit the environment given (nothing was trained).
    case resume(String)

    public var description: String {
        switch self {
        case .nonFinite(let step, let error): return "training stopped at environment step \(step): \(error)"
        case .checkpoint(let step, let error): return "training stopped at environment step \(step): the checkpoint failed: \(error)"
        case .resume(let reason): return "cannot resume the saved run: \(reason)"
        }
    }
}
