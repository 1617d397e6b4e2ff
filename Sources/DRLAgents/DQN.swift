import DRLNN
import DRLTensor

/// Settings of `DQNAgent`. The defaults start from RL Baselines3 Zoo's CartPole settings (256-256
/// networks, bursts of 128 gradient steps every 256 environment steps, ε to 0.04 over 16% of the
/// run), which reach a greedy return of 500 within about 35k steps but do not stay there: over
/// 100k steps their evaluations fall from 500 to below 100 and back, and the last policy returned
/// 500 in 4 of 10 seeds. Three changes hold it: the learning rate decays linearly to 0 over the
/// run, the target refreshes every second burst (256 gradient steps), and γ is 0.98 (Q near 50
/// rather than 100, so the greedy action rests on a larger share of the value). With them the last
/// policy returned at least 475 in 8 of 10 seeds (docs/RESULTS.md), and learning takes longer:
/// the first 500 comes at 30k to 85k steps. Spreading updates over every step with a target
/// refreshed every 10 gradient steps diverged (Q past 10⁸ in 2,000 steps); with single steps, a
/// 500-step refresh interval is stable.
public struct DQNConfiguration: Sendable {
    public var hiddenSizes = [256, 256]
    public var learningRate: Float = 2.3e-3
    public var batchSize = 64
    public var gamma: Float = 0.98
    public var bufferCapacity = 100_000
    /// Environment steps before learning starts (the buffer fills with random actions).
    public var learningStarts = 1_000
    /// Every `trainFrequency` environment steps, take `gradientSteps` gradient steps (1 and 1: one
    /// step each; 256 and 128: RL Baselines3 Zoo's bursts for CartPole).
    public var trainFrequency = 256
    public var gradientSteps = 128
    /// Hard target update every this many gradient steps (when `polyakTau` is nil).
    public var targetUpdateInterval = 256
    /// Polyak averaging factor per gradient step instead of hard updates.
    public var polyakTau: Float? = nil
    public var double = true
    public var dueling = true
    public var nSteps = 1
    public var prioritized = false
    public var priorityAlpha: Float = 0.6
    /// Importance-sampling exponent, annealed from this to 1 over `totalSteps`.
    public var priorityBeta: Float = 0.4
    /// ε-greedy exploration: linear from `epsilonStart` to `epsilonEnd` over `explorationFraction`
    /// of `totalSteps`.
    public var epsilonStart: Float = 1, epsilonEnd: Float = 0.04, explorationFraction: Float = 0.16
    public var totalSteps = 50_000
    public var huberDelta: Float = 1
    public var maxGradientNorm: Float = 10
    /// The learning rate at `totalSteps`, reached linearly from `learningRate` (nil: constant).
    public var finalLearningRate: Float? = 0

    public init() {}

    /// The learning rate over environment steps.
    public var learningRateSchedule: LearningRateSchedule {
        finalLearningRate.map { .linear(start: learningRate, end: $0, totalSteps: totalSteps) } ?? .constant(learningRate)
    }

    /// ε at environment step `step`.
    public func epsilon(at step: Int) -> Float {
        let span = max(1, Int(explorationFraction * Float(totalSteps)))
        if step >= span { return epsilonEnd }
        return epsilonStart + (epsilonEnd - epsilonStart) * Float(step) / Float(span)
    }
}

/// Deep Q-learning (Mnih et al.) with a target network, Double DQN targets (van Hasselt et al.),
/// a dueling head, n-step returns, prioritised replay, ε-greedy exploration, Huber loss and
/// gradient clipping, for discrete actions.
public final class DQNAgent {
    public let configuration: DQNConfiguration
    public let observationDimension: Int, actions: Int
    public let online: Sequential, target: Sequential
    public let onlineStore: ParameterStore, targetStore: ParameterStore
    public let optimizer: Adam
    public private(set) var environmentSteps = 0, gradientSteps = 0
    /// The Huber TD loss of the last gradient step.
    public private(set) var lastLoss: Float?
    private var rng: RandomGenerator
    private let replay: Replay
    private let batch: TransitionBatch
    /// Turns the collected one-step transitions into the configured n-step ones.
    private let accumulator: NStepAccumulator
    private let loss: HuberLoss
    private var predicted: Tensor, targets: Tensor, tdErrors: Tensor, dq: Tensor, actionBuffer: Tensor
    private var nextGreedy: [Int32]
    /// The action of a single-observation `act` call.
    private var singleAction: [Int32] = [0]

    /// The replay, sampled uniformly or by priority: one storage whichever it is.
    enum Replay {
        case uniform(ReplayBuffer)
        case prioritized(PrioritizedReplayBuffer)

        /// The stored transitions.
        var transitions: ReplayBuffer {
            switch self {
            case .uniform(let buffer): return buffer
            case .prioritized(let buffer): return buffer.buffer
            }
        }

        func add(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, done: Bool, discount: Float) {
            switch self {
            case .uniform(let buffer):
                buffer.add(observation: observation, action: action, reward: reward, nextObservation: nextObservation, done: done, discount: discount)
            case .prioritized(let buffer):
                buffer.add(observation: observation, action: action, reward: reward, nextObservation: nextObservation, done: done, discount: discount)
            }
        }
    }

    public init(observationDimension: Int, actions: Int, configuration: DQNConfiguration = DQNConfiguration(), seed: UInt64) {
        require(observationDimension > 0 && actions > 1, "DQNAgent needs observations and at least two actions")
        self.configuration = configuration
        self.observationDimension = observationDimension
        self.actions = actions
        rng = RandomGenerator(seed: seed, stream: 0xD0)
        func network(_ rng: inout RandomGenerator) -> Sequential {
            let sizes = [observationDimension] + configuration.hiddenSizes
            var layers: [Layer] = []
            for i in 0..<(sizes.count - 1) {
                layers.append(Linear(sizes[i], sizes[i + 1], using: &rng))
                layers.append(ActivationLayer(.relu))
            }
            if configuration.dueling {
                layers.append(DuelingHead(features: sizes.last!, actions: actions, using: &rng))
            } else {
                layers.append(Linear(sizes.last!, actions, using: &rng))
            }
            return Sequential(layers, computesInputGradient: false)
        }
        var init1 = RandomGenerator(seed: seed, stream: 1)
        online = network(&init1)
        var init2 = RandomGenerator(seed: seed, stream: 1)
        target = network(&init2)
        onlineStore = ParameterStore(online)
        targetStore = ParameterStore(target)
        targetStore.copyValues(from: onlineStore)
        optimizer = Adam(onlineStore, learningRate: configuration.learningRate)
        replay = configuration.prioritized
            ? .prioritized(PrioritizedReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension,
                                                   alpha: configuration.priorityAlpha))
            : .uniform(ReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension))
        accumulator = NStepAccumulator(steps: configuration.nSteps, gamma: configuration.gamma, observationDimension: observationDimension)
        batch = TransitionBatch(size: configuration.batchSize, observationDimension: observationDimension)
        loss = HuberLoss(delta: configuration.huberDelta)
        predicted = Tensor(workspace: Shape(configuration.batchSize))
        targets = Tensor(workspace: Shape(configuration.batchSize))
        tdErrors = Tensor(workspace: Shape(configuration.batchSize))
        dq = Tensor(workspace: Shape(configuration.batchSize, actions))
        actionBuffer = Tensor(workspace: Shape(1))
        nextGreedy = Array(repeating: 0, count: configuration.batchSize)
    }

    /// An agent for an environment's spaces: `actionSpace` must be discrete.
    public convenience init(observationSpace: Space, actionSpace: Space, configuration: DQNConfiguration = DQNConfiguration(),
                            seed: UInt64) {
        self.init(observationDimension: observationSpace.dimension, actions: actionSpace.discreteActionCount(for: "DQNAgent"),
                  configuration: configuration, seed: seed)
    }

    /// Actions for a batch of observations [n, dimension] into `chosen` (n entries): greedy in Q,
    /// or, exploring, ε-greedy with ε of the current environment step.
    public func act(_ observations: Tensor, mode: ActionMode, into chosen: inout [Int32]) {
        let q = online.forward(observations)
        rowArgmax(q, into: &chosen)
        let epsilon = mode == .explore ? configuration.epsilon(at: environmentSteps) : 0
        guard epsilon > 0 else { return }
        for i in chosen.indices where rng.uniform() < epsilon { chosen[i] = Int32(rng.nextIndex(below: actions)) }
    }

    /// Stores the step through the n-step accumulator, which hands the replay every transition it
    /// completes.
    public func store(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool) {
        guard case .discrete(let index) = action else { requirementFailure("DQNAgent stores .discrete actions, got \(action)") }
        actionBuffer[flat: 0] = Float(index)
        accumulator.add(observation: observation, action: actionBuffer, reward: reward, nextObservation: nextObservation,
                        terminated: terminated, truncated: truncated) { o, a, r, next, done, discount in
            replay.add(observation: o, action: a, reward: r, nextObservation: next, done: done, discount: discount)
        }
        environmentSteps += 1
    }

    /// One gradient step on a sampled batch.
    public func trainStep() throws(NonFiniteError) {
        let b = configuration.batchSize
        switch replay {
        case .uniform(let buffer):
            buffer.sample(into: batch, using: &rng)
        case .prioritized(let buffer):
            let progress = min(Float(environmentSteps) / Float(max(configuration.totalSteps, 1)), 1)
            buffer.sample(into: batch, beta: configuration.priorityBeta + (1 - configuration.priorityBeta) * progress, using: &rng)
        }
        qLearningTargets(online: online, target: target, batch: batch, double: configuration.double, greedy: &nextGreedy, into: &targets)
        onlineStore.zeroGradients()
        let q = online.forward(batch.observations)
        for i in 0..<b { predicted[flat: i] = q[i, Int(batch.actions[i, 0])] }
        let value = loss(predicted, targets, weights: configuration.prioritized ? batch.weights : nil)
        if !value.isFinite { throw NonFiniteError(quantity: "loss", parameter: "Huber TD loss", element: gradientSteps, value: value) }
        dq.fill(with: 0)
        for i in 0..<b { dq[i, Int(batch.actions[i, 0])] = loss.gradient[flat: i] }
        online.backwardFromLoss(dq)
        onlineStore.clipGradientNorm(configuration.maxGradientNorm)
        optimizer.learningRate = configuration.learningRateSchedule.learningRate(at: environmentSteps)
        try optimizer.update()
        if case .prioritized(let buffer) = replay {
            subtract(predicted, targets, into: &tdErrors)
            buffer.updatePriorities(indices: batch.indices, tdErrors: tdErrors)
        }
        gradientSteps += 1
        lastLoss = value
        if let tau = configuration.polyakTau {
            targetStore.polyakUpdate(from: onlineStore, tau: tau)
        } else if gradientSteps % configuration.targetUpdateInterval == 0 {
            targetStore.copyValues(from: onlineStore)
        }
    }
}

extension DQNAgent: OffPolicyAgent {
    public var actionSpace: Space { .discrete(actions) }
    public var storedTransitions: Int { replay.transitions.count }

    public var updateSchedule: UpdateSchedule {
        UpdateSchedule(learningStarts: configuration.learningStarts, trainFrequency: configuration.trainFrequency,
                       gradientSteps: configuration.gradientSteps)
    }

    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        act(observation.reshaped(Shape(1, observationDimension)), mode: mode, into: &singleAction)
        return .discrete(Int(singleAction[0]))
    }
}

/// A DQN checkpoint holds the online and target networks, Adam's state, the counters, the
/// generator, the replay buffer (with its priorities when prioritized) and the transitions pending
/// in the n-step accumulator.
extension DQNAgent: CheckpointedAgent {
    static let nStepKey = "drlrec.dqn.nstep"
    static let maxPriorityBaseKey = "drlrec.dqn.max_priority_base"

    public var checkpointKind: String { "dqn" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }

    public var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "online.", store: onlineStore, optimizer: optimizer),
         CheckpointPart(prefix: "target.", store: targetStore)]
    }

    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }
    public var checkpointReplay: ReplayBuffer? { replay.transitions }

    public var checkpointTensors: [(name: String, tensor: Tensor)] {
        guard case .prioritized(let buffer) = replay else { return [] }
        return buffer.checkpointTensors.map { (name: "replay." + $0.name, tensor: $0.tensor) }
    }

    public var checkpointMetadata: [String: String] {
        var metadata = [Self.nStepKey: accumulator.stateDescription]
        if case .prioritized(let buffer) = replay { metadata[Self.maxPriorityBaseKey] = FloatText.encode([buffer.checkpointMaxBase]) }
        return metadata
    }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: environmentSteps, gradientSteps: gradientSteps, generator: rng) }
        set { (environmentSteps, gradientSteps, rng) = (newValue.environmentSteps, newValue.gradientSteps, newValue.generator) }
    }

    /// Reads the pending n-step transitions (none in a file of an agent that had not stepped; files
    /// of the former multi-environment agent hold one state per environment and load when they
    /// hold one) and, for a prioritized replay, the largest priority's base.
    public func restoration(ofCheckpointMetadata metadata: [String: String], path: String) throws(CheckpointError) -> () -> Void {
        func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
        let text = metadata[Self.nStepKey] ?? ""
        let pending = text.isEmpty ? [] : text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard pending.count <= 1 else {
            throw refuse("metadata '\(Self.nStepKey)' holds the pending transitions of \(pending.count) environments; the agent collects from one")
        }
        let probe = NStepAccumulator(steps: configuration.nSteps, gamma: configuration.gamma, observationDimension: observationDimension)
        let state = pending.first ?? probe.stateDescription
        guard probe.restore(stateDescription: state) else {
            throw refuse("metadata '\(Self.nStepKey)' does not fit \(configuration.nSteps)-step returns of \(observationDimension)-dimensional observations")
        }
        var maxBase: Float = 1
        if case .prioritized = replay {
            guard let values = metadata[Self.maxPriorityBaseKey].flatMap(FloatText.decode), values.count == 1,
                  values[0].isFinite, values[0] > 0 else {
                throw refuse("metadata '\(Self.maxPriorityBaseKey)' is missing or not a positive number: the file is not from a prioritized-replay agent")
            }
            maxBase = values[0]
        }
        return { [accumulator, replay] in
            _ = accumulator.restore(stateDescription: state)
            if case .prioritized(let buffer) = replay { buffer.restorePriorities(maxBase: maxBase) }
        }
    }
}
