import DRLTensor

/// Mean undiscounted return of `episodes` episodes of `policy` (observation → action), each
/// started with its own seed so that the evaluation is reproducible.
public func evaluate(_ environment: Environment, episodes: Int, seed: UInt64, policy: (Tensor) -> Action) -> Float {
    precondition(episodes > 0, "evaluate needs at least one episode")
    var observation = Tensor(zeros: Shape(environment.observationSpace.dimension))
    var total: Float = 0
    for episode in 0..<episodes {
        environment.reset(seed: seed &+ UInt64(episode), observation: &observation)
        while true {
            let result = environment.step(policy(observation), observation: &observation)
            total += result.reward
            if result.terminated || result.truncated { break }
        }
    }
    return total / Float(episodes)
}

/// One greedy evaluation during training.
public struct EvaluationRecord: Sendable, Equatable {
    public let step: Int
    public let meanReturn: Float
}

/// Evaluation every `interval` environment steps with an optional early stop: the part of the
/// agents' training loops that they share.
struct PeriodicEvaluation {
    let environment: Environment, interval: Int, episodes: Int, seed: UInt64, stopAtReturn: Float?
    private(set) var records: [EvaluationRecord] = []

    init(environment: Environment, interval: Int, episodes: Int, seed: UInt64, stopAtReturn: Float?) {
        precondition(interval > 0 && episodes > 0, "evaluation interval \(interval) and episodes \(episodes) must be positive")
        self.environment = environment
        self.interval = interval
        self.episodes = episodes
        self.seed = seed
        self.stopAtReturn = stopAtReturn
    }

    /// After `completedSteps` environment steps: evaluates `policy` when due and reports it.
    /// Returns true when training should stop.
    mutating func afterSteps(_ completedSteps: Int, policy: (Tensor) -> Action, progress: (EvaluationRecord) -> Void) -> Bool {
        guard completedSteps % interval == 0 else { return false }
        let record = EvaluationRecord(step: completedSteps,
                                      meanReturn: evaluate(environment, episodes: episodes, seed: seed, policy: policy))
        records.append(record)
        progress(record)
        return stopAtReturn.map { record.meanReturn >= $0 } ?? false
    }
}
