import DRLAgents
import DRLTensor

extension Action {
    /// The tensor of a `.continuous` action, for tests of box-action agents (which act through
    /// `act(_:mode:)` like every agent); any other action stops the test.
    var values: Tensor {
        guard case .continuous(let values) = self else { preconditionFailure("expected a .continuous action, got \(self)") }
        return values
    }
}
