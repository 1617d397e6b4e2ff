import DRLAgents
import DRLNN
import DRLSimulation

/// The education scenario's tutor as `drlrec train` builds it: the two-path actor-critic, A2C
/// over `learners` learners at once with a difficulty head and a content-type head on one trunk;
/// γ = 0.97 and an entropy bonus of 0.01 (so that both heads keep exploring while mastery builds up).
public enum Tutor {
    /// The agent kind a tutor checkpoint holds.
    public static let kind = "a2c"
    /// Learners trained at once.
    public static let learners = 8

    /// The tutor's hyperparameters as the recipe sets them (see the type).
    public static var a2cConfiguration: A2CConfiguration {
        var settings = A2CConfiguration()
        settings.gamma = 0.97
        settings.entropyCoefficient = 0.01
        return settings
    }

    /// The tutor for the simulator's settings; `hyperparameters` (a configuration file's text,
    /// errors naming `origin`) are set over the recipe's.
    public static func agent(observationDimension: Int, configuration: EducationConfiguration,
                             hyperparameters: (text: String, origin: String)? = nil, seed: UInt64) throws(ConfigurationFileError) -> A2CAgent {
        var settings = a2cConfiguration
        if let hyperparameters { try ConfigurationFile.load(text: hyperparameters.text, origin: hyperparameters.origin, into: &settings) }
        return A2CAgent(observationDimension: observationDimension,
                        choices: [configuration.difficultyLevels, ContentType.allCases.count], environments: learners,
                        configuration: settings, seed: seed)
    }
}
