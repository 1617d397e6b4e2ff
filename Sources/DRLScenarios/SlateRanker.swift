import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor

/// The list-wise ranker of the slate scenarios (e-commerce, video feed) as `drlrec train` builds
/// it, so that a checkpoint loads into exactly the agent that wrote it: SAC or TD3 with 64-64
/// networks whose action is the ranking weights of a `WeightedSlateBuilder` (4, one more where the
/// platform has a quality signal, one more with a collaborative model).
public enum SlateRanker {
    /// The agents that rank slates.
    public static let kinds = ["sac", "td3"]

    /// Interactions the sequence observation keeps when a state encoder reads it.
    public static let historyTokens = 10

    /// The discount of each scenario: on e-commerce γ = 0.9 did better than 0.97 over 20k steps
    /// (return 51.6 against 48.0 on 400 users); the video feed's sessions are longer and its
    /// retention plays out over days, so it looks further ahead.
    public static func gamma(for scenario: Scenario) -> Float { scenario == .video ? 0.97 : 0.9 }

    /// The ranker's hyperparameters as the recipe sets them: 64-64 networks, the scenario's γ,
    /// 1,000 transitions before learning starts, the rest the agent's defaults.
    public static func sacConfiguration(gamma: Float) -> SACConfiguration {
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [64, 64]
        configuration.gamma = gamma
        configuration.learningStarts = 1_000
        return configuration
    }

    /// As `sacConfiguration(gamma:)`, for TD3.
    public static func td3Configuration(gamma: Float) -> TD3Configuration {
        var configuration = TD3Configuration()
        configuration.hiddenSizes = [64, 64]
        configuration.gamma = gamma
        configuration.learningStarts = 1_000
        return configuration
    }

    /// The ranker of `kind` ("sac" or "td3") for `environment`'s observations and `builder`'s
    /// action; with `stateEncoder`, SAC reads the e-commerce sequence observation through a state
    /// encoder of that sequence model trained end to end. `hyperparameters` (a configuration
    /// file's text, errors naming `origin`) are set over the recipe's; `actingOnly` builds an
    /// agent that will only act (a one-slot replay: serving and simulation need none).
    public static func agent(_ kind: String, for environment: RecommendationEnvironment, builder: WeightedSlateBuilder, gamma: Float,
                             stateEncoder: SequenceStateEncoder.Configuration.SequenceModel? = nil,
                             hyperparameters: (text: String, origin: String)? = nil, actingOnly: Bool = false, seed: UInt64)
        throws(ConfigurationFileError) -> ContinuousControlAgent {
        require(kinds.contains(kind), "SlateRanker.agent: '\(kind)' is not a ranker; the kinds are \(kinds)")
        let observationDimension = environment.observationSpace.dimension
        let dimension = builder.actionDimension
        let low = [Float](repeating: -1, count: dimension), high = [Float](repeating: 1, count: low.count)
        if kind == "td3" {
            require(stateEncoder == nil, "SlateRanker.agent: a state encoder is trained with SAC only")
            var configuration = td3Configuration(gamma: gamma)
            if let hyperparameters { try ConfigurationFile.load(text: hyperparameters.text, origin: hyperparameters.origin, into: &configuration) }
            if actingOnly { configuration.bufferCapacity = 1 }
            return TD3Agent(observationDimension: observationDimension, actionLow: low, actionHigh: high, configuration: configuration, seed: seed)
        }
        var configuration = sacConfiguration(gamma: gamma)
        if let hyperparameters { try ConfigurationFile.load(text: hyperparameters.text, origin: hyperparameters.origin, into: &configuration) }
        if actingOnly { configuration.bufferCapacity = 1 }
        return SACAgent(observationDimension: observationDimension, actionLow: low, actionHigh: high, configuration: configuration,
                        encoder: stateEncoder.map { observationEncoder(for: environment, model: $0) }, seed: seed)
    }

    /// The ranker's state encoder (32-dimensional tokens, a 64-wide state) for a simulator whose
    /// observation is a sequence.
    public static func observationEncoder(for environment: RecommendationEnvironment, model: SequenceStateEncoder.Configuration.SequenceModel)
        -> ObservationEncoder {
        guard var layout = (environment as? EcommerceSimulator)?.stateEncoderLayout else {
            requirementFailure("SlateRanker: a state encoder needs the e-commerce simulator's sequence observation (history_tokens > 0)")
        }
        layout.sequenceModel = model
        return ObservationEncoder(featureDimension: layout.outputDimension) { SequenceStateEncoder(layout, using: &$0) }
    }
}
