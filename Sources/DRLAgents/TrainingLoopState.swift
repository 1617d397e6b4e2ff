import DRLTensor

/// An environment whose complete state (dynamics, step count within the episode, generator) can be
/// written as text into a checkpoint and restored, so that a training run resumed in a new process
/// continues with exactly the numbers of an uninterrupted one.
public protocol ResumableEnvironment: Environment {
    var stateDescription: String { get }
    /// Restores a state written by `stateDescription`; false (and nothing changed) when the text
    /// is not a state of this environment.
    func restore(stateDescription: String) -> Bool
}

/// Where a training loop stood when it wrote a checkpoint: the environment copies' states and
/// current observations, the running returns of their episodes, the statistics of finished
/// training episodes and the loop's own exploration generator. It travels in the checkpoint's
/// metadata; `load` returns it, and passing it to `train(…, resuming:)` continues the run exactly.
public struct TrainingLoopState: Sendable {
    var environments: [String]
    var observations: [[Float]]
    var episodeReturns: [Float]
    var episodes: TrainingEpisodes
    var exploration: RandomGenerator?

    static let environmentsKey = "drlrec.loop.environments"
    static let observationsKey = "drlrec.loop.observations"
    static let episodeReturnsKey = "drlrec.loop.episode_returns"
    static let episodesKey = "drlrec.loop.training_episodes"
    static let explorationKey = "drlrec.loop.exploration"

    /// The metadata entries that describe this state.
    var metadata: [String: String] {
        var entries = [
            Self.environmentsKey: environments.joined(separator: ";"),
            Self.observationsKey: observations.map(FloatText.encode).joined(separator: ";"),
            Self.episodeReturnsKey: FloatText.encode(episodeReturns),
            Self.episodesKey: episodes.stateDescription,
        ]
        if let exploration { entries[Self.explorationKey] = exploration.stateDescription }
        return entries
    }

    /// The state in `metadata`, nil when the checkpoint was written outside a training loop.
    /// Throws a description of the first malformed entry.
    init?(metadata: [String: String]) throws(LoopStateError) {
        guard let environmentText = metadata[Self.environmentsKey] else { return nil }
        environments = environmentText.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard let observationText = metadata[Self.observationsKey],
              let observations = Optional(observationText.split(separator: ";", omittingEmptySubsequences: false).map { FloatText.decode(String($0)) }),
              observations.count == environments.count, observations.allSatisfy({ $0 != nil }) else {
            throw LoopStateError("'\(Self.observationsKey)' is missing or does not hold one observation per environment")
        }
        self.observations = observations.map { $0! }
        // A saved state is resumed as it is: a non-finite value would be trained on or trap the environment.
        guard self.observations.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw LoopStateError("'\(Self.observationsKey)' holds a value that is NaN or infinite")
        }
        guard let returns = metadata[Self.episodeReturnsKey].flatMap(FloatText.decode), returns.count == environments.count else {
            throw LoopStateError("'\(Self.episodeReturnsKey)' is missing or does not hold one return per environment")
        }
        guard returns.allSatisfy(\.isFinite) else { throw LoopStateError("'\(Self.episodeReturnsKey)' holds a value that is NaN or infinite") }
        episodeReturns = returns
        guard let episodes = metadata[Self.episodesKey].flatMap(TrainingEpisodes.init(stateDescription:)) else {
            throw LoopStateError("'\(Self.episodesKey)' is missing or malformed")
        }
        self.episodes = episodes
        if let text = metadata[Self.explorationKey] {
            guard let generator = RandomGenerator(stateDescription: text) else {
                throw LoopStateError("'\(Self.explorationKey)' is not a generator state")
            }
            exploration = generator
        }
    }

    init(environments: [String], observations: [[Float]], episodeReturns: [Float], episodes: TrainingEpisodes,
         exploration: RandomGenerator?) {
        self.environments = environments
        self.observations = observations
        self.episodeReturns = episodeReturns
        self.episodes = episodes
        self.exploration = exploration
    }

    /// Restores environment `index` and writes its saved observation into `observation`; throws
    /// when the environment cannot take the saved state.
    func restore(_ environment: Environment, index: Int, observation: inout Tensor) throws(TrainingError) {
        guard let resumable = environment as? ResumableEnvironment else {
            throw .resume("the environment \(type(of: environment)) cannot restore a saved state (it is not a ResumableEnvironment)")
        }
        guard index < environments.count, resumable.restore(stateDescription: environments[index]) else {
            throw .resume("environment \(index) (\(type(of: environment))) does not accept the saved state '\(index < environments.count ? environments[index] : "none")'")
        }
        guard observations[index].count == observation.count else {
            throw .resume("the saved observation of environment \(index) has \(observations[index].count) elements; the environment's have \(observation.count)")
        }
        for (i, value) in observations[index].enumerated() { observation[flat: i] = value }
    }

    /// The state of a single-environment loop.
    static func capture(_ environment: Environment, observation: Tensor, episodes: TrainingEpisodes,
                        exploration: RandomGenerator?) -> TrainingLoopState? {
        guard let resumable = environment as? ResumableEnvironment else { return nil }
        return TrainingLoopState(environments: [resumable.stateDescription], observations: [observation.scalars],
                                 episodeReturns: [episodes.current], episodes: episodes, exploration: exploration)
    }
}

/// A malformed training-loop entry in a checkpoint's metadata.
struct LoopStateError: Error {
    let detail: String
    init(_ detail: String) { self.detail = detail }
}

/// Exact text for Floats: each value as its bit pattern in hexadecimal, comma-separated.
enum FloatText {
    static func encode(_ values: [Float]) -> String { values.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }

    static func decode(_ text: String) -> [Float]? {
        if text.isEmpty { return [] }
        var values: [Float] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let bits = UInt32(field, radix: 16) else { return nil }
            values.append(Float(bitPattern: bits))
        }
        return values
    }
}
