import DRLNN
import DRLScenarios
import ArgumentParser

extension Scenario: @retroactive ExpressibleByArgument {}
extension SequenceStateEncoder.Configuration.SequenceModel: @retroactive ExpressibleByArgument {}

/// A recipe's refusal as the command's error: a usage error when the command line alone is wrong
/// (a policy on the wrong scenario, a malformed tutor setting, learners the tutors are tuned on), a
/// failure otherwise, with a settings file's under the option that named it.
func commandLineError(_ error: ScenarioError) -> any Error {
    switch error {
    case .needsEcommerce, .tutorSettings, .populationOverlapsTuning: ValidationError("\(error)")
    case .configuration: CommandFailure("--config \(error)")
    default: CommandFailure("\(error)")
    }
}
