import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of `DiscreteSACAgent`.
public struct DiscreteSACConfiguration: Sendable {
    public var hiddenSizes = [64, 64]
    public var learningRate: Float = 1e-3
    public var batchSize = 64
    public var gamma: Float = 0.99
    public var tau: Float = 0.01
    public var bufferCapacity = 100_000
    /// Transitions stored before learning starts.
    public var learningStarts = 1_000
    /// Every `trainFrequency` environment steps, take `gradientSteps` gradient steps.
    public var trainFrequency = 1
    public var gradientSteps = 1
    public var initialTemperature: Float = 0.1
    /// Target entropy as a fraction of the maximum, log(actions). Christodoulou (2019) uses 0.98,
    /// which on two-action tasks keeps the policy close to uniform; lower targets let it commit.
    public var targetEntropyRatio: Float = 0.3

    public init() {}
}

/// Soft Actor-Critic for discrete actions (Christodoulou, 2019): a categorical policy, twin critics
/// that output Q for every action, soft values computed as exact expectations over the actions
/// instead of sampled ones, and automatic temperature tuning towards a target entropy.
public final class DiscreteSACAgent {
    public let configuration: DiscreteSACConfiguration
    public let observationDimension: Int, actions: Int
    public let actor: Sequential
    public let critic1: Sequential, critic2: Sequential, target1: Sequential, target2: Sequential
    public let actorStore: ParameterStore, criticStore: ParameterStore, targetStore: ParameterStore
    public let logTemperature: Parameter
    public let targetEntropy: Float
    public private(set) var environmentSteps = 0, gradientSteps = 0
    /// The critics' regression loss (½ Σ mean squared error over both) of the last update.
    public private(set) var lastCriticLoss: Float?
    private let actorOptimizer: Adam, criticOptimizer: Adam, temperatureOptimizer: Adam
    private let temperatureStore: ParameterStore
    private var rng: RandomGenerator
    private let replay: ReplayBuffer
    private let batch: TransitionBatch
    // Workspace for one update, sized for the batch.
    private var probabilities: Tensor, logProbabilities: Tensor, minimumQ: Tensor, dLogits: Tensor, dq: Tensor
    private var targets: Tensor, actionBuffer: Tensor, actionProbabilities: Tensor
    private var chosen: [Int32] = [0]

    public init(observationDimension: Int, actions: Int, configuration: DiscreteSACConfiguration = DiscreteSACConfiguration(),
                seed: UInt64) {
        require(observationDimension > 0 && actions > 1, "DiscreteSACAgent needs observations and at least two actions")
        require(configuration.targetEntropyRatio > 0 && configuration.targetEntropyRatio < 1,
                "DiscreteSACAgent: targetEntropyRatio \(configuration.targetEntropyRatio) must lie in (0, 1)")
        self.configuration = configuration
        self.observationDimension = observationDimension
        self.actions = actions
        rng = RandomGenerator(seed: seed, stream: 0xD5AC)
        var initializer = RandomGenerator(seed: seed, stream: 1)
        let sizes = [observationDimension] + configuration.hiddenSizes + [actions]
        actor = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &initializer)
        critic1 = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &initializer)
        critic2 = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &initializer)
        var targetInitializer = initializer
        target1 = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &targetInitializer)
        target2 = TwinCritics.multilayerPerceptron(sizes, inputGradient: false, using: &targetInitializer)
        actorStore = ParameterStore(actor.namedParameters)
        criticStore = ParameterStore(prefixedParameters([("q1", critic1), ("q2", critic2)]))
        targetStore = ParameterStore(prefixedParameters([("q1", target1), ("q2", target2)]))
        targetStore.copyValues(from: criticStore)
        logTemperature = Parameter("log_alpha", shape: Shape(1))
        var logAlpha = logTemperature.value
        logAlpha[flat: 0] = logf(configuration.initialTemperature)
        temperatureStore = ParameterStore([("log_alpha", logTemperature)])
        actorOptimizer = Adam(actorStore, learningRate: configuration.learningRate)
        criticOptimizer = Adam(criticStore, learningRate: configuration.learningRate)
        temperatureOptimizer = Adam(temperatureStore, learningRate: configuration.learningRate)
        targetEntropy = configuration.targetEntropyRatio * logf(Float(actions))
        replay = ReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension)
        let b = configuration.batchSize
        batch = TransitionBatch(size: b, observationDimension: observationDimension)
        probabilities = Tensor(workspace: Shape(b, actions))
        logProbabilities = Tensor(workspace: Shape(b, actions))
        minimumQ = Tensor(workspace: Shape(b, actions))
        dLogits = Tensor(workspace: Shape(b, actions))
        dq = Tensor(workspace: Shape(b, actions))
        targets = Tensor(workspace: Shape(b))
        actionBuffer = Tensor(workspace: Shape(1))
        actionProbabilities = Tensor(workspace: Shape(1, actions))
    }

    /// An agent for an environment's spaces: `actionSpace` must be discrete.
    public convenience init(observationSpace: Space, actionSpace: Space,
                            configuration: DiscreteSACConfiguration = DiscreteSACConfiguration(), seed: UInt64) {
        self.init(observationDimension: observationSpace.dimension, actions: actionSpace.discreteActionCount(for: "DiscreteSACAgent"),
                  configuration: configuration, seed: seed)
    }

    public var temperature: Float { expf(logTemperature.value[flat: 0]) }

    /// An action for one observation [dimension]: sampled from the policy when exploring, its most
    /// probable action when greedy.
    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        let logits = actor.forward(observation.reshaped(Shape(1, observationDimension)))
        if mode == .greedy {
            rowArgmax(logits, into: &chosen)
            return .discrete(Int(chosen[0]))
        }
        softmax(logits, into: &actionProbabilities)
        return .discrete(actionProbabilities.withUnsafeBufferPointer { rng.categorical($0) })
    }

    /// Stores a one-step transition (a truncated step still bootstraps).
    public func store(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool) {
        guard case .discrete(let index) = action else { requirementFailure("DiscreteSACAgent stores .discrete actions, got \(action)") }
        actionBuffer[flat: 0] = Float(index)
        replay.add(observation: observation, action: actionBuffer, reward: reward, nextObservation: nextObservation,
                   done: terminated, discount: configuration.gamma)
        environmentSteps += 1
    }

    /// The policy's probabilities and log-probabilities for `observations` into the workspace.
    private func policyDistribution(_ observations: Tensor) {
        let logits = actor.forward(observations)
        softmax(logits, into: &probabilities)
        logSoftmax(logits, into: &logProbabilities)
    }

    /// Writes min(Q₁, Q₂) elementwise into `minimumQ`.
    private func minimum(_ q1: Tensor, _ q2: Tensor) {
        let n = minimumQ.count
        for i in 0..<n { minimumQ[flat: i] = min(q1[flat: i], q2[flat: i]) }
    }

    /// Accumulates the gradient of ½·mean((Q(s, a) − y)²) over the taken actions into `critic`
    /// and returns that loss.
    private func regress(_ critic: Sequential) -> Float {
        let b = configuration.batchSize
        let q = critic.forward(batch.observations)
        dq.fill(with: 0)
        var loss: Float = 0
        for i in 0..<b {
            let a = Int(batch.actions[i, 0])
            let error = q[i, a] - targets[flat: i]
            loss += error * error
            dq[i, a] = error / Float(b)
        }
        critic.backwardParametersOnly(dq)
        return 0.5 * loss / Float(b)
    }

    /// The policy loss mean over rows of Σₐ πₐ·fₐ with fₐ = α·log πₐ − Qₐ, and the mean entropy of
    /// the rows. Writes the loss's gradient with respect to the logits, πᵦ·(fᵦ − Σₐ πₐ·fₐ)/rows per
    /// row (the derivative of α·log π itself sums to zero under π).
    static func policyLoss(probabilities: Tensor, logProbabilities: Tensor, q: Tensor, temperature alpha: Float,
                           logitGradient: inout Tensor) -> (loss: Float, entropy: Float) {
        let (rows, n) = probabilities.shape.matrix
        var loss: Float = 0, entropy: Float = 0
        for i in 0..<rows {
            var expected: Float = 0
            for a in 0..<n {
                let f = alpha * logProbabilities[i, a] - q[i, a]
                logitGradient[i, a] = f
                expected += probabilities[i, a] * f
                entropy -= probabilities[i, a] * logProbabilities[i, a]
            }
            for a in 0..<n { logitGradient[i, a] = probabilities[i, a] * (logitGradient[i, a] - expected) / Float(rows) }
            loss += expected
        }
        return (loss / Float(rows), entropy / Float(rows))
    }

    /// One update of the critics, the policy and the temperature, then the target critics.
    public func trainStep() throws(NonFiniteError) {
        let n = actions
        replay.sample(into: batch, using: &rng)
        let alpha = temperature
        // Soft value of s′ as an exact expectation: V(s′) = Σₐ π(a | s′)·(min Q_target(s′, a) − α·log π(a | s′)).
        policyDistribution(batch.nextObservations)
        minimum(target1.forward(batch.nextObservations), target2.forward(batch.nextObservations))
        for i in 0..<configuration.batchSize {
            var value: Float = 0
            for a in 0..<n { value += probabilities[i, a] * (minimumQ[i, a] - alpha * logProbabilities[i, a]) }
            targets[flat: i] = batch.rewards[flat: i] + batch.discounts[flat: i] * (1 - batch.dones[flat: i]) * value
        }
        criticStore.zeroGradients()
        let criticLoss = regress(critic1) + regress(critic2)
        if !criticLoss.isFinite {
            throw NonFiniteError(quantity: "loss", parameter: "discrete SAC critic loss", element: gradientSteps, value: criticLoss)
        }
        try criticOptimizer.update()
        lastCriticLoss = criticLoss
        minimum(critic1.forward(batch.observations), critic2.forward(batch.observations))
        policyDistribution(batch.observations)
        let entropy = Self.policyLoss(probabilities: probabilities, logProbabilities: logProbabilities, q: minimumQ,
                                      temperature: alpha, logitGradient: &dLogits).entropy
        actorStore.zeroGradients()
        actor.backwardParametersOnly(dLogits)
        try actorOptimizer.update()
        // Temperature: loss −log α·(target entropy − H), mean over the batch.
        var dAlpha = logTemperature.gradient
        dAlpha[flat: 0] = entropy - targetEntropy
        try temperatureOptimizer.update()
        targetStore.polyakUpdate(from: criticStore, tau: configuration.tau)
        gradientSteps += 1
    }
}

extension DiscreteSACAgent: OffPolicyAgent {
    public var actionSpace: Space { .discrete(actions) }
    public var storedTransitions: Int { replay.count }
    public var lastLoss: Float? { lastCriticLoss }

    public var updateSchedule: UpdateSchedule {
        UpdateSchedule(learningStarts: configuration.learningStarts, trainFrequency: configuration.trainFrequency,
                       gradientSteps: configuration.gradientSteps)
    }
}

/// A discrete SAC checkpoint holds the policy, the critics and their targets, the temperature,
/// the three Adam states, the counters, the generator and the replay buffer.
extension DiscreteSACAgent: CheckpointedAgent {
    public var checkpointKind: String { "sac-discrete" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }

    public var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "actor.", store: actorStore, optimizer: actorOptimizer),
         CheckpointPart(prefix: "critic.", store: criticStore, optimizer: criticOptimizer),
         CheckpointPart(prefix: "target.", store: targetStore),
         CheckpointPart(prefix: "temperature.", store: temperatureStore, optimizer: temperatureOptimizer)]
    }

    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }
    public var checkpointReplay: ReplayBuffer? { replay }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: environmentSteps, gradientSteps: gradientSteps, generator: rng) }
        set { (environmentSteps, gradientSteps, rng) = (newValue.environmentSteps, newValue.gradientSteps, newValue.generator) }
    }
}
