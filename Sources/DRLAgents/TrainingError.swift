import DRLNN
import DRLTensor

/// Checkpoints written during training to `path`, replaced atomically, every `interval`
/// environment steps when one is given, and when the run ends: with `contents` `.trainingState`,
/// the agent's full state and the loop's (`TrainingLoopState`), what resuming needs; with
/// `.policy`, what acting needs. Every file also carries `labels`: what the caller wants
/// the file to say about how its agent was built (see `CheckpointedAgent.save(to:loop:labels:)`).
/// With a `best` path, the agent is also saved there whenever an evaluation's mean return is above
/// every earlier one (as Stable-Baselines3's evaluation callback keeps the best model), with the
/// return and the step in its metadata; a resumed run compares with the return the file records.
public struct CheckpointSchedule: Sendable {
    public let interval: Int?
    public let path: String
    public let labels: [String: String]
    public let best: String?
    public let contents: CheckpointContents

    /// The metadata entries of a best checkpoint: its evaluation's mean return and environment step.
    public static let bestReturnKey = "drlrec.best_evaluation_return", bestStepKey = "drlrec.best_evaluation_step"

    public init(every interval: Int? = nil, to path: String, best: String? = nil, labels: [String: String] = [:],
                contents: CheckpointContents = .trainingState) {
        require(interval.map { $0 > 0 } ?? true, "CheckpointSchedule: the interval must be positive, got \(interval!)")
        self.interval = interval
        self.path = path
        self.best = best
        self.labels = labels
        self.contents = contents
    }

    /// How a training loop writes the agent: given the path, the labels and what to hold.
    public typealias Save = (String, [String: String], CheckpointContents) throws(CheckpointError) -> Void

    /// The mean return an existing best checkpoint records (nil when there is none, or it records none).
    public var previousBestReturn: Float? {
        guard let best, let metadata = try? SafeTensors.describe(best).metadata else { return nil }
        return metadata[Self.bestReturnKey].flatMap(Float.init)
    }

    /// After an evaluation: saves the agent through `save` at the `best` path when the evaluation
    /// was the best so far.
    func afterEvaluation(_ evaluation: PeriodicEvaluation, save: Save) throws(TrainingError) {
        guard let best, evaluation.latestIsBest, let record = evaluation.records.last else { return }
        var labels = self.labels
        labels[Self.bestReturnKey] = "\(record.meanReturn)"
        labels[Self.bestStepKey] = "\(record.step)"
        do { try save(best, labels, contents) } catch { throw .checkpoint(environmentStep: record.step, error) }
    }

    /// After the run advanced from environment step `previousSteps` to `completedSteps`: saves
    /// through `save` (given the path and the labels) when that passed a multiple of the interval.
    func afterSteps(_ completedSteps: Int, from previousSteps: Int,
                    save: Save) throws(TrainingError) {
        guard let interval, completedSteps / interval > previousSteps / interval else { return }
        do { try save(path, labels, contents) } catch { throw .checkpoint(environmentStep: completedSteps, error) }
    }

    /// At the end of the run (at environment step `completedSteps`): saves through `save`.
    func atEnd(_ completedSteps: Int, save: Save) throws(TrainingError) {
        do { try save(path, labels, contents) } catch { throw .checkpoint(environmentStep: completedSteps, error) }
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
