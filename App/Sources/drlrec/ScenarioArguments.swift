import DRLNN
import DRLScenarios
import ArgumentParser

extension Scenario: @retroactive ExpressibleByArgument {}
extension SequenceStateEncoder.Configuration.SequenceModel: @retroactive ExpressibleByArgument {}

/// A recipe's refusal as a usage error: a settings file's under the option that named it.
func commandLineMessage(_ error: ScenarioError) -> String {
    if case .configuration = error { return "--config \(error)" }
    return "\(error)"
}
