import DRLNN
import DRLTensor

/// Settings of `TD3Agent`. Defaults follow Fujimoto et al. and Stable-Baselines3: 256-256
/// networks, lr 1e-3, batch 256, τ = 0.005, policy delay 2, target smoothing noise 0.2 clipped at
/// 0.5, exploration noise 0.1 (all as fractions of the action half-range).
public struct TD3Configuration: Sendable {
    public var hiddenSizes = [256, 256]
    public var learningRate: Float = 1e-3
    public var batchSize = 256
    public var gamma: Float = 0.99
    public var tau: Float = 0.005
    public var bufferCapacity = 100_000
    public var learningStarts = 100
    public var policyDelay = 2
    public var targetNoise: Float = 0.2, targetNoiseClip: Float = 0.5
    public var explorationNoise: Float = 0.1

    public init() {}
}

/// TD3 (Fujimoto et al.): a deterministic tanh actor, twin critics trained on the smaller target
/// value with clipped noise on the target action, and actor and target updates every
/// `policyDelay` critic updates. With γ = 0 and no noise it is DDPG's update with twin critics.
public final class TD3Agent {
    public let configuration: TD3Configuration
    public let observationDimension: Int, actionDimension: Int
    public let actor: Sequential, targetActor: Sequential
    public let critic1: Sequential, critic2: Sequential, target1: Sequential, target2: Sequential
    public let actorStore: ParameterStore, targetActorStore: ParameterStore
    public let criticStore: ParameterStore, targetCriticStore: ParameterStore
    public private(set) var environmentSteps = 0, gradientSteps = 0
    /// The critics' regression loss (½ Σ mean squared error over both) of the last update.
    public private(set) var lastCriticLoss: Float?
    private let actorOptimizer: Adam, criticOptimizer: Adam
    private let low: [Float], high: [Float]
    private var rng: RandomGenerator
    private let replay: ReplayBuffer
    private let batch: TransitionBatch
    private var actions: Tensor, criticInput: Tensor, targets: Tensor, dq: Tensor, dActions: Tensor, actionBuffer: Tensor

    public init(observationDimension: Int, actionLow: [Float], actionHigh: [Float],
                configuration: TD3Configuration = TD3Configuration(), seed: UInt64) {
        require(observationDimension > 0 && !actionLow.isEmpty && actionLow.count == actionHigh.count
                && zip(actionLow, actionHigh).allSatisfy { $0 < $1 && $0.isFinite && $1.isFinite },
                "TD3Agent needs a bounded box action space; got low \(actionLow), high \(actionHigh)")
        self.configuration = configuration
        self.observationDimension = observationDimension
        actionDimension = actionLow.count
        low = actionLow
        high = actionHigh
        rng = RandomGenerator(seed: seed, stream: 0x7D3)
        let hidden = configuration.hiddenSizes, a = actionDimension
        let actorSizes = [observationDimension] + hidden + [a], criticSizes = [observationDimension + a] + hidden + [1]
        var initialization = RandomGenerator(seed: seed, stream: 1)
        actor = TwinCritics.multilayerPerceptron(actorSizes, tanhOutput: true, inputGradient: false, using: &initialization)
        critic1 = TwinCritics.multilayerPerceptron(criticSizes, tanhOutput: false, inputGradient: true, using: &initialization)
        critic2 = TwinCritics.multilayerPerceptron(criticSizes, tanhOutput: false, inputGradient: true, using: &initialization)
        var copies = initialization
        targetActor = TwinCritics.multilayerPerceptron(actorSizes, tanhOutput: true, inputGradient: false, using: &copies)
        target1 = TwinCritics.multilayerPerceptron(criticSizes, tanhOutput: false, inputGradient: false, using: &copies)
        target2 = TwinCritics.multilayerPerceptron(criticSizes, tanhOutput: false, inputGradient: false, using: &copies)
        actorStore = ParameterStore(actor)
        targetActorStore = ParameterStore(targetActor)
        criticStore = ParameterStore(prefixedParameters([("q1", critic1), ("q2", critic2)]))
        targetCriticStore = ParameterStore(prefixedParameters([("q1", target1), ("q2", target2)]))
        targetActorStore.copyValues(from: actorStore)
        targetCriticStore.copyValues(from: criticStore)
        actorOptimizer = Adam(actorStore, learningRate: configuration.learningRate)
        criticOptimizer = Adam(criticStore, learningRate: configuration.learningRate)
        replay = ReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension, actionDimension: a)
        let b = configuration.batchSize
        batch = TransitionBatch(size: b, observationDimension: observationDimension, actionDimension: a)
        actions = Tensor(workspace: Shape(b, a))
        criticInput = Tensor(workspace: Shape(b, observationDimension + a))
        targets = Tensor(workspace: Shape(b))
        dq = Tensor(workspace: Shape(b, 1))
        dActions = Tensor(workspace: Shape(b, a))
        actionBuffer = Tensor(workspace: Shape(a))
    }

    /// An agent for an environment's spaces: `actionSpace` must be a bounded box.
    public convenience init(observationSpace: Space, actionSpace: Space, configuration: TD3Configuration = TD3Configuration(),
                            seed: UInt64) {
        let (low, high) = actionSpace.boxBounds(for: "TD3Agent")
        self.init(observationDimension: observationSpace.dimension, actionLow: low, actionHigh: high, configuration: configuration,
                  seed: seed)
    }

    private func halfRange(_ j: Int) -> Float { 0.5 * (high[j] - low[j]) }
    private func center(_ j: Int) -> Float { 0.5 * (high[j] + low[j]) }

    /// The policy's action for one observation, with Gaussian exploration noise when exploring.
    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        let squashed = actor.forward(observation.reshaped(Shape(1, observationDimension)))
        for j in 0..<actionDimension {
            var t = squashed[0, j]
            if mode == .explore { t = min(max(t + configuration.explorationNoise * rng.normal(), -1), 1) }
            actionBuffer[flat: j] = center(j) + halfRange(j) * t
        }
        return .continuous(actionBuffer)
    }

    /// Stores a one-step transition (a truncated step still bootstraps).
    public func store(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool) {
        guard case .continuous(let values) = action else { requirementFailure("TD3Agent stores .continuous actions, got \(action)") }
        store(observation: observation, action: values, reward: reward, nextObservation: nextObservation, terminated: terminated,
              discount: configuration.gamma)
    }

    public func store(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, terminated: Bool, discount: Float) {
        require(discount >= 0 && discount <= 1, "TD3Agent: a transition's discount must be in [0, 1], got \(discount)")
        replay.add(observation: observation, action: action, reward: reward, nextObservation: nextObservation, done: terminated, discount: discount)
        environmentSteps += 1
    }

    public var discountFactor: Float { configuration.gamma }

    /// One critic update; every `policyDelay`-th also updates the actor and all targets.
    public func trainStep() throws(NonFiniteError) {
        let b = configuration.batchSize, a = actionDimension, o = observationDimension
        replay.sample(into: batch, using: &rng)
        // y = r + γ·(1 − done)·min Q_target(s′, clip(μ_target(s′) + clip(ε)))
        let next = targetActor.forward(batch.nextObservations)
        for i in 0..<b {
            for j in 0..<a {
                let noise = min(max(configuration.targetNoise * rng.normal(), -configuration.targetNoiseClip), configuration.targetNoiseClip)
                actions[i, j] = center(j) + halfRange(j) * min(max(next[i, j] + noise, -1), 1)
            }
        }
        TwinCritics.fillInput(&criticInput, observations: batch.nextObservations, actions: actions)
        let q1Next = target1.forward(criticInput), q2Next = target2.forward(criticInput)
        for i in 0..<b {
            targets[flat: i] = batch.rewards[flat: i]
                + batch.discounts[flat: i] * (1 - batch.dones[flat: i]) * min(q1Next[flat: i], q2Next[flat: i])
        }
        criticStore.zeroGradients()
        TwinCritics.fillInput(&criticInput, observations: batch.observations, actions: batch.actions)
        let criticLoss = TwinCritics.regress(critic1, input: criticInput, targets: targets, dq: &dq)
            + TwinCritics.regress(critic2, input: criticInput, targets: targets, dq: &dq)
        try criticOptimizer.update()
        lastCriticLoss = criticLoss
        gradientSteps += 1
        guard gradientSteps % configuration.policyDelay == 0 else { return }
        // Actor: maximise Q1(s, μ(s)): loss −mean Q1, gradient through Q1's input into μ.
        actorStore.zeroGradients()
        let squashed = actor.forward(batch.observations)
        for i in 0..<b { for j in 0..<a { actions[i, j] = center(j) + halfRange(j) * squashed[i, j] } }
        TwinCritics.fillInput(&criticInput, observations: batch.observations, actions: actions)
        _ = critic1.forward(criticInput)
        for i in 0..<b { dq[i, 0] = -1 / Float(b) }
        let dInput = critic1.backward(dq)
        for i in 0..<b { for j in 0..<a { dActions[i, j] = dInput[i, o + j] * halfRange(j) } }
        actor.backwardParametersOnly(dActions)
        try actorOptimizer.update()
        targetActorStore.polyakUpdate(from: actorStore, tau: configuration.tau)
        targetCriticStore.polyakUpdate(from: criticStore, tau: configuration.tau)
    }
}

extension TD3Agent: ContinuousControlAgent {
    public var actionSpace: Space { .box(low: low, high: high) }
    public var storedTransitions: Int { replay.count }
    public var lastLoss: Float? { lastCriticLoss }

    /// One critic update after every environment step (the actor's every `policyDelay`-th).
    public var updateSchedule: UpdateSchedule { UpdateSchedule(learningStarts: configuration.learningStarts) }
}

/// A TD3 checkpoint holds the actor, the critics, both targets, the two Adam states, the
/// counters, the generator and the replay buffer.
extension TD3Agent: CheckpointedAgent {
    public var checkpointKind: String { "td3" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }

    public var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "actor.", store: actorStore, optimizer: actorOptimizer),
         CheckpointPart(prefix: "target_actor.", store: targetActorStore),
         CheckpointPart(prefix: "critic.", store: criticStore, optimizer: criticOptimizer),
         CheckpointPart(prefix: "target_critic.", store: targetCriticStore)]
    }

    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }
    public var checkpointReplay: ReplayBuffer? { replay }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: environmentSteps, gradientSteps: gradientSteps, generator: rng) }
        set { (environmentSteps, gradientSteps, rng) = (newValue.environmentSteps, newValue.gradientSteps, newValue.generator) }
    }
}
