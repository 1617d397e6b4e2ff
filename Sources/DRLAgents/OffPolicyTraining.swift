import DRLNN
import DRLTensor

/// When an off-policy agent learns: once its replay holds `learningStarts` transitions (at least
/// one), `gradientSteps` gradient steps after every `trainFrequency`-th environment step.
public struct UpdateSchedule: Sendable, Equatable {
    public var learningStarts: Int, trainFrequency: Int, gradientSteps: Int

    public init(learningStarts: Int, trainFrequency: Int = 1, gradientSteps: Int = 1) {
        require(trainFrequency > 0 && gradientSteps >= 0,
                "UpdateSchedule: trainFrequency \(trainFrequency) must be positive and gradientSteps \(gradientSteps) not negative")
        self.learningStarts = learningStarts
        self.trainFrequency = trainFrequency
        self.gradientSteps = gradientSteps
    }
}

/// An agent that learns from a replay of its own past transitions (DQN, discrete SAC, SAC, TD3).
/// The agent supplies acting, storing a transition and one gradient step on a replayed batch; the
/// shared `train(on:…)` loop owns everything else (collection, the random warm-up, when to learn,
/// evaluation, checkpoints, exact resumption and the stop on a NaN), so every such agent trains,
/// reports and resumes the same way whatever its actions are.
public protocol OffPolicyAgent: CheckpointedAgent, Policy {
    var observationDimension: Int { get }
    /// The actions the agent takes (`.discrete` or `.box`); training refuses an environment with
    /// another action space.
    var actionSpace: Space { get }
    /// Environment steps stored so far (over every training run of this agent).
    var environmentSteps: Int { get }
    /// Transitions the replay holds.
    var storedTransitions: Int { get }
    var updateSchedule: UpdateSchedule { get }
    /// The loss of the last gradient step, as training reports it (DQN's Huber TD loss, the
    /// critics' loss of the actor-critics); nil before learning starts.
    var lastLoss: Float? { get }
    /// Stores one transition in the replay and counts the environment step, without learning.
    /// `terminated` ends bootstrapping; a `truncated` step still bootstraps (DQN's n-step returns
    /// end there).
    func store(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool)
    /// One gradient step on a batch sampled from the replay.
    func trainStep() throws(NonFiniteError)
}

/// An off-policy agent for box actions (SAC, TD3), as the recommendation scenarios hold their
/// rankers.
public protocol ContinuousControlAgent: OffPolicyAgent {
    var actionDimension: Int { get }
    /// γ, the discount of one step.
    var discountFactor: Float { get }
    /// Stores a one-step transition whose next state is `discount` away instead of γ (a transition
    /// that spans a time gap, such as a user's next visit), counting it as an environment step.
    func store(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, terminated: Bool, discount: Float)
}

extension OffPolicyAgent {
    /// Stores a transition and, once the replay holds `updateSchedule.learningStarts` transitions,
    /// takes the schedule's gradient steps when the step count is due. Learning waits for stored
    /// transitions, not steps, because DQN's n-step accumulator holds the latest steps back.
    public func observe(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool,
                        truncated: Bool) throws(NonFiniteError) {
        store(observation: observation, action: action, reward: reward, nextObservation: nextObservation, terminated: terminated,
              truncated: truncated)
        let schedule = updateSchedule
        guard storedTransitions >= max(schedule.learningStarts, 1), environmentSteps % schedule.trainFrequency == 0 else { return }
        for _ in 0..<schedule.gradientSteps { try trainStep() }
    }

    /// Trains on `environment` for `steps` environment steps: uniform random actions (from the
    /// loop's own generator, seeded by `seed`) until the agent has taken `randomSteps`, exploring
    /// actions after that. Evaluates the greedy policy whenever the agent's step count passes a
    /// multiple of `evaluationInterval` (on `evaluationEpisodes` episodes of
    /// `evaluationEnvironment`, seeded with `evaluationSeed`, which must be another instance than
    /// `environment`), and stops early once an evaluation reaches `stopAtReturn`. `progress`
    /// receives each evaluation, `stepProgress` the agent's step count after every step (for a
    /// progress display: keep it cheap); `checkpoints` saves the agent with the loop's state periodically
    /// and at the end. With `resuming` (from `load`), the environment, its current observation,
    /// the episode statistics and the warm-up generator continue from the checkpoint instead of a
    /// reset, so the run goes on exactly as if it had never stopped.
    ///
    /// Traps when an environment's observations or action space differ from the agent's, or when
    /// both environments are one instance. Throws `TrainingError` if a gradient or loss becomes
    /// NaN or infinite (naming the step and the quantity; nothing is trained on it), a checkpoint
    /// cannot be written, or the saved run does not fit `environment`.
    @discardableResult
    public func train(on environment: Environment, steps: Int, seed: UInt64, randomSteps: Int = 0,
                      evaluationEnvironment: Environment, evaluationInterval: Int, evaluationEpisodes: Int = 10,
                      evaluationSeed: UInt64 = 1_000, stopAtReturn: Float? = nil, checkpoints: CheckpointSchedule? = nil,
                      resuming: TrainingLoopState? = nil, progress: (EvaluationRecord) -> Void = { _ in },
                      stepProgress: (Int) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        require(steps > 0, "train: steps must be positive, got \(steps)")
        let space = actionSpace
        requireFit(of: environment, role: "training", agent: self, observationDimension: observationDimension, actionSpace: space)
        requireFit(of: evaluationEnvironment, role: "evaluation", agent: self, observationDimension: observationDimension, actionSpace: space)
        requireSeparate(training: environment, evaluation: evaluationEnvironment)
        var observation = Tensor(workspace: Shape(observationDimension)), next = Tensor(workspace: Shape(observationDimension))
        var exploration = RandomGenerator(seed: seed, stream: 0xE)
        var randomAction = Tensor(workspace: Shape(space.dimension))
        /// A uniform random action of the warm-up.
        func drawRandomAction() -> Action {
            switch space {
            case .discrete(let count):
                return .discrete(exploration.nextIndex(below: count))
            case .box(let low, let high):
                for j in low.indices { randomAction[flat: j] = exploration.uniform(low[j], high[j]) }
                return .continuous(randomAction)
            case .slate, .multiDiscrete:
                requirementFailure("train: \(type(of: self)) declares \(space.actionWording); off-policy agents act with discrete or box actions")
            }
        }
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval, episodes: evaluationEpisodes,
                                            seed: evaluationSeed, stopAtReturn: stopAtReturn, startingAt: environmentSteps,
                                            bestSoFar: checkpoints?.previousBestReturn)
        var episodes = TrainingEpisodes()
        if let resuming {
            try resuming.restore(environment, index: 0, observation: &observation)
            episodes = resuming.episodes
            exploration = resuming.exploration ?? exploration
        } else {
            environment.reset(seed: seed, observation: &observation)
        }
        // The warm-up's generator is part of the run only when there is a warm-up.
        let save = { (path: String, labels: [String: String], contents: CheckpointContents) throws(CheckpointError) in
            try self.save(to: path, loop: .capture(environment, observation: observation, episodes: episodes,
                                                   exploration: randomSteps > 0 ? exploration : nil),
                          labels: labels, contents: contents)
        }
        for _ in 0..<steps {
            let action = environmentSteps < randomSteps ? drawRandomAction() : act(observation, mode: .explore)
            let result = environment.step(action, observation: &next)
            do {
                try observe(observation: observation, action: action, reward: result.reward, nextObservation: next,
                            terminated: result.terminated, truncated: result.truncated)
            } catch {
                throw .nonFinite(environmentStep: environmentSteps, error)
            }
            episodes.record(reward: result.reward, episodeEnded: result.terminated || result.truncated)
            if result.terminated || result.truncated {
                environment.reset(seed: nil, observation: &observation)
            } else {
                observation.copy(from: next)
            }
            let stop = evaluation.afterSteps(environmentSteps, training: episodes, loss: lastLoss, policy: self, progress: progress)
            try checkpoints?.afterEvaluation(evaluation, save: save)
            try checkpoints?.afterSteps(environmentSteps, from: environmentSteps - 1, save: save)
            stepProgress(environmentSteps)
            if stop { break }
        }
        try checkpoints?.atEnd(environmentSteps, save: save)
        return evaluation.records
    }
}
