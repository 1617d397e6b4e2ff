import DRLAgents
import DRLSimulation

/// The education scenario's tutor as `drlrec train` builds it: the two-path actor-critic, A2C
/// over `learners` learners at once with a difficulty head and a content-type head on one trunk;
/// γ = 0.97 and an entropy bonus of 0.01 (so that both heads keep exploring while mastery builds up).
public enum Tutor {
    /// The agent kind a tutor checkpoint holds.
    public static let kind = "a2c"
    /// Learners trained at once.
    public static let learners = 8

    public static func agent(observationDimension: Int, configuration: EducationConfiguration, seed: UInt64) -> A2CAgent {
        var settings = A2CConfiguration()
        settings.gamma = 0.97
        settings.entropyCoefficient = 0.01
        return A2CAgent(observationDimension: observationDimension,
                        choices: [configuration.difficultyLevels, ContentType.allCases.count], environments: learners,
                        configuration: settings, seed: seed)
    }
}
