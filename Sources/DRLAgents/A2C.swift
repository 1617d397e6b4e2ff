import DRLNN
import DRLTensor

/// Settings of `A2CAgent`. The defaults are Stable-Baselines3's A2C defaults (64-64 tanh networks,
/// rollouts of 5 steps, γ = 0.99, value coefficient 0.5, gradient norm 0.5) with Adam in place of
/// RMSprop and GAE λ = 0.95 with normalised advantages, which made CartPole reliable across seeds.
public struct A2CConfiguration: Sendable {
    public var hiddenSizes = [64, 64]
    public var activation: Activation = .tanh
    /// Steps of every environment copy per update (the rollout holds `rolloutSteps` × copies transitions).
    public var rolloutSteps = 5
    public var learningRate: Float = 7e-4
    public var gamma: Float = 0.99
    /// GAE's λ: 1 gives Monte-Carlo-like returns, 0 one-step TD.
    public var gaeLambda: Float = 0.95
    public var valueCoefficient: Float = 0.5
    /// Weight β of the entropy bonus (the loss subtracts β·H).
    public var entropyCoefficient: Float = 0
    public var maxGradientNorm: Float = 0.5
    /// Standardise the advantages of each rollout (zero mean, unit variance).
    public var normalizeAdvantages = true

    public init() {}
}

/// Synchronous advantage actor-critic (Mnih et al., 2016) over a `VectorEnvironment`: rollouts of
/// `rolloutSteps` steps of every copy, generalised advantage estimation, and one update of the
/// loss −mean(A·log π(a | s)) + c_v·mean((V(s) − R)²) − β·H(π(· | s)). The policy is a
/// `CategoricalPolicy`, so an action can be several discrete choices sharing one trunk; the value
/// function is a separate network of the same sizes.
public final class A2CAgent {
    public let configuration: A2CConfiguration
    public let observationDimension: Int
    public let choices: [Int]
    public let environments: Int
    public let policy: CategoricalPolicy
    public let valueNetwork: Sequential
    public let store: ParameterStore
    public let optimizer: Adam
    public private(set) var environmentSteps = 0, updates = 0
    /// The terms of the last update's loss.
    public private(set) var lastLosses: (policy: Float, value: Float, entropy: Float)?
    private var rng: RandomGenerator
    private let rollout: RolloutBuffer
    private let valueLoss = MSELoss()
    private let policyLosses: [SoftmaxCrossEntropyLoss]
    private let entropies: [CategoricalEntropy]
    // Workspace, sized for one rollout.
    private var advantages: Tensor, targets: [[Int32]], logitGradients: [Tensor], valueGradient: Tensor
    private var actions: Tensor, previousObservations: Tensor, stepValues: Tensor, stepRewards: Tensor, singleAction: Tensor
    private var ended: [Bool]

    public init(observationDimension: Int, choices: [Int], environments: Int,
                configuration: A2CConfiguration = A2CConfiguration(), seed: UInt64) {
        require(environments > 0, "A2CAgent needs at least one environment, got \(environments)")
        self.configuration = configuration
        self.observationDimension = observationDimension
        self.choices = choices
        self.environments = environments
        rng = RandomGenerator(seed: seed, stream: 0xA2C)
        var initializer = RandomGenerator(seed: seed, stream: 1)
        policy = CategoricalPolicy(observationDimension: observationDimension, hiddenSizes: configuration.hiddenSizes,
                                   choices: choices, activation: configuration.activation, using: &initializer)
        valueNetwork = orthogonalPerceptron([observationDimension] + configuration.hiddenSizes + [1],
                                            activation: configuration.activation, outputGain: 1, using: &initializer)
        store = ParameterStore(prefixedParameters([("policy", policy), ("value", valueNetwork)]))
        optimizer = Adam(store, learningRate: configuration.learningRate, epsilon: 1e-5)
        let steps = configuration.rolloutSteps, rows = steps * environments
        rollout = RolloutBuffer(steps: steps, environments: environments, observationDimension: observationDimension,
                                actionDimension: choices.count)
        policyLosses = choices.map { _ in SoftmaxCrossEntropyLoss() }
        entropies = choices.map { _ in CategoricalEntropy() }
        advantages = Tensor(workspace: Shape(rows))
        targets = choices.map { _ in [Int32](repeating: 0, count: rows) }
        logitGradients = choices.map { Tensor(workspace: Shape(rows, $0)) }
        valueGradient = Tensor(workspace: Shape(rows, 1))
        actions = Tensor(workspace: Shape(environments, choices.count))
        previousObservations = Tensor(workspace: Shape(environments, observationDimension))
        stepValues = Tensor(workspace: Shape(environments))
        stepRewards = Tensor(workspace: Shape(environments))
        ended = Array(repeating: false, count: environments)
        singleAction = Tensor(workspace: Shape(1, choices.count))
    }

    /// An agent for `environments` copies of an environment with these spaces: `actionSpace` must
    /// be discrete (one head) or multi-discrete (a head per choice).
    public convenience init(observationSpace: Space, actionSpace: Space, environments: Int,
                            configuration: A2CConfiguration = A2CConfiguration(), seed: UInt64) {
        let choices: [Int]
        switch actionSpace {
        case .discrete(let count): choices = [count]
        case .multiDiscrete(let counts): choices = counts
        case .box, .slate: requirementFailure("A2CAgent needs a discrete or multi-discrete action space; got \(actionSpace)")
        }
        self.init(observationDimension: observationSpace.dimension, choices: choices, environments: environments,
                  configuration: configuration, seed: seed)
    }

    /// The actions the policy takes: one discrete choice, or several together.
    public var actionSpace: Space { choices.count == 1 ? .discrete(choices[0]) : .multiDiscrete(choices) }

    /// The action of row `row` of `actions` [rows, heads] in the environment's terms.
    func environmentAction(_ actions: Tensor, row: Int) -> Action {
        if choices.count == 1 { return .discrete(Int(actions[row, 0])) }
        return .multiDiscrete((0..<choices.count).map { Int32(actions[row, $0]) })
    }

    /// Runs one rollout of `rolloutSteps` steps of every copy of `vector` (whose observations are
    /// current), computes the advantages and takes one gradient step. Ended episodes' returns go to
    /// `finished`.
    func collectAndUpdate(_ vector: VectorEnvironment, finished: (Float) -> Void) throws(NonFiniteError) {
        let gamma = configuration.gamma
        for _ in 0..<configuration.rolloutSteps {
            previousObservations.copy(from: vector.observations)
            let values = valueNetwork.forward(previousObservations)
            for e in 0..<environments { stepValues[flat: e] = values[e, 0] }
            policy.forward(previousObservations)
            policy.sample(into: &actions, greedy: false, using: &rng)
            vector.step { i in environmentAction(actions, row: i) }
            stepRewards.copy(from: vector.rewards)
            // A truncated episode's last reward bootstraps from the value of its final observation.
            if vector.truncated.contains(true) {
                let finalValues = valueNetwork.forward(vector.finalObservations)
                for e in 0..<environments where vector.truncated[e] && !vector.terminated[e] {
                    stepRewards[flat: e] += gamma * finalValues[e, 0]
                }
            }
            for e in 0..<environments { ended[e] = vector.terminated[e] || vector.truncated[e] }
            rollout.add(observations: previousObservations, actions: actions, rewards: stepRewards, values: stepValues, dones: ended)
            for episodeReturn in vector.finishedReturns { finished(episodeReturn) }
            environmentSteps += environments
        }
        let lastValues = valueNetwork.forward(vector.observations)
        for e in 0..<environments { stepValues[flat: e] = lastValues[e, 0] }
        rollout.computeAdvantages(lastValues: stepValues, gamma: gamma, lambda: configuration.gaeLambda)
        try update()
        rollout.reset()
    }

    /// One gradient step on the full rollout.
    private func update() throws(NonFiniteError) {
        let rows = configuration.rolloutSteps * environments
        let observations = rollout.observations.reshaped(Shape(rows, observationDimension))
        advantages.copy(from: rollout.advantages.reshaped(Shape(rows)))
        if configuration.normalizeAdvantages && rows > 1 {
            let mean = advantages.mean()
            var variance: Float = 0
            for i in 0..<rows { variance += (advantages[flat: i] - mean) * (advantages[flat: i] - mean) }
            let scale = 1 / ((variance / Float(rows - 1)).squareRoot() + 1e-8)
            advantages += -mean
            advantages *= scale
        }
        store.zeroGradients()
        // Policy: −mean(A·Σₕ log πₕ(aₕ | s)) is the cross-entropy against the taken actions weighted by A.
        policy.forward(observations)
        let actionTable = rollout.actions.reshaped(Shape(rows, choices.count))
        var policyLoss: Float = 0, entropy: Float = 0
        for h in choices.indices {
            for r in 0..<rows { targets[h][r] = Int32(actionTable[r, h]) }
            policyLoss += policyLosses[h](policy.logits[h], targets: targets[h], weights: advantages)
            entropy += entropies[h](policy.logits[h])
            logitGradients[h].copy(from: policyLosses[h].gradient)
            axpy(-configuration.entropyCoefficient, entropies[h].gradient, &logitGradients[h])
        }
        policy.backward(logitGradients)
        // Value: c_v·mean((V(s) − R)²).
        let values = valueNetwork.forward(observations)
        let valueError = valueLoss(values.reshaped(Shape(rows)), rollout.returns.reshaped(Shape(rows)))
        valueGradient.copy(from: valueLoss.gradient.reshaped(Shape(rows, 1)))
        valueGradient *= configuration.valueCoefficient
        valueNetwork.backwardParametersOnly(valueGradient)
        // Named only on failure: building the list every step would allocate.
        if !(policyLoss.isFinite && valueError.isFinite && entropy.isFinite) {
            for (name, value) in [("policy loss", policyLoss), ("value loss", valueError), ("entropy", entropy)] where !value.isFinite {
                throw NonFiniteError(quantity: "loss", parameter: "A2C \(name)", element: updates, value: value)
            }
        }
        store.clipGradientNorm(configuration.maxGradientNorm)
        try optimizer.update()
        updates += 1
        lastLosses = (policyLoss, valueError, entropy)
    }
}

extension A2CAgent: Policy {
    /// An action for one observation [dimension]: each head's choice sampled from the policy when
    /// exploring, its most probable when greedy.
    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        policy.forward(observation.reshaped(Shape(1, observationDimension)))
        policy.sample(into: &singleAction, greedy: mode == .greedy, using: &rng)
        return environmentAction(singleAction, row: 0)
    }
}

extension A2CAgent {
    /// Trains on the copies of `vector` for `steps` environment steps (summed over copies),
    /// evaluating the greedy policy on `evaluationEnvironment` whenever the agent's step count
    /// passes a multiple of `evaluationInterval`, and stopping early once an evaluation reaches
    /// `stopAtReturn`; `checkpoints` saves the agent with the loop's state periodically and at the
    /// end (always between rollouts); `stepProgress` gets the step count after each rollout and
    /// update. With `resuming` (from `load`), every copy continues from the
    /// checkpoint, exactly. Traps when a copy's or the evaluation environment's observations or
    /// action space differ from the agent's, or when the evaluation environment is one of the
    /// copies. Throws `TrainingError` on a NaN or infinite loss or gradient (nothing is trained on
    /// it), a checkpoint that cannot be written, or a saved run that does not fit.
    @discardableResult
    public func train(on vector: VectorEnvironment, steps: Int, seed: UInt64, evaluationEnvironment: Environment,
                      evaluationInterval: Int, evaluationEpisodes: Int = 10, evaluationSeed: UInt64 = 1_000,
                      stopAtReturn: Float? = nil, checkpoints: CheckpointSchedule? = nil, resuming: TrainingLoopState? = nil,
                      progress: (EvaluationRecord) -> Void = { _ in },
                      stepProgress: (Int) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        require(steps > 0, "train: steps must be positive, got \(steps)")
        require(vector.count == environments, "train: the vector has \(vector.count) copies; the agent was built for \(environments)")
        for copy in vector.environments {
            requireFit(of: copy, role: "training", agent: self, observationDimension: observationDimension, actionSpace: actionSpace)
            requireSeparate(training: copy, evaluation: evaluationEnvironment)
        }
        requireFit(of: evaluationEnvironment, role: "evaluation", agent: self, observationDimension: observationDimension,
                   actionSpace: actionSpace)
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval, episodes: evaluationEpisodes,
                                            seed: evaluationSeed, stopAtReturn: stopAtReturn, startingAt: environmentSteps,
                                            bestSoFar: checkpoints?.previousBestReturn)
        var episodes = TrainingEpisodes()
        if let resuming {
            guard resuming.environments.count == environments else {
                throw .resume("the checkpoint holds \(resuming.environments.count) environment copies; the agent runs \(environments)")
            }
            var row = Tensor(zeros: Shape(observationDimension))
            for (i, copy) in vector.environments.enumerated() { try resuming.restore(copy, index: i, observation: &row) }
            vector.restore(observations: resuming.observations, episodeReturns: resuming.episodeReturns)
            episodes = resuming.episodes
        } else {
            vector.reset(seed: seed)
        }
        let save = { (path: String, labels: [String: String], contents: CheckpointContents) throws(CheckpointError) in
            let states = vector.environments.compactMap { ($0 as? ResumableEnvironment)?.stateDescription }
            let loop = states.count == self.environments
                ? TrainingLoopState(environments: states, observations: (0..<self.environments).map { vector.observations[row: $0].scalars },
                                    episodeReturns: vector.episodeReturns, episodes: episodes, exploration: nil)
                : nil
            try self.save(to: path, loop: loop, labels: labels, contents: contents)
        }
        let end = environmentSteps + steps
        while environmentSteps < end {
            let before = environmentSteps
            do {
                try collectAndUpdate(vector) { episodes.record(finishedReturn: $0) }
            } catch {
                throw .nonFinite(environmentStep: environmentSteps, error)
            }
            let stop = evaluation.afterSteps(environmentSteps, training: episodes,
                                             loss: lastLosses.map { $0.policy + configuration.valueCoefficient * $0.value },
                                             policy: self, progress: progress)
            try checkpoints?.afterEvaluation(evaluation, save: save)
            try checkpoints?.afterSteps(environmentSteps, from: before, save: save)
            stepProgress(environmentSteps)
            if stop { break }
        }
        try checkpoints?.atEnd(environmentSteps, save: save)
        return evaluation.records
    }
}

/// An A2C checkpoint holds the policy and value networks, Adam's state, the counters and the
/// generator (an on-policy agent has no replay, and a rollout is never half-saved).
extension A2CAgent: CheckpointedAgent {
    public var checkpointKind: String { "a2c" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }
    public var checkpointParts: [CheckpointPart] { [CheckpointPart(prefix: "", store: store, optimizer: optimizer)] }
    /// Actor and critic share one store (the critic is small): the policy is all of it.
    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }
    public var checkpointReplay: ReplayBuffer? { nil }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: environmentSteps, gradientSteps: updates, generator: rng) }
        set { (environmentSteps, updates, rng) = (newValue.environmentSteps, newValue.gradientSteps, newValue.generator) }
    }
}
