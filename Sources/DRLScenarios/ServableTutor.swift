import DRLAgents
import DRLData
import DRLNN
import DRLServing
import DRLSimulation
import DRLTensor
import Foundation

/// The education tutor of a `drlrec train --env education` checkpoint, served: it answers the
/// next task, a difficulty level and a content type. The learner's state is rebuilt from the
/// history the service keeps (the tasks it gave and the completions) and the request's course
/// context by `EducationObservedLearner`, the code that gave the agent its observations in
/// training. Tasks are items named "level-L/TYPE" ("level-3/exercise"; see
/// `EducationObservedLearner.item(level:type:)` for their order).
///
/// A task's score is its log-probability under the two-path actor, log π(level) + log π(type), so
/// the top task is the tutor's greedy choice and a softmax at temperature 1 over the scores (the
/// service's softmax explorer) draws from the tutor's own stochastic policy.
public final class ServableTutor: ServableModel {
    public static let checkpointKind = "tutor"

    public let itemIds: [String]
    public let contextColumns = EducationObservedLearner.contextColumns
    public var itemCounts: [Float] { [Float](repeating: 0, count: itemIds.count) }
    public var decidesEligibility: Bool { true }
    public var readsImpressions: Bool { true }

    let configuration: EducationConfiguration
    /// The two-path actor-critic; with the training state when loaded to train further.
    let agent: A2CAgent
    /// The labels of the checkpoint it was loaded from (its scenario and settings), for a
    /// checkpoint of the same kind.
    let labels: [String: String]
    private var observation: Tensor

    /// The item id of task `task` ("level-3/exercise").
    public static func itemId(task: Int32) -> String {
        let (level, type) = EducationObservedLearner.task(task)
        return "level-\(level)/\(type)"
    }

    /// The tutor saved at `path`; refused unless it is the education scenario's two-path A2C.
    public static func load(checkpoint path: String) throws -> ServableTutor { try load(checkpoint: path, trainingState: false) }

    /// With `trainingState` (to train it further) the file must hold the whole state.
    static func load(checkpoint path: String, trainingState: Bool) throws -> ServableTutor {
        let checkpoint = try ScenarioCheckpoint(path: path)
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        guard checkpoint.scenario == .education, checkpoint.agentKind == Tutor.kind else {
            throw refuse("a served tutor is the \(Tutor.kind) agent trained on education; the file holds a '\(checkpoint.agentKind)' agent trained on \(checkpoint.scenario?.rawValue ?? "a scenario it does not record")")
        }
        var settings = EducationConfiguration()
        if let text = checkpoint.settings {
            do { try ConfigurationFile.load(text: text, origin: "\(path) (metadata '\(ScenarioCheckpoint.settingsKey)')", into: &settings) } catch {
                throw refuse("\(error)")
            }
        }
        return try ServableTutor(path: path, configuration: settings, hyperparameters: checkpoint.recordedHyperparameters, trainingState: trainingState,
                                 labels: ScenarioCheckpoint.labels(scenario: .education, settings: checkpoint.settings))
    }

    private init(path: String, configuration: EducationConfiguration, hyperparameters: (text: String, origin: String)?, trainingState: Bool,
                 labels: [String: String]) throws {
        (self.configuration, self.labels) = (configuration, labels)
        let dimension = EducationSimulator(configuration: configuration).observationDimension
        agent = try Tutor.agent(observationDimension: dimension, configuration: configuration, hyperparameters: hyperparameters, seed: 0)
        if trainingState { _ = try agent.load(from: path) } else { _ = try agent.loadPolicy(from: path) }
        itemIds = (0..<Int32(EducationObservedLearner.tasks(configuration: configuration))).map(Self.itemId(task:))
        observation = Tensor(zeros: Shape(dimension))
    }

    public func contextProblem(_ context: [Float]) -> String? {
        EducationObservedLearner(configuration: configuration).contextProblem(context)
    }

    /// The learner's observation, as the tutor reads it, from the history and context (check the
    /// context with `contextProblem` first).
    func observe(history: [UserEvent], context: [Float], into observation: inout Tensor) {
        EducationObservedLearner(configuration: configuration, history: history, context: context).writeObservation(into: &observation)
    }

    public func scores(history: [UserEvent], context: [Float]) -> [Float] {
        observe(history: history, context: context, into: &observation)
        let policy = agent.policy
        policy.forward(observation.reshaped(Shape(1, observation.count)))
        let levels = logSoftmax(policy.logits[0].scalars), types = logSoftmax(policy.logits[1].scalars)
        return (0..<Int32(itemIds.count)).map {
            let task = EducationObservedLearner.task($0)
            return levels[task.level] + types[task.type.rawValue]
        }
    }

    private func logSoftmax(_ logits: [Float]) -> [Float] {
        let largest = logits.max()!
        let total = logits.reduce(Float(0)) { $0 + expf($1 - largest) }
        return logits.map { $0 - largest - logf(total) }
    }
}
