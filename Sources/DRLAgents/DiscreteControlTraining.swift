import DRLNN
import DRLTensor

/// An off-policy agent for discrete actions (DQN, discrete SAC): what the shared training loop needs.
public protocol DiscreteControlAgent: AnyObject {
    var observationDimension: Int { get }
    var environmentSteps: Int { get }
    /// The action taken while training for one observation [dimension] (ε-greedy, or sampled from the policy).
    func explorationAction(_ observation: Tensor) -> Int
    /// The policy's own action for one observation (greedy in Q, or the most probable).
    func greedyAction(_ observation: Tensor) -> Int
    /// Stores a transition and learns from the replay buffer when due; returns the loss of the last
    /// gradient step it took, nil when none.
    func observe(observation: Tensor, action: Int, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool)
        throws(NonFiniteError) -> Float?
    /// Writes the agent's training state and, from a training loop, the loop's (see `AgentCheckpoint`).
    func save(to path: String, loop: TrainingLoopState?) throws(CheckpointError)
}

extension DQNAgent: DiscreteControlAgent {
    public func explorationAction(_ observation: Tensor) -> Int {
        act(observation.reshaped(Shape(1, observationDimension)), epsilon: configuration.epsilon(at: environmentSteps), into: &singleAction)
        return Int(singleAction[0])
    }

    public func greedyAction(_ observation: Tensor) -> Int {
        act(observation.reshaped(Shape(1, observationDimension)), epsilon: 0, into: &singleAction)
        return Int(singleAction[0])
    }

    public func observe(observation: Tensor, action: Int, reward: Float, nextObservation: Tensor, terminated: Bool,
                        truncated: Bool) throws(NonFiniteError) -> Float? {
        try observe(environment: 0, observation: observation, action: action, reward: reward, nextObservation: nextObservation,
                    terminated: terminated, truncated: truncated)
    }
}

extension DiscreteSACAgent: DiscreteControlAgent {
    public func explorationAction(_ observation: Tensor) -> Int { act(observation, greedy: false) }
    public func greedyAction(_ observation: Tensor) -> Int { act(observation, greedy: true) }

    public func observe(observation: Tensor, action: Int, reward: Float, nextObservation: Tensor, terminated: Bool,
                        truncated: Bool) throws(NonFiniteError) -> Float? {
        try observe(observation: observation, action: action, reward: reward, nextObservation: nextObservation, terminated: terminated)
    }
}

extension DiscreteControlAgent {
    /// Trains on one environment for `steps` environment steps, evaluating the greedy policy
    /// whenever the agent's step count passes a multiple of `evaluationInterval` (on
    /// `evaluationEpisodes` episodes of `evaluationEnvironment`, seeded with `evaluationSeed`), and
    /// stops early once an evaluation reaches `stopAtReturn`. `progress` receives each evaluation;
    /// `checkpoints` saves the agent with the loop's state periodically and at the end. With
    /// `resuming` (from `load`), the environment, its current observation and the episode
    /// statistics continue from the checkpoint instead of a reset, so the run goes on exactly as if
    /// it had never stopped. Throws `TrainingError` if a gradient or loss becomes NaN or infinite
    /// (naming the step and the quantity; nothing is trained on it), a checkpoint cannot be written,
    /// or the saved run does not fit `environment`.
    @discardableResult
    public func train(on environment: Environment, steps: Int, seed: UInt64, evaluationEnvironment: Environment,
                      evaluationInterval: Int, evaluationEpisodes: Int = 10, evaluationSeed: UInt64 = 1_000,
                      stopAtReturn: Float? = nil, checkpoints: CheckpointSchedule? = nil, resuming: TrainingLoopState? = nil,
                      progress: (EvaluationRecord) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        precondition(steps > 0, "train: steps must be positive, got \(steps)")
        let dimension = environment.observationSpace.dimension
        precondition(dimension == observationDimension, "train: the environment has \(dimension)-dimensional observations; the agent expects \(observationDimension)")
        var observation = Tensor(workspace: Shape(dimension)), next = Tensor(workspace: Shape(dimension))
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval, episodes: evaluationEpisodes,
                                            seed: evaluationSeed, stopAtReturn: stopAtReturn, startingAt: environmentSteps)
        var episodes = TrainingEpisodes()
        if let resuming {
            try resuming.restore(environment, index: 0, observation: &observation)
            episodes = resuming.episodes
        } else {
            environment.reset(seed: seed, observation: &observation)
        }
        let save = { (path: String) throws(CheckpointError) in
            try self.save(to: path, loop: .capture(environment, observation: observation, episodes: episodes, exploration: nil))
        }
        var loss: Float? = nil
        for _ in 0..<steps {
            let action = explorationAction(observation)
            let result = environment.step(.discrete(action), observation: &next)
            do {
                if let stepLoss = try observe(observation: observation, action: action, reward: result.reward, nextObservation: next,
                                              terminated: result.terminated, truncated: result.truncated) {
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
            let stop = evaluation.afterSteps(environmentSteps, training: episodes, loss: loss,
                                             policy: { o in .discrete(greedyAction(o)) }, progress: progress)
            try checkpoints?.afterSteps(environmentSteps, from: environmentSteps - 1, save: save)
            if stop { break }
        }
        try checkpoints?.atEnd(environmentSteps, save: save)
        return evaluation.records
    }
}
