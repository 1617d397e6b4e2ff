import DRLNN
import DRLTensor

// Every agent's hyperparameters as configuration-file keys (snake_case, as Stable-Baselines3 names
// them where it has the same setting): what `drlrec train --agent-config` and `--hyperparameter`
// set and what every checkpoint records (`CheckpointedAgent.checkpointHyperparameters`).

private let widths = 1...4_096, layers = 1...8
private let rate: ClosedRange<Float> = 1e-8...1, unit: ClosedRange<Float> = 0...1, positive: ClosedRange<Float> = 1e-6...1e6
private let transitions = 1...100_000_000
private let hiddenActivations: [Activation] = [.relu, .gelu, .tanh, .sigmoid, .softplus]

extension DQNConfiguration: FileConfigurable {
    /// `totalSteps` is the run's length, set from the run and not from the file.
    public static var fileKeys: [String: ConfigurationKey<DQNConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "learning_rate": .number(\.learningRate, rate),
         "final_learning_rate": .optionalNumber(\.finalLearningRate, 0...1), "batch_size": .integer(\.batchSize, 1...65_536),
         "gamma": .number(\.gamma, unit), "buffer_size": .integer(\.bufferCapacity, transitions),
         "learning_starts": .integer(\.learningStarts, 1...100_000_000), "train_freq": .integer(\.trainFrequency, 1...1_000_000),
         "gradient_steps": .integer(\.gradientSteps, 1...100_000), "target_update_interval": .integer(\.targetUpdateInterval, 1...100_000_000),
         "tau": .optionalNumber(\.polyakTau, 1e-6...1), "double_q": .flag(\.double), "dueling": .flag(\.dueling),
         "n_steps": .integer(\.nSteps, 1...100), "prioritized_replay": .flag(\.prioritized),
         "priority_alpha": .number(\.priorityAlpha, unit), "priority_beta": .number(\.priorityBeta, unit),
         "exploration_initial_eps": .number(\.epsilonStart, unit), "exploration_final_eps": .number(\.epsilonEnd, unit),
         "exploration_fraction": .number(\.explorationFraction, unit), "huber_delta": .number(\.huberDelta, positive),
         "max_grad_norm": .number(\.maxGradientNorm, positive)]
    }
}

extension SACConfiguration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<SACConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "learning_rate": .number(\.learningRate, rate),
         "batch_size": .integer(\.batchSize, 1...65_536), "gamma": .number(\.gamma, unit), "tau": .number(\.tau, unit),
         "buffer_size": .integer(\.bufferCapacity, transitions), "learning_starts": .integer(\.learningStarts, 1...100_000_000),
         "gradient_steps": .integer(\.gradientSteps, 1...100_000), "initial_temperature": .number(\.initialTemperature, positive),
         "target_entropy": .optionalNumber(\.targetEntropy, -1e6...1e6)]
    }
}

extension TD3Configuration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<TD3Configuration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "learning_rate": .number(\.learningRate, rate),
         "batch_size": .integer(\.batchSize, 1...65_536), "gamma": .number(\.gamma, unit), "tau": .number(\.tau, unit),
         "buffer_size": .integer(\.bufferCapacity, transitions), "learning_starts": .integer(\.learningStarts, 1...100_000_000),
         "policy_delay": .integer(\.policyDelay, 1...1_000), "target_policy_noise": .number(\.targetNoise, 0...100),
         "target_noise_clip": .number(\.targetNoiseClip, 0...100), "action_noise": .number(\.explorationNoise, 0...100)]
    }
}

extension DiscreteSACConfiguration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<DiscreteSACConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "learning_rate": .number(\.learningRate, rate),
         "batch_size": .integer(\.batchSize, 1...65_536), "gamma": .number(\.gamma, unit), "tau": .number(\.tau, unit),
         "buffer_size": .integer(\.bufferCapacity, transitions), "learning_starts": .integer(\.learningStarts, 1...100_000_000),
         "train_freq": .integer(\.trainFrequency, 1...1_000_000), "gradient_steps": .integer(\.gradientSteps, 1...100_000),
         "initial_temperature": .number(\.initialTemperature, positive), "target_entropy_ratio": .number(\.targetEntropyRatio, unit)]
    }

    public var contradiction: String? {
        targetEntropyRatio > 0 && targetEntropyRatio < 1 ? nil : "'target_entropy_ratio' must be strictly between 0 and 1, got \(targetEntropyRatio)"
    }
}

extension A2CConfiguration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<A2CConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "activation": .choice(\.activation, among: hiddenActivations),
         "n_steps": .integer(\.rolloutSteps, 1...100_000), "learning_rate": .number(\.learningRate, rate), "gamma": .number(\.gamma, unit),
         "gae_lambda": .number(\.gaeLambda, unit), "vf_coef": .number(\.valueCoefficient, 0...1_000),
         "ent_coef": .number(\.entropyCoefficient, 0...1_000), "max_grad_norm": .number(\.maxGradientNorm, positive),
         "normalize_advantage": .flag(\.normalizeAdvantages)]
    }
}

extension CQLConfiguration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<CQLConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "learning_rate": .number(\.learningRate, rate),
         "batch_size": .integer(\.batchSize, 1...65_536), "gamma": .number(\.gamma, unit),
         "conservative_weight": .number(\.conservativeWeight, 0...1e6), "tau": .number(\.tau, unit), "double_q": .flag(\.double),
         "huber_delta": .number(\.huberDelta, positive), "max_grad_norm": .number(\.maxGradientNorm, positive)]
    }
}

extension TopKReinforceConfiguration: FileConfigurable {
    /// `slateSize` must not exceed the catalogue, which the agent checks when it is built.
    public static var fileKeys: [String: ConfigurationKey<TopKReinforceConfiguration>] {
        ["hidden_sizes": .integers(\.hiddenSizes, widths, count: layers), "activation": .choice(\.activation, among: hiddenActivations),
         "learning_rate": .number(\.learningRate, rate), "slate_size": .integer(\.slateSize, 1...10_000),
         "weight_cap": .number(\.weightCap, positive), "off_policy_correction": .flag(\.offPolicyCorrection),
         "max_grad_norm": .number(\.maxGradientNorm, positive)]
    }
}
