import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor
import ArgumentParser
import Foundation

extension SequenceStateEncoder.Configuration.SequenceModel: ExpressibleByArgument {}

/// The slate scenarios (e-commerce, video feed) as `drlrec train` and `drlrec abtest` build them,
/// so that a trained checkpoint loads into exactly the agent that wrote it.
enum EcommerceSetup {
    /// Where `drlrec train --env ecommerce` saves by default, and where `drlrec abtest` looks.
    static let defaultCheckpoint = ".drlrec/ecommerce.safetensors"
    static let videoCheckpoint = ".drlrec/video.safetensors"
    /// Training steps: 40k on e-commerce (20k left low-frequency users' conversion level with
    /// LinUCB's; 40k raised it), 20k on the video feed.
    static let defaultSteps = 40_000, videoSteps = 20_000

    /// The discount of each scenario: on e-commerce γ = 0.9 did better than 0.97 over 20k steps
    /// (return 51.6 against 48.0 on 400 users); the video feed's sessions are longer and its
    /// retention plays out over days, so it looks further ahead.
    static func gamma(video: Bool) -> Float { video ? 0.97 : 0.9 }

    /// The platform's existing users, whose logged clicks train the collaborative model (ALS) the
    /// e-commerce ranker and the als baseline use: a fixed population, so that `drlrec train` and
    /// `drlrec abtest` rebuild the same model.
    static let existingUsers = 3_000
    static let existingUsersSeed: UInt64 = 1 << 42

    /// The list-wise actor: SAC or TD3 with 64-64 networks whose action is the ranking weights of
    /// `builder` (4, one more where the platform has a quality signal, one more with a
    /// collaborative model).
    static func agent(_ kind: String, for environment: RecommendationEnvironment, builder: WeightedSlateBuilder, gamma: Float,
                      stateEncoder: SequenceStateEncoder.Configuration.SequenceModel? = nil, seed: UInt64) -> ContinuousControlAgent {
        let observationDimension = environment.observationSpace.dimension
        let dimension = builder.actionDimension
        let low = [Float](repeating: -1, count: dimension), high = [Float](repeating: 1, count: low.count)
        if kind == "td3" {
            var configuration = TD3Configuration()
            configuration.hiddenSizes = [64, 64]
            configuration.gamma = gamma
            configuration.learningStarts = 1_000
            return TD3Agent(observationDimension: observationDimension, actionLow: low, actionHigh: high, configuration: configuration, seed: seed)
        }
        var configuration = SACConfiguration()
        configuration.hiddenSizes = [64, 64]
        configuration.gamma = gamma
        configuration.learningStarts = 1_000
        return SACAgent(observationDimension: observationDimension, actionLow: low, actionHigh: high, configuration: configuration,
                        encoder: stateEncoder.map { observationEncoder(for: environment, model: $0) }, seed: seed)
    }

    /// Interactions the sequence observation keeps when a state encoder reads it.
    static let historyTokens = 10

    /// The ranker's state encoder (32-dimensional tokens, a 64-wide state) for a simulator whose
    /// observation is a sequence.
    static func observationEncoder(for environment: RecommendationEnvironment, model: SequenceStateEncoder.Configuration.SequenceModel)
        -> ObservationEncoder {
        guard var layout = (environment as? EcommerceSimulator)?.stateEncoderLayout else {
            requirementFailure("EcommerceSetup: a state encoder needs the e-commerce simulator's sequence observation (history_tokens > 0)")
        }
        layout.sequenceModel = model
        return ObservationEncoder(featureDimension: layout.outputDimension) { SequenceStateEncoder(layout, using: &$0) }
    }

    /// The state encoder of a checkpoint's agent, from its tensors' names and shapes: the sequence
    /// model and the history length (nil when the agent reads the summary observation).
    static func stateEncoder(of tensors: [(name: String, shape: [Int])]) -> (model: SequenceStateEncoder.Configuration.SequenceModel, history: Int)? {
        guard let positions = tensors.first(where: { $0.name == "critic.encoder.position.weight" }) else { return nil }
        let names = tensors.map(\.name)
        let model: SequenceStateEncoder.Configuration.SequenceModel =
            names.contains { $0.hasPrefix("critic.encoder.sequence.attention.") } ? .attention
            : names.contains("critic.encoder.sequence.weight_ih_l0") ? .gru : .convolution
        return (model, positions.shape[0])
    }

    /// Creates the directory of `path` when missing (for the default checkpoint location).
    static func ensureDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
}
