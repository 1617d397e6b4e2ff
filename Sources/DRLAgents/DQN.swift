import DRLNN
import DRLTensor

/// Settings of `DQNAgent`. The defaults are RL Baselines3 Zoo's CartPole settings: 256-256
/// networks, bursts of 128 gradient steps every 256 environment steps, and a target refresh once
/// per burst. With these, every seed tried (0–3) reached a greedy return of 500 within 35k steps.
/// Spreading updates over every step with a target refreshed every 10 gradient steps diverged
/// (Q past 10⁸ in 2,000 steps); with single steps, a 500-step refresh interval is stable.
public struct DQNConfiguration: Sendable {
    public var hiddenSizes = [256, 256]
    public var learningRate: Float = 2.3e-3
    public var batchSize = 64
    public var gamma: Float = 0.99
    public var bufferCapacity = 100_000
    /// Environment steps before learning starts (the buffer fills with random actions).
    public var learningStarts = 1_000
    /// Every `trainFrequency` environment steps, take `gradientSteps` gradient steps (1 and 1: one
    /// step each; 256 and 128: RL Baselines3 Zoo's bursts for CartPole).
    public var trainFrequency = 256
    public var gradientSteps = 128
    /// Hard target update every this many gradient steps (when `polyakTau` is nil).
    public var targetUpdateInterval = 128
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

    public init() {}

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
    private var rng: RandomGenerator
    private let replay: ReplayBuffer?
    private let prioritizedReplay: PrioritizedReplayBuffer?
    private let batch: TransitionBatch
    private var accumulators: [NStepAccumulator] = []
    private let loss: HuberLoss
    private var predicted: Tensor, targets: Tensor, tdErrors: Tensor, dq: Tensor, actionBuffer: Tensor
    private var nextGreedy: [Int32]
    /// The action of a single-observation `act` call (the training loop's).
    var singleAction: [Int32] = [0]

    public init(observationDimension: Int, actions: Int, configuration: DQNConfiguration = DQNConfiguration(), seed: UInt64) {
        precondition(observationDimension > 0 && actions > 1, "DQNAgent needs observations and at least two actions")
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
        if configuration.prioritized {
            prioritizedReplay = PrioritizedReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension,
                                                        alpha: configuration.priorityAlpha)
            replay = nil
        } else {
            replay = ReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension)
            prioritizedReplay = nil
        }
        batch = TransitionBatch(size: configuration.batchSize, observationDimension: observationDimension)
        loss = HuberLoss(delta: configuration.huberDelta)
        predicted = Tensor(workspace: Shape(configuration.batchSize))
        targets = Tensor(workspace: Shape(configuration.batchSize))
        tdErrors = Tensor(workspace: Shape(configuration.batchSize))
        dq = Tensor(workspace: Shape(configuration.batchSize, actions))
        actionBuffer = Tensor(workspace: Shape(1))
        nextGreedy = Array(repeating: 0, count: configuration.batchSize)
    }

    /// ε-greedy actions for a batch of observations [n, dimension] into `actions` (n entries).
    public func act(_ observations: Tensor, epsilon: Float, into chosen: inout [Int32]) {
        let q = online.forward(observations)
        rowArgmax(q, into: &chosen)
        // Greedy calls (evaluation) leave the generator alone, so evaluating never changes training.
        guard epsilon > 0 else { return }
        for i in chosen.indices where rng.uniform() < epsilon { chosen[i] = Int32(rng.nextIndex(below: actions)) }
    }

    /// Records environment `environment`'s step (observation, action, reward, next observation,
    /// flags) and, once learning has started, takes the configured gradient steps. Returns the last
    /// loss, or nil when no step was taken.
    public func observe(environment: Int, observation: Tensor, action: Int, reward: Float, nextObservation: Tensor,
                        terminated: Bool, truncated: Bool) throws(NonFiniteError) -> Float? {
        while accumulators.count <= environment {
            accumulators.append(NStepAccumulator(steps: configuration.nSteps, gamma: configuration.gamma,
                                                 observationDimension: observationDimension))
        }
        actionBuffer[flat: 0] = Float(action)
        accumulators[environment].add(observation: observation, action: actionBuffer, reward: reward, nextObservation: nextObservation,
                                      terminated: terminated, truncated: truncated) { o, a, r, next, done, discount in
            if let prioritizedReplay {
                prioritizedReplay.add(observation: o, action: a, reward: r, nextObservation: next, done: done, discount: discount)
            } else {
                replay!.add(observation: o, action: a, reward: r, nextObservation: next, done: done, discount: discount)
            }
        }
        environmentSteps += 1
        // Learning waits for stored transitions, not steps, so that an agent restored from a
        // checkpoint (whose replay starts empty) refills it first.
        guard storedTransitions >= max(configuration.learningStarts, 1),
              environmentSteps % configuration.trainFrequency == 0 else { return nil }
        var last: Float? = nil
        for _ in 0..<configuration.gradientSteps { last = try trainStep() }
        return last
    }

    private var storedTransitions: Int { replay?.count ?? prioritizedReplay!.count }

    /// One gradient step on a sampled batch; returns the Huber loss.
    @discardableResult
    public func trainStep() throws(NonFiniteError) -> Float {
        let b = configuration.batchSize
        if let prioritizedReplay {
            let progress = min(Float(environmentSteps) / Float(max(configuration.totalSteps, 1)), 1)
            prioritizedReplay.sample(into: batch, beta: configuration.priorityBeta + (1 - configuration.priorityBeta) * progress, using: &rng)
        } else {
            replay!.sample(into: batch, using: &rng)
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
        try optimizer.update()
        if let prioritizedReplay {
            subtract(predicted, targets, into: &tdErrors)
            prioritizedReplay.updatePriorities(indices: batch.indices, tdErrors: tdErrors)
        }
        gradientSteps += 1
        if let tau = configuration.polyakTau {
            targetStore.polyakUpdate(from: onlineStore, tau: tau)
        } else if gradientSteps % configuration.targetUpdateInterval == 0 {
            targetStore.copyValues(from: onlineStore)
        }
        return value
    }
}

extension DQNAgent {
    static let nStepKey = "drlrec.dqn.nstep"
    static let maxPriorityBaseKey = "drlrec.dqn.max_priority_base"

    /// Saves the online and target networks, Adam's state, the counters, the generator, the replay
    /// buffer (with its priorities when prioritized) and transitions pending in the n-step
    /// accumulators (see `AgentCheckpoint`).
    public func save(to path: String, loop: TrainingLoopState? = nil) throws(CheckpointError) {
        var metadata = [Self.nStepKey: accumulators.map(\.stateDescription).joined(separator: ";")]
        if let prioritizedReplay { metadata[Self.maxPriorityBaseKey] = FloatText.encode([prioritizedReplay.checkpointMaxBase]) }
        try AgentCheckpoint.save(kind: "dqn", parts: checkpointParts, replay: replay ?? prioritizedReplay!.buffer,
                                 extra: priorityTensors, extraMetadata: metadata, counters: .init(
            environmentSteps: environmentSteps, gradientSteps: gradientSteps, generator: rng, loop: loop), to: path)
    }

    /// Restores a checkpoint written by `save` from an agent with the same sizes and replay kind.
    /// Returns the training loop's state when a loop wrote it (pass it to `train(…, resuming:)`).
    @discardableResult
    public func load(from path: String) throws(CheckpointError) -> TrainingLoopState? {
        var pending: [String] = [], maxBase: Float = 1
        let observationDimension = observationDimension, configuration = configuration, prioritized = prioritizedReplay != nil
        let counters = try AgentCheckpoint.load(kind: "dqn", parts: checkpointParts, replay: replay ?? prioritizedReplay!.buffer,
                                                extra: priorityTensors, from: path) { metadata throws(CheckpointError) in
            func refuse(_ detail: String) -> CheckpointError { CheckpointError(path: path, reason: .invalidHeader(detail)) }
            let text = metadata[Self.nStepKey] ?? ""
            pending = text.isEmpty ? [] : text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            let probe = NStepAccumulator(steps: configuration.nSteps, gamma: configuration.gamma, observationDimension: observationDimension)
            for (i, state) in pending.enumerated() where !probe.restore(stateDescription: state) {
                throw refuse("metadata '\(Self.nStepKey)': accumulator \(i) does not fit \(configuration.nSteps)-step returns of \(observationDimension)-dimensional observations")
            }
            if prioritized {
                guard let values = metadata[Self.maxPriorityBaseKey].flatMap(FloatText.decode), values.count == 1,
                      values[0].isFinite, values[0] > 0 else {
                    throw refuse("metadata '\(Self.maxPriorityBaseKey)' is missing or not a positive number: the file is not from a prioritized-replay agent")
                }
                maxBase = values[0]
            }
        }
        accumulators = pending.map { state in
            let accumulator = NStepAccumulator(steps: configuration.nSteps, gamma: configuration.gamma, observationDimension: observationDimension)
            _ = accumulator.restore(stateDescription: state)
            return accumulator
        }
        prioritizedReplay?.restorePriorities(maxBase: maxBase)
        (environmentSteps, gradientSteps, rng) = (counters.environmentSteps, counters.gradientSteps, counters.generator)
        return counters.loop
    }

    private var priorityTensors: [(name: String, tensor: Tensor)] {
        prioritizedReplay?.checkpointTensors.map { (name: "replay." + $0.name, tensor: $0.tensor) } ?? []
    }

    private var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "online.", store: onlineStore, optimizer: optimizer),
         CheckpointPart(prefix: "target.", store: targetStore)]
    }
}
