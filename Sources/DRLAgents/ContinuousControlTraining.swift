import DRLNN
import DRLTensor

/// An off-policy agent for box actions (SAC, TD3): what the shared training loop needs.
public protocol ContinuousControlAgent: AnyObject {
    var observationDimension: Int { get }
    var actionDimension: Int { get }
    var environmentSteps: Int { get }
    /// The critics' loss at the last update, nil before learning starts.
    var lastCriticLoss: Float? { get }
    /// An action for one observation: exploratory while training, the policy's own when deterministic.
    func act(_ observation: Tensor, deterministic: Bool) -> Tensor
    /// Stores a transition and learns from the replay buffer when due.
    func observe(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, terminated: Bool)
        throws(NonFiniteError)
    /// Writes the agent's training state (networks, optimizers, counters, generator, replay) and,
    /// from a training loop, the loop's (see `AgentCheckpoint`).
    func save(to path: String, loop: TrainingLoopState?) throws(CheckpointError)
    /// Restores a checkpoint written by `save` from an agent of the same kind and sizes; returns the
    /// training loop's state when a loop wrote it.
    @discardableResult
    func load(from path: String) throws(CheckpointError) -> TrainingLoopState?
}

extension SACAgent: ContinuousControlAgent {}
extension TD3Agent: ContinuousControlAgent {}

extension ContinuousControlAgent {
    /// Trains on one environment for `steps` environment steps (uniform random actions until the
    /// agent has taken `randomSteps`), evaluating the deterministic policy whenever the agent's step
    /// count passes a multiple of `evaluationInterval` (on `evaluationEpisodes` episodes of
    /// `evaluationEnvironment`); stops early once an evaluation reaches `stopAtReturn`;
    /// `checkpoints` saves the agent with the loop's state periodically and at the end. With
    /// `resuming` (from `load`), the environment, its observation, the episode statistics and the
    /// exploration generator continue from the checkpoint, exactly. Throws `TrainingError` on a NaN
    /// or infinite gradient, a checkpoint that cannot be written, or a saved run that does not fit
    /// `environment`.
    @discardableResult
    public func train(on environment: Environment, steps: Int, seed: UInt64, randomSteps: Int = 100,
                      evaluationEnvironment: Environment, evaluationInterval: Int, evaluationEpisodes: Int = 5,
                      evaluationSeed: UInt64 = 1_000, stopAtReturn: Float? = nil,
                      checkpoints: CheckpointSchedule? = nil, resuming: TrainingLoopState? = nil,
                      progress: (EvaluationRecord) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        precondition(steps > 0, "train: steps must be positive, got \(steps)")
        precondition(environment.observationSpace.dimension == observationDimension,
                     "train: the environment's observations do not have \(observationDimension) elements")
        var observation = Tensor(workspace: Shape(observationDimension)), next = Tensor(workspace: Shape(observationDimension))
        var action = Tensor(workspace: Shape(actionDimension))
        var exploration = RandomGenerator(seed: seed, stream: 0xE)
        guard case .box(let low, let high) = environment.actionSpace else {
            preconditionFailure("train needs a box action space, got \(environment.actionSpace)")
        }
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval, episodes: evaluationEpisodes,
                                            seed: evaluationSeed, stopAtReturn: stopAtReturn, startingAt: environmentSteps)
        var episodes = TrainingEpisodes()
        if let resuming {
            try resuming.restore(environment, index: 0, observation: &observation)
            episodes = resuming.episodes
            exploration = resuming.exploration ?? exploration
        } else {
            environment.reset(seed: seed, observation: &observation)
        }
        let save = { (path: String) throws(CheckpointError) in
            try self.save(to: path, loop: .capture(environment, observation: observation, episodes: episodes, exploration: exploration))
        }
        for _ in 0..<steps {
            if environmentSteps < randomSteps {
                for j in 0..<actionDimension { action[flat: j] = exploration.uniform(low[j], high[j]) }
            } else {
                action.copy(from: act(observation, deterministic: false))
            }
            let result = environment.step(.continuous(action), observation: &next)
            do {
                try observe(observation: observation, action: action, reward: result.reward, nextObservation: next,
                            terminated: result.terminated)
            } catch {
                throw .nonFinite(environmentStep: environmentSteps, error)
            }
            episodes.record(reward: result.reward, episodeEnded: result.terminated || result.truncated)
            if result.terminated || result.truncated {
                environment.reset(seed: nil, observation: &observation)
            } else {
                observation.copy(from: next)
            }
            let stop = evaluation.afterSteps(environmentSteps, training: episodes, loss: lastCriticLoss,
                                             policy: { o in .continuous(act(o, deterministic: true)) }, progress: progress)
            try checkpoints?.afterSteps(environmentSteps, from: environmentSteps - 1, save: save)
            if stop { break }
        }
        try checkpoints?.atEnd(environmentSteps, save: save)
        return evaluation.records
    }
}
