import DRLAgents
import DRLSimulation

/// The education scenario as `drlrec train` and `drlrec abtest` build it.
enum EducationSetup {
    static let defaultCheckpoint = ".drlrec/education.safetensors"
    static let defaultSteps = 2_000_000
    static let copies = 8

    /// The two-path actor-critic: A2C over 8 learners at once with a difficulty head and a
    /// content-type head on one trunk; γ = 0.97 and an entropy bonus of 0.01 (so that both heads
    /// keep exploring while mastery builds up).
    static func agent(observationDimension: Int, configuration: EducationConfiguration, seed: UInt64) -> A2CAgent {
        var settings = A2CConfiguration()
        settings.gamma = 0.97
        settings.entropyCoefficient = 0.01
        return A2CAgent(observationDimension: observationDimension,
                        choices: [configuration.difficultyLevels, ContentType.allCases.count], environments: copies,
                        configuration: settings, seed: seed)
    }
}
