import DRLNN
import DRLTensor

extension DQNAgent {
    /// Trains on one environment for up to `steps` environment steps with ε-greedy exploration,
    /// evaluating the greedy policy every `evaluationInterval` steps on `evaluationEpisodes` episodes
    /// of `evaluationEnvironment` (seeded with `evaluationSeed`), and stops early once an evaluation
    /// reaches `stopAtReturn`. `progress` receives each evaluation; `checkpoints` saves the agent
    /// periodically. Throws `TrainingError` if a gradient or loss becomes NaN or infinite (naming
    /// the step and the quantity; nothing is trained on it) or a checkpoint cannot be written.
    @discardableResult
    public func train(on environment: Environment, steps: Int, seed: UInt64, evaluationEnvironment: Environment,
                      evaluationInterval: Int, evaluationEpisodes: Int = 10, evaluationSeed: UInt64 = 1_000,
                      stopAtReturn: Float? = nil, checkpoints: CheckpointSchedule? = nil,
                      progress: (EvaluationRecord) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        precondition(steps > 0, "train: steps must be positive, got \(steps)")
        let dimension = environment.observationSpace.dimension
        precondition(dimension == observationDimension, "train: the environment has \(dimension)-dimensional observations; the agent expects \(observationDimension)")
        var observation = Tensor(workspace: Shape(1, dimension)), next = Tensor(workspace: Shape(1, dimension))
        var chosen: [Int32] = [0], greedy: [Int32] = [0]
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval,
                                            episodes: evaluationEpisodes, seed: evaluationSeed, stopAtReturn: stopAtReturn)
        var episodes = TrainingEpisodes()
        var loss: Float? = nil
        environment.reset(seed: seed, observation: &observation)
        for step in 0..<steps {
            act(observation, epsilon: configuration.epsilon(at: environmentSteps), into: &chosen)
            let result = environment.step(.discrete(Int(chosen[0])), observation: &next)
            do {
                if let stepLoss = try observe(environment: 0, observation: observation, action: Int(chosen[0]), reward: result.reward,
                                              nextObservation: next, terminated: result.terminated, truncated: result.truncated) {
                    loss = stepLoss
                }
            } catch {
                throw .nonFinite(environmentStep: environmentSteps, error)
            }
            episodes.record(reward: result.reward, episodeEnded: result.terminated || result.truncated)
            if result.terminated || result.truncated {
                environment.reset(seed: nil, observation: &observation)
            } else {
                observation.copy(from: next)
            }
            let stop = evaluation.afterSteps(step + 1, training: episodes, loss: loss, policy: { o in
                act(o.reshaped(Shape(1, dimension)), epsilon: 0, into: &greedy)
                return .discrete(Int(greedy[0]))
            }, progress: progress)
            try checkpoints?.afterSteps(step + 1, from: step, environmentStep: environmentSteps, save: save)
            if stop { break }
        }
        return evaluation.records
    }
}
