import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of `SACAgent` (continuous actions). The defaults follow RL Baselines3 Zoo's Pendulum
/// settings: 256-256 networks, lr 1e-3, batch 256, τ = 0.005, automatic temperature.
public struct SACConfiguration: Sendable {
    public var hiddenSizes = [256, 256]
    public var learningRate: Float = 1e-3
    public var batchSize = 256
    public var gamma: Float = 0.99
    public var tau: Float = 0.005
    public var bufferCapacity = 100_000
    public var learningStarts = 100
    public var gradientSteps = 1
    public var initialTemperature: Float = 1
    /// Target entropy; nil means −(action dimension), as usual.
    public var targetEntropy: Float? = nil

    public init() {}
}

/// A state encoder in front of an agent's networks: how to build it (the agent builds an online
/// and a target copy) and the width of the features it produces.
public struct ObservationEncoder {
    public let featureDimension: Int
    public let make: (inout RandomGenerator) -> Layer

    public init(featureDimension: Int, make: @escaping (inout RandomGenerator) -> Layer) {
        self.featureDimension = featureDimension
        self.make = make
    }
}

/// Soft Actor-Critic (Haarnoja et al.) for box actions: a tanh-squashed Gaussian policy, twin
/// critics with Polyak-averaged targets, and automatic temperature tuning. The actor's gradient goes
/// through the critics' input gradient and the reparameterised, squashed sample, all by hand.
///
/// With an `ObservationEncoder`, actor and critics read the encoded state instead of the raw
/// observation, and the encoder trains end to end with the critics (its parameters are part of
/// the critic store, its target copy is Polyak-averaged with the target critics); the actor uses
/// the features without sending a gradient into them, as in SAC-AE (Yarats et al.). The encoder is
/// in training mode (say, for running normalisation) only for the critics' replayed batch, so
/// acting and evaluating leave it unchanged.
public final class SACAgent {
    public let configuration: SACConfiguration
    public let observationDimension: Int, actionDimension: Int
    /// The state encoder and its target copy, when the agent has one.
    public let encoder: Layer?, targetEncoder: Layer?
    /// Width of what actor and critics read: the encoder's features, or the observation.
    public let featureDimension: Int
    public let actorTrunk: Sequential, meanHead: Linear, logStdHead: Linear
    public let critic1: Sequential, critic2: Sequential, target1: Sequential, target2: Sequential
    public let actorStore: ParameterStore, criticStore: ParameterStore, targetStore: ParameterStore
    public let logTemperature: Parameter
    public private(set) var environmentSteps = 0, gradientSteps = 0
    /// The critics' regression loss (½ Σ mean squared error over both) of the last update.
    public private(set) var lastCriticLoss: Float?
    private let actorOptimizer: Adam, criticOptimizer: Adam, temperatureOptimizer: Adam
    private let temperatureStore: ParameterStore
    private let low: [Float], high: [Float]
    private var rng: RandomGenerator
    private let replay: ReplayBuffer
    private let batch: TransitionBatch
    private let targetEntropy: Float
    // Workspace for one update, sized for the batch.
    private var noise: Tensor, preSquash: Tensor, squashed: Tensor, actions: Tensor, logProbability: Tensor
    private var standardDeviation: Tensor, logStdClamped: [Bool]
    private var criticInput: Tensor, targets: Tensor, dq: Tensor, dMean: Tensor, dLogStd: Tensor, dTrunk: Tensor, dFeatures: Tensor
    private var firstCriticIsMin: [Bool]
    private var actionBuffer: Tensor
    static let logStdRange: ClosedRange<Float> = -20...2

    public init(observationDimension: Int, actionLow: [Float], actionHigh: [Float],
                configuration: SACConfiguration = SACConfiguration(), encoder: ObservationEncoder? = nil, seed: UInt64) {
        require(observationDimension > 0 && !actionLow.isEmpty && actionLow.count == actionHigh.count
                && zip(actionLow, actionHigh).allSatisfy { $0 < $1 && $0.isFinite && $1.isFinite },
                "SACAgent needs a bounded box action space; got low \(actionLow), high \(actionHigh)")
        self.configuration = configuration
        self.observationDimension = observationDimension
        actionDimension = actionLow.count
        low = actionLow
        high = actionHigh
        rng = RandomGenerator(seed: seed, stream: 0x5AC)
        var init1 = RandomGenerator(seed: seed, stream: 1)
        featureDimension = encoder?.featureDimension ?? observationDimension
        var encoderInit = RandomGenerator(seed: seed, stream: 2)
        self.encoder = encoder?.make(&encoderInit)
        targetEncoder = encoder?.make(&encoderInit)
        self.encoder?.isTraining = false
        targetEncoder?.isTraining = false
        let hidden = configuration.hiddenSizes
        var trunkLayers: [Layer] = []
        var width = featureDimension
        for h in hidden {
            trunkLayers.append(Linear(width, h, using: &init1))
            trunkLayers.append(ActivationLayer(.relu))
            width = h
        }
        actorTrunk = Sequential(trunkLayers, computesInputGradient: false)
        meanHead = Linear(width, actionDimension, using: &init1)
        logStdHead = Linear(width, actionDimension, using: &init1)
        let criticSizes = [featureDimension + actionDimension] + hidden + [1]
        critic1 = TwinCritics.multilayerPerceptron(criticSizes, inputGradient: true, using: &init1)
        critic2 = TwinCritics.multilayerPerceptron(criticSizes, inputGradient: true, using: &init1)
        var init2 = init1
        target1 = TwinCritics.multilayerPerceptron(criticSizes, inputGradient: false, using: &init2)
        target2 = TwinCritics.multilayerPerceptron(criticSizes, inputGradient: false, using: &init2)
        actorStore = ParameterStore(prefixedParameters([("trunk", actorTrunk), ("mean", meanHead), ("log_std", logStdHead)]))
        criticStore = ParameterStore(prefixedParameters([("q1", critic1), ("q2", critic2)] + (self.encoder.map { [("encoder", $0)] } ?? [])))
        targetStore = ParameterStore(prefixedParameters([("q1", target1), ("q2", target2)] + (targetEncoder.map { [("encoder", $0)] } ?? [])))
        targetStore.copyValues(from: criticStore)
        logTemperature = Parameter("log_alpha", shape: Shape(1))
        var logAlpha = logTemperature.value
        logAlpha[flat: 0] = logf(configuration.initialTemperature)
        temperatureStore = ParameterStore([("log_alpha", logTemperature)])
        actorOptimizer = Adam(actorStore, learningRate: configuration.learningRate)
        criticOptimizer = Adam(criticStore, learningRate: configuration.learningRate)
        temperatureOptimizer = Adam(temperatureStore, learningRate: configuration.learningRate)
        targetEntropy = configuration.targetEntropy ?? -Float(actionDimension)
        replay = ReplayBuffer(capacity: configuration.bufferCapacity, observationDimension: observationDimension,
                              actionDimension: actionDimension)
        let b = configuration.batchSize, a = actionDimension
        batch = TransitionBatch(size: b, observationDimension: observationDimension, actionDimension: a)
        noise = Tensor(workspace: Shape(b, a))
        preSquash = Tensor(workspace: Shape(b, a))
        squashed = Tensor(workspace: Shape(b, a))
        actions = Tensor(workspace: Shape(b, a))
        logProbability = Tensor(workspace: Shape(b))
        standardDeviation = Tensor(workspace: Shape(b, a))
        logStdClamped = Array(repeating: false, count: b * a)
        criticInput = Tensor(workspace: Shape(b, featureDimension + a))
        dFeatures = Tensor(workspace: Shape(b, featureDimension))
        targets = Tensor(workspace: Shape(b))
        dq = Tensor(workspace: Shape(b, 1))
        firstCriticIsMin = Array(repeating: false, count: b)
        dMean = Tensor(workspace: Shape(b, a))
        dLogStd = Tensor(workspace: Shape(b, a))
        dTrunk = Tensor(workspace: Shape(b, width))
        actionBuffer = Tensor(workspace: Shape(a))
    }

    /// An agent for an environment's spaces: `actionSpace` must be a bounded box.
    public convenience init(observationSpace: Space, actionSpace: Space, configuration: SACConfiguration = SACConfiguration(),
                            encoder: ObservationEncoder? = nil, seed: UInt64) {
        let (low, high) = actionSpace.boxBounds(for: "SACAgent")
        self.init(observationDimension: observationSpace.dimension, actionLow: low, actionHigh: high, configuration: configuration,
                  encoder: encoder, seed: seed)
    }

    public var temperature: Float { expf(logTemperature.value[flat: 0]) }

    /// What actor and critics read for `observations` [n, obs]: the encoded states, or the
    /// observations themselves without an encoder.
    private func features(_ observations: Tensor) -> Tensor { encoder?.forward(observations) ?? observations }

    /// Samples squashed actions for `features` [n, featureDimension] (rows 0..<n of the internal
    /// buffers): u = mean + std·ε, t = tanh(u), action = low + (t + 1)/2·(high − low); log π(action | s)
    /// per row. `deterministic` uses the mean (ε = 0).
    private func sampleActions(_ features: Tensor, deterministic: Bool) -> Int {
        let n = features.shape[0], a = actionDimension
        require(n <= configuration.batchSize, "SACAgent: \(n) observations exceed the batch size \(configuration.batchSize)")
        let trunk = actorTrunk.forward(features)
        let mean = meanHead.forward(trunk), logStdRaw = logStdHead.forward(trunk)
        require(mean.shape == Shape(n, a) && logStdRaw.shape == Shape(n, a), "SACAgent: heads gave \(mean.shape) and \(logStdRaw.shape) for [\(n), \(a)]")
        let halfLog2Pi: Float = 0.5 * logf(2 * .pi)
        // Raw pointers into the workspace buffers and a local generator: element subscripts on
        // stored properties cost an exclusivity check (and a uniqueness check) each.
        let noise = noise.workspaceBaseAddress, standardDeviation = standardDeviation.workspaceBaseAddress
        let preSquash = preSquash.workspaceBaseAddress, squashed = squashed.workspaceBaseAddress
        let actions = actions.workspaceBaseAddress, logProbability = logProbability.workspaceBaseAddress
        let low = low, high = high
        var rng = rng
        defer { self.rng = rng }
        mean.withUnsafeBufferPointer { mean in
            logStdRaw.withUnsafeBufferPointer { logStdRaw in
                logStdClamped.withUnsafeMutableBufferPointer { logStdClamped in
                    for i in 0..<n {
                        var total: Float = 0
                        for j in 0..<a {
                            let index = i * a + j, raw = logStdRaw[index]
                            let clamped = min(max(raw, Self.logStdRange.lowerBound), Self.logStdRange.upperBound)
                            logStdClamped[index] = clamped != raw
                            let std = expf(clamped)
                            let e: Float = deterministic ? 0 : rng.normal()
                            let u = mean[index] + std * e
                            let t = tanhf(u)
                            let halfRange = 0.5 * (high[j] - low[j])
                            noise[index] = e
                            standardDeviation[index] = std
                            preSquash[index] = u
                            squashed[index] = t
                            actions[index] = low[j] + (t + 1) * halfRange
                            // log N(u; mean, std) − log |d action / d u|, with log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)).
                            let softplus = max(-2 * u, 0) + log1pf(expf(-abs(2 * u)))
                            let logJacobian = logf(halfRange) + 2 * (logf(2) - u - softplus)
                            total += -0.5 * e * e - clamped - halfLog2Pi - logJacobian
                        }
                        logProbability[i] = total
                    }
                }
            }
        }
        return n
    }

    /// An action for one observation [obs]: sampled from the squashed Gaussian when exploring, its
    /// squashed mean when greedy.
    public func act(_ observation: Tensor, mode: ActionMode) -> Action {
        _ = sampleActions(features(observation.reshaped(Shape(1, observationDimension))), deterministic: mode == .greedy)
        for j in 0..<actionDimension { actionBuffer[flat: j] = actions[0, j] }
        return .continuous(actionBuffer)
    }

    /// Stores a one-step transition (a truncated step still bootstraps).
    public func store(observation: Tensor, action: Action, reward: Float, nextObservation: Tensor, terminated: Bool, truncated: Bool) {
        guard case .continuous(let values) = action else { requirementFailure("SACAgent stores .continuous actions, got \(action)") }
        store(observation: observation, action: values, reward: reward, nextObservation: nextObservation, terminated: terminated,
              discount: configuration.gamma)
    }

    public func store(observation: Tensor, action: Tensor, reward: Float, nextObservation: Tensor, terminated: Bool, discount: Float) {
        require(discount >= 0 && discount <= 1, "SACAgent: a transition's discount must be in [0, 1], got \(discount)")
        replay.add(observation: observation, action: action, reward: reward, nextObservation: nextObservation, done: terminated, discount: discount)
        environmentSteps += 1
    }

    public var discountFactor: Float { configuration.gamma }

    /// Adds −1/B · ∂Q/∂action of `critic` (from its last forward) to dMean for the rows where it is
    /// the smaller critic.
    private func accumulateActionGradient(_ critic: Sequential, whenFirstIsMin first: Bool) {
        let b = configuration.batchSize, o = featureDimension
        for i in 0..<b { dq[i, 0] = firstCriticIsMin[i] == first ? -1 / Float(b) : 0 }
        let dInput = critic.backward(dq)
        for i in 0..<b { for j in 0..<actionDimension { dMean[i, j] += dInput[i, o + j] } }
    }

    /// One update of the critics, the actor and the temperature, then the target critics.
    public func trainStep() throws(NonFiniteError) {
        let b = configuration.batchSize, a = actionDimension
        replay.sample(into: batch, using: &rng)
        let alpha = temperature
        // Targets: y = r + γ·(1 − done)·(min Q_target(s′, a′) − α·log π(a′ | s′)), a′ ~ π(· | s′).
        _ = sampleActions(features(batch.nextObservations), deterministic: false)
        TwinCritics.fillInput(&criticInput, observations: targetEncoder?.forward(batch.nextObservations) ?? batch.nextObservations,
                              actions: actions)
        let q1Next = target1.forward(criticInput), q2Next = target2.forward(criticInput)
        for i in 0..<b {
            let soft = min(q1Next[flat: i], q2Next[flat: i]) - alpha * logProbability[flat: i]
            targets[flat: i] = batch.rewards[flat: i] + batch.discounts[flat: i] * (1 - batch.dones[flat: i]) * soft
        }
        // Critics: loss ½Σₖ mean((Qₖ(s, a) − y)²).
        criticStore.zeroGradients()
        let criticLoss: Float
        if let encoder {
            // The critics' loss trains the encoder too: their gradients for the features go back through it.
            encoder.isTraining = true
            TwinCritics.fillInput(&criticInput, observations: encoder.forward(batch.observations), actions: batch.actions)
            encoder.isTraining = false
            dFeatures.fill(with: 0)
            criticLoss = TwinCritics.regress(critic1, input: criticInput, targets: targets, dq: &dq, accumulatingFeatureGradientInto: &dFeatures)
                + TwinCritics.regress(critic2, input: criticInput, targets: targets, dq: &dq, accumulatingFeatureGradientInto: &dFeatures)
            encoder.backwardParametersOnly(dFeatures)
        } else {
            TwinCritics.fillInput(&criticInput, observations: batch.observations, actions: batch.actions)
            criticLoss = TwinCritics.regress(critic1, input: criticInput, targets: targets, dq: &dq)
                + TwinCritics.regress(critic2, input: criticInput, targets: targets, dq: &dq)
        }
        try criticOptimizer.update()
        lastCriticLoss = criticLoss
        // Actor: loss mean(α·log π(ã | s) − min Q(s, ã)) through the reparameterised sample ã; the
        // gradient reaches ã through whichever critic is smaller for each row.
        actorStore.zeroGradients()
        let state = features(batch.observations)
        _ = sampleActions(state, deterministic: false)
        TwinCritics.fillInput(&criticInput, observations: state, actions: actions)
        let q1 = critic1.forward(criticInput), q2 = critic2.forward(criticInput)
        for i in 0..<b { firstCriticIsMin[i] = q1[flat: i] <= q2[flat: i] }
        dMean.fill(with: 0)
        accumulateActionGradient(critic1, whenFirstIsMin: true)
        accumulateActionGradient(critic2, whenFirstIsMin: false)
        let dLogProbability = alpha / Float(b)
        var entropyTerm: Float = 0
        for i in 0..<b {
            entropyTerm += logProbability[flat: i] + targetEntropy
            for j in 0..<a {
                let t = squashed[i, j], halfRange = 0.5 * (high[j] - low[j])
                // dL/du = dL/d action · halfRange·(1 − t²) + α/B · d log π/du, with d log π/du = 2t.
                let du = dMean[i, j] * halfRange * (1 - t * t) + dLogProbability * 2 * t
                dMean[i, j] = du
                // d u / d log std = std·ε; d log π / d log std also has the −1 of −log std.
                dLogStd[i, j] = logStdClamped[i * a + j] ? 0 : du * standardDeviation[i, j] * noise[i, j] - dLogProbability
            }
        }
        let fromMean = meanHead.backward(dMean)
        dTrunk.copy(from: fromMean)
        dTrunk += logStdHead.backward(dLogStd)
        actorTrunk.backwardParametersOnly(dTrunk)
        try actorOptimizer.update()
        // Temperature: loss −log α · mean(log π + target entropy).
        var dAlpha = logTemperature.gradient
        dAlpha[flat: 0] = -entropyTerm / Float(b)
        try temperatureOptimizer.update()
        targetStore.polyakUpdate(from: criticStore, tau: configuration.tau)
        gradientSteps += 1
    }
}

extension SACAgent: ContinuousControlAgent {
    public var actionSpace: Space { .box(low: low, high: high) }
    public var storedTransitions: Int { replay.count }
    public var lastLoss: Float? { lastCriticLoss }

    /// `gradientSteps` updates after every environment step.
    public var updateSchedule: UpdateSchedule {
        UpdateSchedule(learningStarts: configuration.learningStarts, gradientSteps: configuration.gradientSteps)
    }
}

/// A SAC checkpoint holds the actor, the critics and their targets (with the state encoder and
/// its target, when there is one), the temperature, the three Adam states, the counters, the
/// generator and the replay buffer.
extension SACAgent: CheckpointedAgent {
    public var checkpointKind: String { "sac" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }

    public var checkpointParts: [CheckpointPart] {
        [CheckpointPart(prefix: "actor.", store: actorStore, optimizer: actorOptimizer),
         CheckpointPart(prefix: "critic.", store: criticStore, optimizer: criticOptimizer),
         CheckpointPart(prefix: "target.", store: targetStore),
         CheckpointPart(prefix: "temperature.", store: temperatureStore, optimizer: temperatureOptimizer)]
    }

    /// The actor, and the state encoder it reads through (kept with the critics, which train it).
    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] {
        checkpointParts[0].parameterTensors + checkpointParts[1].parameterTensors.filter { $0.name.hasPrefix("critic.encoder.") }
    }
    public var checkpointReplay: ReplayBuffer? { replay }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: environmentSteps, gradientSteps: gradientSteps, generator: rng) }
        set { (environmentSteps, gradientSteps, rng) = (newValue.environmentSteps, newValue.gradientSteps, newValue.generator) }
    }
}
