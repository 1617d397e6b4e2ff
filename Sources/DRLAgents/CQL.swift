import DRLNN
import DRLTensor

/// Settings of `CQLAgent`.
public struct CQLConfiguration: Sendable {
    public var hiddenSizes = [256, 256]
    public var learningRate: Float = 3e-4
    /// Offline learning reads a fixed dataset, so large batches cost no environment time.
    public var batchSize = 256
    public var gamma: Float = 0.99
    /// Weight α of the conservative term; 0 is plain offline (double) DQN. On CartPole logs of a
    /// deterministic heuristic, 0.5 gave better policies than 1 or 2 (see CQLTests).
    public var conservativeWeight: Float = 0.5
    /// Polyak factor of the target network per gradient step.
    public var tau: Float = 0.005
    public var double = true
    public var huberDelta: Float = 1
    public var maxGradientNorm: Float = 10

    public init() {}
}

/// Conservative Q-learning for discrete actions (Kumar et al., NeurIPS 2020, the CQL(H) variant),
/// trained purely from a fixed logged dataset: the double-DQN temporal-difference loss plus
/// α·mean(log Σₐ exp Q(s, a) − Q(s, a_logged)), which pushes down the values of actions the data
/// does not support and so keeps bootstrapping from overestimating them. The conservative term is
/// the cross-entropy of the Q-values, read as logits, against the logged action.
public final class CQLAgent {
    public let configuration: CQLConfiguration
    public let observationDimension: Int, actions: Int
    public let dataset: ReplayBuffer
    public let online: Sequential, target: Sequential
    public let onlineStore: ParameterStore, targetStore: ParameterStore
    public let optimizer: Adam
    public private(set) var gradientSteps = 0
    /// The last step's temporal-difference loss, its conservative term before the weight α, and the
    /// mean Q(s, a_logged) of its batch.
    public private(set) var lastStep: (temporalDifference: Float, conservative: Float, meanQ: Float)?
    private var rng: RandomGenerator
    private let batch: TransitionBatch
    private let tdLoss: HuberLoss
    private let conservativeLoss = SoftmaxCrossEntropyLoss()
    private var predicted: Tensor, targets: Tensor, dq: Tensor
    private var loggedActions: [Int32], nextGreedy: [Int32], singleAction: [Int32] = [0]

    /// An agent that learns from `dataset` (discrete actions stored as indices, as `ReplayBuffer` keeps them).
    public init(dataset: ReplayBuffer, actions: Int, configuration: CQLConfiguration = CQLConfiguration(), seed: UInt64) {
        require(actions > 1 && dataset.actionDimension == 1, "CQLAgent needs at least two discrete actions and a dataset of action indices")
        require(dataset.count > 0, "CQLAgent: the dataset is empty")
        self.configuration = configuration
        self.dataset = dataset
        observationDimension = dataset.observationDimension
        self.actions = actions
        rng = RandomGenerator(seed: seed, stream: 0xC01)
        let sizes = [observationDimension] + configuration.hiddenSizes + [actions]
        var initializer = RandomGenerator(seed: seed, stream: 1)
        online = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &initializer)
        target = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &initializer)
        onlineStore = ParameterStore(online.namedParameters)
        targetStore = ParameterStore(target.namedParameters)
        targetStore.copyValues(from: onlineStore)
        optimizer = Adam(onlineStore, learningRate: configuration.learningRate)
        let b = configuration.batchSize
        batch = TransitionBatch(size: b, observationDimension: observationDimension)
        tdLoss = HuberLoss(delta: configuration.huberDelta)
        predicted = Tensor(workspace: Shape(b))
        targets = Tensor(workspace: Shape(b))
        dq = Tensor(workspace: Shape(b, actions))
        loggedActions = Array(repeating: 0, count: b)
        nextGreedy = Array(repeating: 0, count: b)
    }

    /// One gradient step on a batch sampled from the dataset.
    public func trainStep() throws(NonFiniteError) {
        let b = configuration.batchSize
        dataset.sample(into: batch, using: &rng)
        qLearningTargets(online: online, target: target, batch: batch, double: configuration.double, greedy: &nextGreedy, into: &targets)
        onlineStore.zeroGradients()
        let q = online.forward(batch.observations)
        var meanQ: Float = 0
        for i in 0..<b {
            loggedActions[i] = Int32(batch.actions[i, 0])
            predicted[flat: i] = q[i, Int(loggedActions[i])]
            meanQ += predicted[flat: i] / Float(b)
        }
        let temporalDifference = tdLoss(predicted, targets)
        let alpha = configuration.conservativeWeight
        let conservative = alpha > 0 ? conservativeLoss(q, targets: loggedActions) : 0
        // Named only on failure: building the list every step would allocate.
        if !(temporalDifference.isFinite && conservative.isFinite) {
            for (name, value) in [("temporal-difference loss", temporalDifference), ("conservative loss", conservative)] where !value.isFinite {
                throw NonFiniteError(quantity: "loss", parameter: "CQL \(name)", element: gradientSteps, value: value)
            }
        }
        if alpha > 0 {
            dq.copy(from: conservativeLoss.gradient)
            dq *= alpha
        } else {
            dq.fill(with: 0)
        }
        for i in 0..<b { dq[i, Int(loggedActions[i])] += tdLoss.gradient[flat: i] }
        online.backwardParametersOnly(dq)
        onlineStore.clipGradientNorm(configuration.maxGradientNorm)
        try optimizer.update()
        targetStore.polyakUpdate(from: onlineStore, tau: configuration.tau)
        gradientSteps += 1
        lastStep = (temporalDifference, conservative, meanQ)
    }

    /// The action of highest Q for one observation [dimension], in either mode: learning only from
    /// its dataset, the agent never collects and so has no exploration of its own.
    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        rowArgmax(online.forward(observation.reshaped(Shape(1, observationDimension))), into: &singleAction)
        return .discrete(Int(singleAction[0]))
    }

    /// Takes `steps` gradient steps, evaluating the greedy policy on `evaluationEnvironment` every
    /// `evaluationInterval` steps (the records' `step` counts gradient steps, `loss` is the total
    /// loss). Traps when the evaluation environment's observations or actions differ from the
    /// agent's. Throws `TrainingError` on a NaN or infinite loss or gradient, or a checkpoint that
    /// cannot be written.
    @discardableResult
    public func train(steps: Int, evaluationEnvironment: Environment, evaluationInterval: Int, evaluationEpisodes: Int = 10,
                      evaluationSeed: UInt64 = 1_000, checkpoints: CheckpointSchedule? = nil,
                      progress: (EvaluationRecord) -> Void = { _ in }) throws(TrainingError) -> [EvaluationRecord] {
        require(steps > 0, "train: steps must be positive, got \(steps)")
        requireFit(of: evaluationEnvironment, role: "evaluation", agent: self, observationDimension: observationDimension,
                   actionSpace: .discrete(actions))
        var evaluation = PeriodicEvaluation(environment: evaluationEnvironment, interval: evaluationInterval,
                                            episodes: evaluationEpisodes, seed: evaluationSeed, stopAtReturn: nil,
                                            bestSoFar: checkpoints?.previousBestReturn)
        for step in 0..<steps {
            do { try trainStep() } catch { throw .nonFinite(environmentStep: gradientSteps, error) }
            _ = evaluation.afterSteps(step + 1, training: TrainingEpisodes(),
                                      loss: lastStep.map { $0.temporalDifference + configuration.conservativeWeight * $0.conservative },
                                      policy: self, progress: progress)
            try checkpoints?.afterEvaluation(evaluation) { path, labels, contents throws(CheckpointError) in try save(to: path, labels: labels, contents: contents) }
            try checkpoints?.afterSteps(step + 1, from: step) { path, labels, contents throws(CheckpointError) in try save(to: path, labels: labels, contents: contents) }
        }
        try checkpoints?.atEnd(gradientSteps) { path, labels, contents throws(CheckpointError) in try save(to: path, labels: labels, contents: contents) }
        return evaluation.records
    }
}

extension CQLAgent: Policy {}

/// A CQL checkpoint holds the online and target networks, Adam's state, the step count and the
/// generator; the dataset is the user's and is not copied into it.
extension CQLAgent: CheckpointedAgent {
    public var checkpointKind: String { "cql" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }

    public var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "online.", store: onlineStore, optimizer: optimizer),
         CheckpointPart(prefix: "target.", store: targetStore)]
    }

    public var checkpointReplay: ReplayBuffer? { nil }

    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }

    /// An offline agent takes no environment steps: the count is always 0.
    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: 0, gradientSteps: gradientSteps, generator: rng) }
        set { (gradientSteps, rng) = (newValue.gradientSteps, newValue.generator) }
    }
}

/// Runs `policy` (observation → action index) in `environment` for `transitions` steps from a
/// reset with `seed`, and returns the logged transitions (terminal steps marked done, truncated
/// ones not) with the mean return of the episodes that finished: a logged dataset for offline learning.
public func logTransitions(of policy: (Tensor) -> Int, in environment: Environment, transitions: Int, gamma: Float,
                           seed: UInt64) -> (dataset: ReplayBuffer, meanReturn: Float) {
    require(transitions > 0, "logTransitions: transitions must be positive, got \(transitions)")
    let dimension = environment.observationSpace.dimension
    let dataset = ReplayBuffer(capacity: transitions, observationDimension: dimension)
    var observation = Tensor(zeros: Shape(dimension)), next = Tensor(zeros: Shape(dimension)), action = Tensor(zeros: Shape(1))
    var episodeReturn: Float = 0, total: Float = 0, episodes = 0
    environment.reset(seed: seed, observation: &observation)
    for _ in 0..<transitions {
        let a = policy(observation)
        action[flat: 0] = Float(a)
        let result = environment.step(.discrete(a), observation: &next)
        dataset.add(observation: observation, action: action, reward: result.reward, nextObservation: next,
                    done: result.terminated, discount: gamma)
        episodeReturn += result.reward
        if result.terminated || result.truncated {
            total += episodeReturn
            episodes += 1
            episodeReturn = 0
            environment.reset(seed: nil, observation: &observation)
        } else {
            observation.copy(from: next)
        }
    }
    return (dataset, episodes > 0 ? total / Float(episodes) : episodeReturn)
}
